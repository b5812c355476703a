// The legacy Rekor bundle annotation (capitalised names, logID hex, a SET verifiable over the
// JCS of its Payload), layer annotations, tlog entries from protojson, the Rekor request bodies,
// and cosign v3's Sigstore-bundle referrer manifest against its golden file.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { test } from 'node:test';

import { MediaType, sha256 } from '../../src/image/index.js';
import {
  bundleReferrer, COSIGN_SIGN_PREDICATE_TYPE, cosignLayerAnnotations, dsseRekorRequest, EMPTY_DESCRIPTOR, hashedRekordRequest, parseRekorBundleAnnotation,
  rekorBundleAnnotation, rekorBundleOf, rekorSetPayload, SignatureFormatError, sigstoreBundleVersion, SLSA_PROVENANCE_V1, tlogEntryFromProtoJson, type FormatProblem,
} from '../../src/supplychain/index.js';
import { matchGolden } from '../support/golden.js';
import { CERT_SIGNATURE, CERTIFICATE_PEM, CHAIN_PEM, IMAGE_DIGEST, KEY_SIGNATURE, PUBLIC_KEY_PEM, TLOG_ENTRY } from './fixtures.js';

test('the bundle annotation: SignedEntryTimestamp and Payload{body, integratedTime, logIndex, logID} exactly', () => {
  const text = rekorBundleAnnotation(TLOG_ENTRY);
  assert.equal(
    text,
    `{"SignedEntryTimestamp":"${TLOG_ENTRY.signedEntryTimestamp.toString('base64')}","Payload":{"body":"${TLOG_ENTRY.canonicalizedBody.toString('base64')}",` +
      `"integratedTime":1764151200,"logIndex":123456789,"logID":"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"}}`,
  );
  assert.deepEqual(parseRekorBundleAnnotation({ text, what: 'layer 0' }), rekorBundleOf(TLOG_ENTRY));
});

test('a SET over the JCS of Payload (members sorted: body, integratedTime, logID, logIndex) verifies', () => {
  const rekor = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payload = rekorBundleOf(TLOG_ENTRY).payload;
  const canonical = rekorSetPayload(payload);
  assert.equal(canonical.toString(), `{"body":"${payload.body}","integratedTime":1764151200,"logID":"${payload.logId}","logIndex":123456789}`);
  const logId = createHash('sha256').update(rekor.publicKey.export({ type: 'spki', format: 'der' })).digest();
  const entry = { ...TLOG_ENTRY, logId, signedEntryTimestamp: sign('sha256', rekorSetPayload({ ...payload, logId: logId.toString('hex') }), rekor.privateKey) };
  const parsed = parseRekorBundleAnnotation({ text: rekorBundleAnnotation(entry), what: 'layer 0' });
  assert.equal(verify('sha256', rekorSetPayload(parsed.payload), rekor.publicKey, parsed.signedEntryTimestamp), true);
  assert.equal(verify('sha256', rekorSetPayload({ ...parsed.payload, logIndex: parsed.payload.logIndex + 1 }), rekor.publicKey, parsed.signedEntryTimestamp), false);
});

test('the bundle annotation parser names each problem', () => {
  const good = JSON.parse(rekorBundleAnnotation(TLOG_ENTRY)) as { SignedEntryTimestamp: string; Payload: Record<string, unknown> };
  const cases: [string, FormatProblem][] = [
    ['{', 'not-json'],
    ['[]', 'not-object'],
    [JSON.stringify({ ...good, SignedEntryTimestamp: undefined }), 'rekor-bundle-set'],
    [JSON.stringify({ ...good, SignedEntryTimestamp: 'not base64!' }), 'rekor-bundle-set'],
    [JSON.stringify({ signedEntryTimestamp: good.SignedEntryTimestamp, Payload: good.Payload }), 'rekor-bundle-set'],
    [JSON.stringify({ ...good, Payload: undefined }), 'rekor-bundle-payload'],
    [JSON.stringify({ ...good, Payload: { ...good.Payload, logID: 'C0D2' } }), 'rekor-bundle-payload'],
    [JSON.stringify({ ...good, Payload: { ...good.Payload, logIndex: '123' } }), 'rekor-bundle-payload'],
    [JSON.stringify({ ...good, Payload: { ...good.Payload, body: '%%' } }), 'rekor-bundle-payload'],
  ];
  for (const [text, problem] of cases) {
    assert.throws(() => parseRekorBundleAnnotation({ text, what: 'layer 0' }), (error: unknown) => error instanceof SignatureFormatError && error.problem === problem, `${text} → ${problem}`);
  }
});

test('layer annotations: certificate and chain with a certificate identity, the RFC 3161 timestamp, sorted keys', () => {
  const annotations = cosignLayerAnnotations({ signature: CERT_SIGNATURE, layer: { kind: 'signature' }, tlogEntry: TLOG_ENTRY, rfc3161Timestamp: Buffer.from([1, 2, 3]) });
  assert.deepEqual(annotations, {
    'dev.cosignproject.cosign/signature': CERT_SIGNATURE.signature.toString('base64'),
    'dev.sigstore.cosign/bundle': rekorBundleAnnotation(TLOG_ENTRY),
    'dev.sigstore.cosign/certificate': CERTIFICATE_PEM,
    'dev.sigstore.cosign/chain': CHAIN_PEM,
    'dev.sigstore.cosign/rfc3161timestamp': '{"SignedRFC3161Timestamp":"AQID"}',
  });
  assert.deepEqual(Object.keys(annotations), Object.keys(annotations).sort());
  const chainless = cosignLayerAnnotations({ signature: { ...CERT_SIGNATURE, identity: { kind: 'certificate', certificatePem: CERTIFICATE_PEM, chainPem: '' } }, layer: { kind: 'signature' } });
  assert.equal(chainless['dev.sigstore.cosign/chain'], '');
  assert.deepEqual(cosignLayerAnnotations({ signature: KEY_SIGNATURE, layer: { kind: 'attestation', predicateType: SLSA_PROVENANCE_V1 } }), {
    'dev.cosignproject.cosign/signature': '',
    predicateType: SLSA_PROVENANCE_V1,
  });
});

test('tlog entries from a bundle\'s protojson: int64 strings, base64 bytes, the inclusion proof', () => {
  const json = {
    logIndex: '123456789',
    logId: { keyId: TLOG_ENTRY.logId.toString('base64') },
    kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
    integratedTime: '1764151200',
    inclusionPromise: { signedEntryTimestamp: TLOG_ENTRY.signedEntryTimestamp.toString('base64') },
    inclusionProof: { logIndex: '99', rootHash: 'AAEC', treeSize: '100', hashes: ['AwQ=', 'BQY='], checkpoint: { envelope: 'rekor.sigstore.dev - 1\n100\nAAEC\n' } },
    canonicalizedBody: TLOG_ENTRY.canonicalizedBody.toString('base64'),
  };
  const entry = tlogEntryFromProtoJson({ value: json, what: 'bundle' });
  assert.deepEqual(entry, {
    ...TLOG_ENTRY,
    inclusionProof: { logIndex: 99, rootHash: Buffer.from([0, 1, 2]), treeSize: 100, hashes: [Buffer.from([3, 4]), Buffer.from([5, 6])], checkpoint: 'rekor.sigstore.dev - 1\n100\nAAEC\n' },
  });
  assert.equal(JSON.parse(rekorBundleAnnotation(entry)).Payload.logID, TLOG_ENTRY.logId.toString('hex'));
  assert.throws(() => tlogEntryFromProtoJson({ value: { ...json, inclusionPromise: undefined }, what: 'b' }), (error: unknown) => error instanceof SignatureFormatError && error.problem === 'rekor-bundle-set');
  assert.throws(() => tlogEntryFromProtoJson({ value: { ...json, logIndex: '-1' }, what: 'b' }), (error: unknown) => error instanceof SignatureFormatError && error.problem === 'rekor-bundle-payload');
  assert.throws(() => tlogEntryFromProtoJson({ value: { ...json, kindVersion: { kind: 'intoto' } }, what: 'b' }), /neither hashedrekord nor dsse/);
});

test('Rekor request bodies: hashedrekord v0.0.1 for .sig, dsse v0.0.1 for .att', () => {
  const payload = Buffer.from('{"critical":{}}');
  assert.deepEqual(JSON.parse(hashedRekordRequest({ payload, signature: KEY_SIGNATURE }).toString()), {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') } },
      signature: { content: KEY_SIGNATURE.signature.toString('base64'), publicKey: { content: Buffer.from(PUBLIC_KEY_PEM).toString('base64') } },
    },
  });
  const keyed = JSON.parse(hashedRekordRequest({ payload, signature: CERT_SIGNATURE }).toString()) as { spec: { signature: { publicKey: { content: string } } } };
  assert.equal(Buffer.from(keyed.spec.signature.publicKey.content, 'base64').toString(), CERTIFICATE_PEM);
  const envelope = Buffer.from('{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"MEUC"}]}');
  const body = JSON.parse(dsseRekorRequest({ envelope, identity: KEY_SIGNATURE.identity }).toString()) as { spec: { proposedContent: { envelope: string; verifiers: string[] } } };
  assert.deepEqual(body, { apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope: envelope.toString(), verifiers: [Buffer.from(PUBLIC_KEY_PEM).toString('base64')] } } });
  // Rekor's envelopeHash is sha256 of this string; cosign compares it with the .att layer digest.
  assert.equal(sha256(Buffer.from(body.spec.proposedContent.envelope)), sha256(envelope));
});

test('the cosign v3 bundle referrer manifest, against its golden file and the spec', () => {
  const bundle = Buffer.from('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
  const subject = { mediaType: MediaType.ociIndex, digest: IMAGE_DIGEST, size: 1234 };
  const referrer = bundleReferrer({ bundle, subject, predicateType: COSIGN_SIGN_PREDICATE_TYPE, created: new Date('2026-11-26T10:00:00.789Z') });
  matchGolden({ area: 'supplychain', name: 'bundle-referrer-manifest.json', actual: referrer.bytes });
  assert.equal(referrer.digest, sha256(referrer.bytes));
  const manifest = JSON.parse(referrer.bytes.toString()) as Record<string, unknown>;
  assert.equal(manifest['schemaVersion'], 2);
  assert.equal(manifest['mediaType'], 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(manifest['artifactType'], 'application/vnd.dev.sigstore.bundle.v0.3+json');
  assert.deepEqual(manifest['config'], {
    mediaType: 'application/vnd.oci.empty.v1+json',
    size: 2,
    digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  });
  assert.deepEqual(EMPTY_DESCRIPTOR, { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 });
  assert.deepEqual(manifest['layers'], [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', size: bundle.length, digest: sha256(bundle) }]);
  assert.deepEqual(manifest['subject'], { mediaType: MediaType.ociIndex, size: 1234, digest: IMAGE_DIGEST });
  assert.deepEqual(manifest['annotations'], {
    'dev.sigstore.bundle.content': 'dsse-envelope',
    'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1',
    'org.opencontainers.image.created': '2026-11-26T10:00:00Z',
  });
  assert.deepEqual(referrer.descriptor, { mediaType: MediaType.ociManifest, digest: referrer.digest, size: referrer.bytes.length, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', annotations: manifest['annotations'] });
});

test('bundle media types: v0.3 and the legacy version= forms', () => {
  assert.equal(sigstoreBundleVersion('application/vnd.dev.sigstore.bundle.v0.3+json'), '0.3');
  assert.equal(sigstoreBundleVersion('application/vnd.dev.sigstore.bundle+json;version=0.2'), '0.2');
  assert.equal(sigstoreBundleVersion('application/vnd.dev.cosign.simplesigning.v1+json'), undefined);
});
