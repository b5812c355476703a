// cosign's .sig and .att images: tags, manifests and configs against golden files and the spec
// field by field, dedupe-and-append, attestations never deduplicated, --replace, the layer limit.
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { test } from 'node:test';

import { CaissonError } from '../../src/errors.js';
import { MediaType, parseManifest, sha256, type Descriptor, type Digest, type ImageManifest } from '../../src/image/index.js';
import {
  appendCosignLayer, buildCosignImage, cosignLayer, cosignLayerAnnotations, cosignTag, DSSE_ENVELOPE_MEDIA_TYPE, dockerReferenceOf, IN_TOTO_PAYLOAD_TYPE,
  MAX_COSIGN_LAYERS, serializeEnvelope, SIMPLE_SIGNING_MEDIA_TYPE, simpleSigningPayload, SLSA_PROVENANCE_V1, SignatureFormatError, type CosignImage,
} from '../../src/supplychain/index.js';
import { matchGolden } from '../support/golden.js';
import { CERT_SIGNATURE, IMAGE_DIGEST, KEY_SIGNATURE, TLOG_ENTRY } from './fixtures.js';
import { p256Key } from './support.js';

const PAYLOAD = simpleSigningPayload({ dockerReference: dockerReferenceOf({ registry: 'ghcr.io', repository: 'org/app' }), digest: IMAGE_DIGEST });

function signatureLayer(signature = KEY_SIGNATURE, withTlog = true): Descriptor {
  return cosignLayer({
    mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
    blob: PAYLOAD,
    annotations: cosignLayerAnnotations({ signature, layer: { kind: 'signature' }, ...(withTlog ? { tlogEntry: TLOG_ENTRY } : {}) }),
  });
}

const ENVELOPE = serializeEnvelope({ payloadType: IN_TOTO_PAYLOAD_TYPE, payload: Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}'), signatures: [{ sig: KEY_SIGNATURE.signature }] });

function attestationLayer(predicateType = SLSA_PROVENANCE_V1, blob = ENVELOPE): Descriptor {
  return cosignLayer({ mediaType: DSSE_ENVELOPE_MEDIA_TYPE, blob, annotations: cosignLayerAnnotations({ signature: KEY_SIGNATURE, layer: { kind: 'attestation', predicateType } }) });
}

function existing(image: CosignImage): { manifest: ImageManifest; configBytes: Buffer; what: string } {
  return { manifest: JSON.parse(image.manifestBytes.toString()) as ImageManifest, configBytes: image.configBytes, what: 'ghcr.io/org/app:sha256-5e.sig' };
}

test('tags: sha256-<hex>.sig, .att, .sbom', () => {
  assert.equal(cosignTag({ digest: IMAGE_DIGEST, kind: 'sig' }), `sha256-${'5e'.repeat(32)}.sig`);
  assert.equal(cosignTag({ digest: IMAGE_DIGEST, kind: 'att' }), `sha256-${'5e'.repeat(32)}.att`);
  assert.equal(cosignTag({ digest: `sha512:${'a'.repeat(128)}` as Digest, kind: 'sbom' }), `sha512-${'a'.repeat(128)}.sbom`);
});

test('the .sig image: the spec\'s manifest shape and ggcr\'s empty config, against golden files', () => {
  const image = buildCosignImage({ layers: [signatureLayer()] });
  matchGolden({ area: 'supplychain', name: 'sig-manifest.json', actual: image.manifestBytes });
  matchGolden({ area: 'supplychain', name: 'sig-config.json', actual: image.configBytes });
  const manifest = JSON.parse(image.manifestBytes.toString()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(manifest), ['schemaVersion', 'mediaType', 'config', 'layers']);
  assert.equal(manifest['schemaVersion'], 2);
  assert.equal(manifest['mediaType'], 'application/vnd.oci.image.manifest.v1+json');
  assert.deepEqual(manifest['config'], { mediaType: 'application/vnd.oci.image.config.v1+json', size: image.configBytes.length, digest: sha256(image.configBytes) });
  const [layer, ...more] = manifest['layers'] as Record<string, unknown>[];
  assert.equal(more.length, 0);
  assert.equal(layer?.['mediaType'], 'application/vnd.dev.cosign.simplesigning.v1+json');
  assert.equal(layer?.['size'], PAYLOAD.length);
  assert.equal(layer?.['digest'], sha256(PAYLOAD));
  const annotations = layer?.['annotations'] as Record<string, string>;
  assert.deepEqual(Object.keys(annotations), ['dev.cosignproject.cosign/signature', 'dev.sigstore.cosign/bundle']);
  assert.equal(annotations['dev.cosignproject.cosign/signature'], KEY_SIGNATURE.signature.toString('base64'));
  assert.deepEqual(JSON.parse(image.configBytes.toString()), {
    architecture: '',
    created: '0001-01-01T00:00:00Z',
    history: [{ created: '0001-01-01T00:00:00Z' }],
    os: '',
    rootfs: { type: 'layers', diff_ids: [sha256(PAYLOAD)] },
    config: {},
  });
  assert.equal(image.manifestDigest, sha256(image.manifestBytes));
});

test('Docker media types on request, and created recorded only when given', () => {
  const image = buildCosignImage({ layers: [signatureLayer()], format: 'docker', created: new Date('2026-11-26T10:00:00.120Z') });
  assert.equal(image.manifest.mediaType, MediaType.dockerManifest);
  assert.equal(image.manifest.config.mediaType, MediaType.dockerConfig);
  assert.equal(image.config.created, '2026-11-26T10:00:00.12Z');
  assert.equal(image.config.history[0]?.created, '0001-01-01T00:00:00Z');
});

test('appending a certificate signature: a layer, a diff_id and a history entry more; golden files', () => {
  const first = buildCosignImage({ layers: [signatureLayer()] });
  const result = appendCosignLayer({ existing: existing(first), layer: signatureLayer(CERT_SIGNATURE), kind: { kind: 'signature', verifies: () => false } });
  assert.equal(result.kind, 'appended');
  if (result.kind !== 'appended') return;
  matchGolden({ area: 'supplychain', name: 'sig-appended-manifest.json', actual: result.image.manifestBytes });
  matchGolden({ area: 'supplychain', name: 'sig-appended-config.json', actual: result.image.configBytes });
  const layers = result.image.manifest.layers;
  assert.equal(layers.length, 2);
  assert.deepEqual(layers[0], first.manifest.layers[0]);
  assert.deepEqual(Object.keys(layers[1]?.annotations ?? {}), ['dev.cosignproject.cosign/signature', 'dev.sigstore.cosign/bundle', 'dev.sigstore.cosign/certificate', 'dev.sigstore.cosign/chain']);
  assert.deepEqual(result.image.config.rootfs.diff_ids, [sha256(PAYLOAD), sha256(PAYLOAD)]);
  assert.equal(result.image.config.history.length, 2);
});

test('dedupe: same digest, media type, other annotations and a verifying signature → duplicate', () => {
  const first = buildCosignImage({ layers: [signatureLayer()] });
  const calls: Descriptor[] = [];
  const again = appendCosignLayer({ existing: existing(first), layer: signatureLayer(), kind: { kind: 'signature', verifies: (layer) => (calls.push(layer), true) } });
  assert.deepEqual(again, { kind: 'duplicate', existing: first.manifest.layers[0] });
  assert.equal(calls.length, 1);
  // A fresh ECDSA signature (other bytes) over the same payload by the same key is a duplicate too.
  const resigned = cosignLayer({
    mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
    blob: PAYLOAD,
    annotations: cosignLayerAnnotations({ signature: { ...KEY_SIGNATURE, signature: Buffer.from('other') }, layer: { kind: 'signature' }, tlogEntry: TLOG_ENTRY }),
  });
  assert.equal(appendCosignLayer({ existing: existing(first), layer: resigned, kind: { kind: 'signature', verifies: () => true } }).kind, 'duplicate');
});

test('dedupe: not a duplicate when the signature does not verify, annotations differ, or the payload differs', () => {
  const first = buildCosignImage({ layers: [signatureLayer()] });
  const verifies = (): boolean => true;
  assert.equal(appendCosignLayer({ existing: existing(first), layer: signatureLayer(), kind: { kind: 'signature', verifies: () => false } }).kind, 'appended');
  // The new layer carries a certificate the existing one lacks.
  assert.equal(appendCosignLayer({ existing: existing(first), layer: signatureLayer(CERT_SIGNATURE), kind: { kind: 'signature', verifies } }).kind, 'appended');
  const otherPayload = cosignLayer({ mediaType: SIMPLE_SIGNING_MEDIA_TYPE, blob: Buffer.concat([PAYLOAD, Buffer.from('\n')]), annotations: signatureLayer().annotations ?? {} });
  assert.equal(appendCosignLayer({ existing: existing(first), layer: otherPayload, kind: { kind: 'signature', verifies } }).kind, 'appended');
  // An existing layer with an extra annotation (the bundle) still matches a new layer without it: only the new layer's annotations must be present.
  assert.equal(appendCosignLayer({ existing: existing(first), layer: signatureLayer(KEY_SIGNATURE, false), kind: { kind: 'signature', verifies } }).kind, 'duplicate');
  // An existing layer with an empty signature is never a duplicate.
  const unsigned = buildCosignImage({ layers: [{ ...signatureLayer(), annotations: { 'dev.cosignproject.cosign/signature': '' } }] });
  assert.equal(appendCosignLayer({ existing: existing(unsigned), layer: signatureLayer(KEY_SIGNATURE, false), kind: { kind: 'signature', verifies } }).kind, 'appended');
});

test('no .sig yet (404): a new image with the one layer', () => {
  const result = appendCosignLayer({ layer: signatureLayer(), kind: { kind: 'signature', verifies: () => true } });
  assert.equal(result.kind, 'appended');
  if (result.kind === 'appended') assert.deepEqual(result.image.manifestBytes, buildCosignImage({ layers: [signatureLayer()] }).manifestBytes);
});

test('the .att image: DSSE layers with predicateType, never deduplicated; golden files', () => {
  const first = appendCosignLayer({ layer: attestationLayer(), kind: { kind: 'attestation' } });
  assert.equal(first.kind, 'appended');
  if (first.kind !== 'appended') return;
  matchGolden({ area: 'supplychain', name: 'att-manifest.json', actual: first.image.manifestBytes });
  matchGolden({ area: 'supplychain', name: 'att-config.json', actual: first.image.configBytes });
  const layer = first.image.manifest.layers[0];
  assert.equal(layer?.mediaType, 'application/vnd.dsse.envelope.v1+json');
  assert.equal(layer?.digest, sha256(ENVELOPE));
  assert.deepEqual(layer?.annotations, { 'dev.cosignproject.cosign/signature': '', predicateType: 'https://slsa.dev/provenance/v1' });
  const second = appendCosignLayer({ existing: existing(first.image), layer: attestationLayer(), kind: { kind: 'attestation' } });
  assert.equal(second.kind, 'appended');
  if (second.kind === 'appended') assert.equal(second.image.manifest.layers.length, 2);
});

test('--replace drops earlier attestations of the same predicateType and keeps the others', () => {
  const sbom = attestationLayer('https://spdx.dev/Document', Buffer.from('{"sbom":1}'));
  const start = buildCosignImage({ layers: [attestationLayer(), sbom, attestationLayer(SLSA_PROVENANCE_V1, Buffer.from('{"old":2}'))] });
  const fresh = attestationLayer(SLSA_PROVENANCE_V1, Buffer.from('{"new":3}'));
  const result = appendCosignLayer({ existing: existing(start), layer: fresh, kind: { kind: 'attestation', replace: true } });
  assert.equal(result.kind, 'appended');
  if (result.kind !== 'appended') return;
  assert.deepEqual(result.image.manifest.layers, [sbom, fresh]);
  assert.deepEqual(result.image.config.rootfs.diff_ids, [sbom.digest, fresh.digest]);
  assert.equal(result.image.config.history.length, 2);
});

test(`the ${MAX_COSIGN_LAYERS}-layer limit is ERR_SIGNING`, () => {
  const layers = Array.from({ length: MAX_COSIGN_LAYERS }, (_, i) => cosignLayer({ mediaType: SIMPLE_SIGNING_MEDIA_TYPE, blob: Buffer.from(String(i)), annotations: { 'dev.cosignproject.cosign/signature': 'c2ln' } }));
  const full = buildCosignImage({ layers });
  assert.equal(full.manifest.layers.length, MAX_COSIGN_LAYERS);
  assert.throws(
    () => appendCosignLayer({ existing: existing(full), layer: signatureLayer(), kind: { kind: 'signature', verifies: () => false } }),
    (error: unknown) => error instanceof CaissonError && error.code === 'ERR_SIGNING' && /1001 layers; cosign allows at most 1000/.test(error.message),
  );
  assert.throws(() => buildCosignImage({ layers: [...layers, signatureLayer()] }), (error: unknown) => error instanceof CaissonError && error.code === 'ERR_SIGNING');
});

test('an existing config without rootfs.diff_ids is cosign-config', () => {
  const image = buildCosignImage({ layers: [signatureLayer()] });
  assert.throws(
    () => appendCosignLayer({ existing: { ...existing(image), configBytes: Buffer.from('{"rootfs":{"diff_ids":"x"}}') }, layer: signatureLayer(CERT_SIGNATURE), kind: { kind: 'signature', verifies: () => false } }),
    (error: unknown) => error instanceof SignatureFormatError && error.problem === 'cosign-config' && error.message.startsWith('ghcr.io/org/app:sha256-5e.sig: '),
  );
});

test('an existing docker-format .sig keeps its media types; unknown config fields are dropped as Go drops them', () => {
  const image = buildCosignImage({ layers: [signatureLayer()], format: 'docker' });
  const config = Buffer.from(JSON.stringify({ ...JSON.parse(image.configBytes.toString()), created: '2025-01-01T00:00:00Z', extra: 1, architecture: 'amd64' }));
  const result = appendCosignLayer({ existing: { ...existing(image), configBytes: config }, layer: signatureLayer(CERT_SIGNATURE), kind: { kind: 'signature', verifies: () => false } });
  assert.equal(result.kind, 'appended');
  if (result.kind !== 'appended') return;
  assert.equal(result.image.manifest.mediaType, MediaType.dockerManifest);
  assert.equal(result.image.manifest.config.mediaType, MediaType.dockerConfig);
  const written = JSON.parse(result.image.configBytes.toString()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(written), ['architecture', 'created', 'history', 'os', 'rootfs', 'config']);
  assert.equal(written['created'], '2025-01-01T00:00:00Z');
  assert.equal(written['architecture'], 'amd64');
});

test('dedupe with real signatures: a re-signature by the same key is a duplicate, by another key it is appended', async () => {
  const key = p256Key();
  const other = p256Key();
  const layerFor = async (signer: typeof key.signer): Promise<Descriptor> =>
    cosignLayer({ mediaType: SIMPLE_SIGNING_MEDIA_TYPE, blob: PAYLOAD, annotations: cosignLayerAnnotations({ signature: await signer.sign(PAYLOAD), layer: { kind: 'signature' } }) });
  const verifiesWith = (pem: string) => (layer: Descriptor): boolean =>
    verify('sha256', PAYLOAD, createPublicKey(pem), Buffer.from(layer.annotations?.['dev.cosignproject.cosign/signature'] ?? '', 'base64'));
  const first = buildCosignImage({ layers: [await layerFor(key.signer)] });
  const again = await layerFor(key.signer);
  assert.notDeepEqual(again.annotations, first.manifest.layers[0]?.annotations, 'ECDSA signatures differ each time');
  assert.equal(appendCosignLayer({ existing: existing(first), layer: again, kind: { kind: 'signature', verifies: verifiesWith(key.publicKeyPem) } }).kind, 'duplicate');
  const theirs = await layerFor(other.signer);
  const result = appendCosignLayer({ existing: existing(first), layer: theirs, kind: { kind: 'signature', verifies: verifiesWith(other.publicKeyPem) } });
  assert.equal(result.kind, 'appended');
  if (result.kind === 'appended') {
    const parsed = parseManifest({ bytes: result.image.manifestBytes, mediaType: MediaType.ociManifest, what: 'sig' });
    assert.equal(parsed.kind, 'manifest');
    if (parsed.kind === 'manifest') assert.deepEqual(parsed.manifest.layers.map((layer) => layer.digest), [sha256(PAYLOAD), sha256(PAYLOAD)]);
  }
});
