// signImage / attestImage against Debian's real docker-registry (distribution 2.8, no referrers
// API): the .sig/.att images read back with `skopeo inspect --raw`, blobs fetched over plain HTTP
// by the test itself, signatures checked with `openssl dgst` (the DSSE PAE rebuilt here), cosign's
// dedupe and --replace, keyless + Rekor against the Sigstore mocks (SET checked), and cosign v3
// bundle referrers with their fallback tag index, the bundles validated by @sigstore/bundle.
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { CaissonError } from '../../src/errors.js';
import { digestHex, type Digest } from '../../src/image/index.js';
import type { RegistrySession } from '../../src/registry/index.js';
import {
  attestImage, buildStatement, identityTokenSource, imageSubject, KeylessSigner, parseRekorBundleAnnotation, RekorClient, serializeStatement, signImage,
  verifySet, type Statement, type TlogEntry,
} from '../../src/supplychain/index.js';
import type { RunningRegistry } from '../support/registry.js';
import { fakeIdentityToken, startSigstoreMock, type SigstoreMock } from '../support/sigstore-mock.js';
import { missingTool, runTool } from '../support/tools.js';
import { startPublishFixture, type PublishFixture } from './publish-fixture.js';
import { opensslVerifies, p256Key, type TestKey } from './support.js';

const missing = missingTool('docker-registry', 'docker-registry') ?? missingTool('skopeo', 'skopeo') ?? missingTool('openssl', 'openssl');
const SLSA = 'https://slsa.dev/provenance/v1';
const CUSTOM = 'https://cosign.sigstore.dev/attestation/v1';

interface Manifest {
  readonly mediaType: string;
  readonly artifactType?: string;
  readonly config: { readonly mediaType: string; readonly digest: string; readonly size: number };
  readonly layers: readonly { readonly mediaType: string; readonly digest: string; readonly size: number; readonly annotations?: Record<string, string> }[];
  readonly subject?: { readonly digest: string };
  readonly annotations?: Record<string, string>;
  readonly manifests?: readonly { readonly digest: string; readonly artifactType?: string; readonly annotations?: Record<string, string> }[];
}

describe('publishing signatures and attestations to a registry', { skip: missing }, () => {
  let fixture: PublishFixture;
  let registry: RunningRegistry;
  let session: RegistrySession;
  let mock: SigstoreMock;

  before(async () => {
    fixture = await startPublishFixture();
    ({ registry, session } = fixture);
    mock = await startSigstoreMock();
  });
  after(async () => {
    await mock?.close();
    await fixture?.close();
  });

  const pushImage = (repo: string): ReturnType<PublishFixture['pushImage']> => fixture.pushImage(repo);

  function raw(reference: string): Manifest {
    return JSON.parse(runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reference}`])) as Manifest;
  }

  async function blob(repo: string, digest: string): Promise<Buffer> {
    const response = await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`);
    assert.equal(response.status, 200);
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.equal(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, digest);
    return bytes;
  }

  function pae(payloadType: string, payload: Buffer): Buffer {
    return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `), payload]);
  }

  function statementFor(image: { readonly name: string; readonly digest: Digest }, predicateType: string): Statement {
    return buildStatement({ subjects: [imageSubject({ digest: image.digest, name: image.name })], predicateType, predicate: { builder: { id: 'https://example.com/builder' } } });
  }

  function keylessSigner(): KeylessSigner {
    const token = fakeIdentityToken({ iss: 'https://issuer.example', sub: 'https://example.com/ci' });
    return new KeylessSigner({ fulcioURL: mock.fulcioURL, tokenSource: identityTokenSource({ env: { SIGSTORE_ID_TOKEN: token } }) });
  }

  test('keyed .sig without tlog: the layer, its payload and signature (openssl); same key dedupes, another key appends', async () => {
    const target = await pushImage('sc/sig');
    const [first, second] = [p256Key(), p256Key()] as [TestKey, TestKey];
    const published = await signImage({ ...target, signer: first.signer, format: 'legacy' });
    const tag = `sha256-${digestHex(target.image.digest)}.sig`;
    assert.equal(published.reference, `${registry.host}/sc/sig:${tag}`);
    const manifest = raw(published.reference);
    assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(manifest.layers.length, 1);
    const layer = manifest.layers[0];
    assert.ok(layer !== undefined);
    assert.equal(layer.mediaType, 'application/vnd.dev.cosign.simplesigning.v1+json');
    assert.deepEqual(Object.keys(layer.annotations ?? {}), ['dev.cosignproject.cosign/signature']);
    const payload = await blob('sc/sig', layer.digest);
    assert.equal(
      payload.toString(),
      `{"critical":{"identity":{"docker-reference":"${registry.host}/sc/sig"},"image":{"docker-manifest-digest":"${target.image.digest}"},"type":"cosign container image signature"},"optional":null}`,
    );
    const signature = Buffer.from(layer.annotations?.['dev.cosignproject.cosign/signature'] ?? '', 'base64');
    assert.ok(opensslVerifies({ publicKeyPem: first.publicKeyPem, signature, data: payload }));
    assert.equal(published.digest, `sha256:${createHash('sha256').update(runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${published.reference}`])).digest('hex')}`);

    const again = await signImage({ ...target, signer: first.signer, format: 'legacy' });
    assert.deepEqual(again, published);
    assert.equal(raw(published.reference).layers.length, 1);

    const other = await signImage({ ...target, signer: second.signer, format: 'legacy' });
    assert.notEqual(other.digest, published.digest);
    const both = raw(other.reference);
    assert.equal(both.layers.length, 2);
    assert.equal(both.layers[1]?.digest, layer.digest, 'the same payload blob');
    const secondSignature = Buffer.from(both.layers[1]?.annotations?.['dev.cosignproject.cosign/signature'] ?? '', 'base64');
    assert.ok(opensslVerifies({ publicKeyPem: second.publicKeyPem, signature: secondSignature, data: payload }));
    assert.ok(!opensslVerifies({ publicKeyPem: first.publicKeyPem, signature: secondSignature, data: payload }));
    const config = JSON.parse((await blob('sc/sig', both.config.digest)).toString()) as { rootfs: { diff_ids: string[] }; history: unknown[] };
    assert.deepEqual(config.rootfs.diff_ids, [layer.digest, layer.digest]);
    assert.equal(config.history.length, 2);
  });

  test('.att: the envelope is the layer, its PAE signature verifies (openssl); attestations append; replace drops the same predicateType', async () => {
    const target = await pushImage('sc/att');
    const key = p256Key();
    const statement = statementFor(target.image, SLSA);
    const published = await attestImage({ ...target, signer: key.signer, format: 'legacy', statement });
    assert.equal(published.reference, `${registry.host}/sc/att:sha256-${digestHex(target.image.digest)}.att`);
    const manifest = raw(published.reference);
    const layer = manifest.layers[0];
    assert.ok(layer !== undefined && manifest.layers.length === 1);
    assert.equal(layer.mediaType, 'application/vnd.dsse.envelope.v1+json');
    assert.deepEqual(layer.annotations, { 'dev.cosignproject.cosign/signature': '', predicateType: SLSA });
    const envelope = JSON.parse((await blob('sc/att', layer.digest)).toString()) as { payload: string; payloadType: string; signatures: { sig: string; keyid?: string }[] };
    assert.equal(envelope.payloadType, 'application/vnd.in-toto+json');
    const body = Buffer.from(envelope.payload, 'base64');
    assert.deepEqual(body, serializeStatement(statement));
    assert.equal(envelope.signatures.length, 1);
    assert.ok(opensslVerifies({ publicKeyPem: key.publicKeyPem, signature: Buffer.from(envelope.signatures[0]?.sig ?? '', 'base64'), data: pae(envelope.payloadType, body) }));

    await attestImage({ ...target, signer: key.signer, format: 'legacy', statement: statementFor(target.image, CUSTOM) });
    await attestImage({ ...target, signer: key.signer, format: 'legacy', statement });
    assert.deepEqual(raw(published.reference).layers.map((entry) => entry.annotations?.['predicateType']), [SLSA, CUSTOM, SLSA], 'never deduplicated');
    const replaced = await attestImage({ ...target, signer: key.signer, format: 'legacy', statement, replace: true });
    const kept = raw(replaced.reference);
    assert.deepEqual(kept.layers.map((entry) => entry.annotations?.['predicateType']), [CUSTOM, SLSA]);
    assert.ok(!kept.layers.some((entry) => entry.digest === layer.digest), 'the first SLSA layer is gone');
    const config = JSON.parse((await blob('sc/att', kept.config.digest)).toString()) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(config.rootfs.diff_ids, kept.layers.map((entry) => entry.digest));

    await assert.rejects(
      attestImage({ ...target, signer: key.signer, format: 'legacy', statement: buildStatement({ subjects: [{ digest: { sha256: 'ab'.repeat(32) } }], predicateType: SLSA, predicate: {} }) }),
      (error: unknown) => error instanceof CaissonError && error.code === 'ERR_SIGNING' && /no subject with this digest/.test(error.message),
    );
  });

  test('keyless + Rekor: certificate, chain and bundle annotations; the SET verifies; the hashedrekord hash is sha256(payload)', async () => {
    const target = await pushImage('sc/keyless');
    const tlog = new RekorClient({ rekorURL: mock.rekorURL, publicKeyPem: mock.rekorPublicKeyPem });
    const published = await signImage({ ...target, signer: keylessSigner(), tlog, format: 'legacy', annotations: { env: 'test' } });
    const layer = raw(published.reference).layers[0];
    assert.ok(layer !== undefined);
    const annotations = layer.annotations ?? {};
    assert.deepEqual(Object.keys(annotations), ['dev.cosignproject.cosign/signature', 'dev.sigstore.cosign/bundle', 'dev.sigstore.cosign/certificate', 'dev.sigstore.cosign/chain']);
    assert.match(annotations['dev.sigstore.cosign/certificate'] ?? '', /^-----BEGIN CERTIFICATE-----/);
    assert.equal(typeof annotations['dev.sigstore.cosign/chain'], 'string');
    const payload = await blob('sc/keyless', layer.digest);
    assert.deepEqual((JSON.parse(payload.toString()) as { optional: unknown }).optional, { env: 'test' });
    const certificateKey = createPublicKey(annotations['dev.sigstore.cosign/certificate'] ?? '').export({ type: 'spki', format: 'pem' }).toString();
    const signature = Buffer.from(annotations['dev.cosignproject.cosign/signature'] ?? '', 'base64');
    assert.ok(opensslVerifies({ publicKeyPem: certificateKey, signature, data: payload }));

    const bundle = parseRekorBundleAnnotation({ text: annotations['dev.sigstore.cosign/bundle'] ?? '', what: 'test' });
    const entry: TlogEntry = {
      kind: 'hashedrekord',
      logIndex: bundle.payload.logIndex,
      integratedTime: bundle.payload.integratedTime,
      logId: Buffer.from(bundle.payload.logId, 'hex'),
      canonicalizedBody: Buffer.from(bundle.payload.body, 'base64'),
      signedEntryTimestamp: bundle.signedEntryTimestamp,
    };
    assert.ok(verifySet(entry, mock.rekorPublicKeyPem));
    assert.equal(bundle.payload.logId, mock.rekorLogId.toString('hex'));
    const body = JSON.parse(entry.canonicalizedBody.toString()) as { kind: string; spec: { data: { hash: { algorithm: string; value: string } }; signature: { content: string } } };
    assert.equal(body.kind, 'hashedrekord');
    assert.deepEqual(body.spec.data.hash, { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') });
    assert.equal(body.spec.signature.content, annotations['dev.cosignproject.cosign/signature']);

    // The .att's dsse entry logs exactly the layer's bytes.
    const attested = await attestImage({ ...target, signer: keylessSigner(), tlog, format: 'legacy', statement: statementFor(target.image, SLSA) });
    const attLayer = raw(attested.reference).layers[0];
    assert.ok(attLayer !== undefined);
    const attBundle = parseRekorBundleAnnotation({ text: attLayer.annotations?.['dev.sigstore.cosign/bundle'] ?? '', what: 'test' });
    const attBody = JSON.parse(Buffer.from(attBundle.payload.body, 'base64').toString()) as { kind: string; spec: { proposedContent: { envelope: string } } };
    assert.equal(attBody.kind, 'dsse');
    assert.deepEqual(Buffer.from(attBody.spec.proposedContent.envelope), await blob('sc/keyless', attLayer.digest));
    assert.equal(attLayer.annotations?.['dev.cosignproject.cosign/signature'], '');
  });

  test('bundle format: a referrer manifest by digest, the fallback sha256-<hex> index with annotations, bundles that @sigstore/bundle accepts', async () => {
    const target = await pushImage('sc/bundle');
    const key = p256Key();
    const signed = await signImage({ ...target, signer: key.signer, format: 'bundle', annotations: { env: 'test' } });
    assert.match(signed.reference, new RegExp(`^${registry.host.replace(/\./g, '\\.')}/sc/bundle@sha256:[0-9a-f]{64}$`));
    assert.equal(signed.reference.split('@')[1], signed.digest);
    const manifest = raw(signed.reference);
    assert.equal(manifest.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.equal(manifest.subject?.digest, target.image.digest);
    assert.deepEqual(
      { mediaType: manifest.config.mediaType, digest: manifest.config.digest, size: manifest.config.size },
      { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 },
    );
    assert.equal(manifest.layers.length, 1);
    assert.equal(manifest.layers[0]?.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.equal(manifest.annotations?.['dev.sigstore.bundle.predicateType'], 'https://sigstore.dev/cosign/sign/v1');
    assert.equal(manifest.annotations?.['dev.sigstore.bundle.content'], 'dsse-envelope');
    assert.deepEqual(await blob('sc/bundle', manifest.config.digest), Buffer.from('{}'));

    const bytes = await blob('sc/bundle', manifest.layers[0]?.digest ?? '');
    const json = JSON.parse(bytes.toString()) as {
      verificationMaterial: { publicKey?: { hint: string }; tlogEntries?: unknown[] };
      dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string }[] };
    };
    const parsed = bundleFromJSON(json);
    assert.equal(parsed.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const spki = createPublicKey(key.publicKeyPem).export({ type: 'spki', format: 'der' });
    assert.equal(json.verificationMaterial.publicKey?.hint, createHash('sha256').update(spki).digest('base64'));
    assert.equal(json.verificationMaterial.tlogEntries, undefined, 'no tlog, no entries (protojson omits empty lists)');
    const body = Buffer.from(json.dsseEnvelope.payload, 'base64');
    assert.deepEqual(JSON.parse(body.toString()), {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { sha256: digestHex(target.image.digest) }, annotations: { env: 'test' } }],
      predicateType: 'https://sigstore.dev/cosign/sign/v1',
      predicate: {},
    });
    assert.ok(opensslVerifies({ publicKeyPem: key.publicKeyPem, signature: Buffer.from(json.dsseEnvelope.signatures[0]?.sig ?? '', 'base64'), data: pae(json.dsseEnvelope.payloadType, body) }));

    // Keyless with Rekor, an attestation: certificate, tlog entry with inclusion proof.
    const tlog = new RekorClient({ rekorURL: mock.rekorURL, publicKeyPem: mock.rekorPublicKeyPem });
    const attested = await attestImage({ ...target, signer: keylessSigner(), tlog, format: 'bundle', statement: statementFor(target.image, SLSA) });
    const attManifest = raw(attested.reference);
    assert.equal(attManifest.annotations?.['dev.sigstore.bundle.predicateType'], SLSA);
    const attJson = JSON.parse((await blob('sc/bundle', attManifest.layers[0]?.digest ?? '')).toString()) as {
      verificationMaterial: { certificate?: { rawBytes: string }; tlogEntries: { logIndex: string; integratedTime: string; kindVersion: unknown; inclusionProof?: unknown; canonicalizedBody: string }[] };
    };
    const attBundle = bundleFromJSON(attJson);
    assert.equal(attBundle.verificationMaterial.content.$case, 'certificate');
    const tlogEntry = attJson.verificationMaterial.tlogEntries[0];
    assert.ok(tlogEntry !== undefined);
    assert.equal(typeof tlogEntry.logIndex, 'string');
    assert.equal(typeof tlogEntry.integratedTime, 'string');
    assert.deepEqual(tlogEntry.kindVersion, { kind: 'dsse', version: '0.0.1' });
    assert.ok(tlogEntry.inclusionProof !== undefined);

    // distribution 2.8 has no referrers API: the fallback tag lists both, with their annotations.
    const index = raw(`${registry.host}/sc/bundle:sha256-${digestHex(target.image.digest)}`);
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(index.manifests?.map((entry) => entry.digest), [signed.digest, attested.digest]);
    assert.equal(index.manifests?.[0]?.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.deepEqual(index.manifests?.[0]?.annotations, manifest.annotations);
  });

  test('a registry that cannot be reached: ERR_SIGNING naming the signature tag, nothing written', async () => {
    const key = p256Key();
    const repository = session.repository({ registry: '127.0.0.1:1', repository: 'gone/app' });
    const digest = `sha256:${'cd'.repeat(32)}` as Digest;
    await assert.rejects(
      signImage({ repository, image: { name: '127.0.0.1:1/gone/app', digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 100 }, signer: key.signer, format: 'legacy' }),
      (error: unknown) =>
        error instanceof CaissonError && error.code === 'ERR_SIGNING' && error.message.startsWith(`127.0.0.1:1/gone/app:sha256-${'cd'.repeat(32)}.sig: cannot `) && error.cause !== undefined,
    );
  });
});
