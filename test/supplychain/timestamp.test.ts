// RFC 3161 timestamps (--tsa-url) against the Sigstore mock TSA on loopback: the DER request as
// `openssl ts -query -text` reads it, and signatures published to Debian's docker-registry with a
// timestamp whose DER TimeStampResp `openssl ts -verify` accepts against the TSA's chain, over
// what cosign stamps: a .sig layer's signature bytes, an .att layer's blob, a bundle's DSSE
// signature. A refusing authority fails the signing before anything is written. Verification
// (verifyImageSignatures / verifyImageAttestations) checks each timestamp against the trusted
// timestamp authorities and refuses one without a trusted TSA, from another TSA, or over other data.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { digestHex } from '../../src/image/index.js';
import {
  attestImage, buildStatement, imageSubject, parseTimestampResponse, parseTrustedRoot, signImage, TimestampClient, timestampEndpoint, timestampRequest, VerificationError,
  verifyImageAttestations, verifyImageSignatures, type CertificateAuthority, type VerificationTrust,
} from '../../src/supplychain/index.js';
import type { RunningRegistry } from '../support/registry.js';
import { startPublishFixture, type PublishFixture } from './publish-fixture.js';
import { startSigstoreMock, type SigstoreMock } from '../support/sigstore-mock.js';
import { missingTool, runTool } from '../support/tools.js';
import { opensslTimestampVerifies, p256Key, type TestKey } from './support.js';

const missing = missingTool('docker-registry', 'docker-registry') ?? missingTool('skopeo', 'skopeo') ?? missingTool('openssl', 'openssl');

interface Layer {
  readonly digest: string;
  readonly annotations?: Record<string, string>;
}

describe('RFC 3161 timestamps', { skip: missing }, () => {
  let fixture: PublishFixture;
  let registry: RunningRegistry;
  let mock: SigstoreMock;

  before(async () => {
    fixture = await startPublishFixture();
    registry = fixture.registry;
    mock = await startSigstoreMock();
  });
  after(async () => {
    await mock?.close();
    await fixture?.close();
  });

  const pushImage = (repo: string): ReturnType<PublishFixture['pushImage']> => fixture.pushImage(repo);

  function layers(reference: string): readonly Layer[] {
    return (JSON.parse(runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reference}`])) as { layers: readonly Layer[] }).layers;
  }

  const blob = (repo: string, digest: string): Promise<Buffer> => fixture.blob(repo, digest);

  /** The DER TimeStampResp of a layer's `dev.sigstore.cosign/rfc3161timestamp` annotation. */
  function annotationTimestamp(layer: Layer | undefined): Buffer {
    const value = JSON.parse(layer?.annotations?.['dev.sigstore.cosign/rfc3161timestamp'] ?? '{}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(value), ['SignedRFC3161Timestamp']);
    return Buffer.from(String(value['SignedRFC3161Timestamp']), 'base64');
  }

  test('the request: a DER TimeStampReq v1 for sha256 with the nonce and certReq, as openssl reads it; the endpoint', () => {
    const digest = createHash('sha256').update('signature').digest();
    const directory = mkdtempSync(join(tmpdir(), 'caisson-tsq-'));
    let text: string;
    try {
      const file = join(directory, 'request.tsq');
      writeFileSync(file, timestampRequest({ digest, nonce: Buffer.from([0x00, 0x12, 0x34, 0x56]) }));
      text = runTool('openssl', ['ts', '-query', '-in', file, '-text']);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
    assert.match(text, /^Version: 1$/m);
    assert.match(text, /^Hash Algorithm: sha256$/m);
    assert.match(text, /^Nonce: 0x123456$/m);
    assert.match(text, /^Certificate required: yes$/m);
    const hex = digest.toString('hex').replace(/(..)/g, '$1 ').trim();
    assert.ok(text.replace(/-/g, ' ').replace(/\s+/g, ' ').includes(hex.slice(0, 47)), 'the message imprint is the digest');
    assert.equal(timestampEndpoint('https://timestamp.sigstore.dev'), 'https://timestamp.sigstore.dev/api/v1/timestamp');
    assert.equal(timestampEndpoint('https://freetsa.org/tsr'), 'https://freetsa.org/tsr');
  });

  test('legacy .sig: the annotation holds a TimeStampResp over the signature bytes that openssl verifies with the TSA chain', async () => {
    const target = await pushImage('tsa/sig');
    const key = p256Key();
    const tsa = new TimestampClient({ url: mock.tsaURL });
    const published = await signImage({ ...target, signer: key.signer, format: 'legacy', tsa });
    const layer = layers(published.reference)[0];
    const response = annotationTimestamp(layer);
    const signature = Buffer.from(layer?.annotations?.['dev.cosignproject.cosign/signature'] ?? '', 'base64');
    assert.ok(opensslTimestampVerifies({ response, data: signature, chainPem: mock.tsaChainPem }));
    assert.equal(opensslTimestampVerifies({ response, data: Buffer.from('another signature'), chainPem: mock.tsaChainPem }), false);
    const parsed = parseTimestampResponse({ bytes: response, what: 'test' });
    assert.equal(parsed.kind, 'granted');
    assert.ok(parsed.kind === 'granted' && Math.abs(parsed.parsed.genTime.getTime() - Date.now()) < 60_000);
    assert.equal(mock.requests.at(-1)?.path, '/api/v1/timestamp');
  });

  test('legacy .att: the timestamp is over the layer blob (the envelope), as cosign stamps attestations', async () => {
    const target = await pushImage('tsa/att');
    const statement = buildStatement({ subjects: [imageSubject({ digest: target.image.digest, name: target.image.name })], predicateType: 'https://slsa.dev/provenance/v1', predicate: {} });
    const published = await attestImage({ ...target, signer: p256Key().signer, format: 'legacy', statement, tsa: new TimestampClient({ url: mock.tsaURL }) });
    const layer = layers(published.reference)[0];
    const envelope = await blob('tsa/att', layer?.digest ?? '');
    assert.ok(opensslTimestampVerifies({ response: annotationTimestamp(layer), data: envelope, chainPem: mock.tsaChainPem }));
  });

  test('bundle: timestampVerificationData.rfc3161Timestamps[0].signedTimestamp is over the DSSE signature', async () => {
    const target = await pushImage('tsa/bundle');
    const published = await signImage({ ...target, signer: p256Key().signer, format: 'bundle', tsa: new TimestampClient({ url: mock.tsaURL }) });
    const layer = layers(published.reference)[0];
    const bundle = JSON.parse((await blob('tsa/bundle', layer?.digest ?? '')).toString('utf8')) as {
      verificationMaterial: { timestampVerificationData?: { rfc3161Timestamps: { signedTimestamp: string }[] } };
      dsseEnvelope: { signatures: { sig: string }[] };
    };
    const stamps = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? [];
    assert.equal(stamps.length, 1);
    const signature = Buffer.from(bundle.dsseEnvelope.signatures[0]?.sig ?? '', 'base64');
    assert.ok(opensslTimestampVerifies({ response: Buffer.from(stamps[0]?.signedTimestamp ?? '', 'base64'), data: signature, chainPem: mock.tsaChainPem }));
  });

  function tsaAuthority(chainPem: string): CertificateAuthority {
    return { certificates: (chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => new X509Certificate(pem)) };
  }

  function trust(key: TestKey, timestampAuthorities: readonly CertificateAuthority[]): VerificationTrust {
    return { signer: { kind: 'key', publicKeyPem: key.publicKeyPem }, rekorKeys: [], ignoreTlog: true, timestampAuthorities };
  }

  async function rejection(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof VerificationError, String(error));
      return error.rejections.map((entry) => `${entry.reason}: ${entry.detail}`).join('; ');
    }
    assert.fail('verification passed');
  }

  test('verification: legacy .sig and .att and a bundle verify with the TSA trusted (the stamped time returned); without it, or with another TSA, they are refused', async () => {
    const key = p256Key();
    const tsa = new TimestampClient({ url: mock.tsaURL });
    const legacy = await pushImage('tsa/verify-legacy');
    await signImage({ ...legacy, signer: key.signer, format: 'legacy', tsa });
    const statement = buildStatement({ subjects: [imageSubject({ digest: legacy.image.digest, name: legacy.image.name })], predicateType: 'https://slsa.dev/provenance/v1', predicate: {} });
    await attestImage({ ...legacy, signer: key.signer, format: 'legacy', statement, tsa });
    const bundled = await pushImage('tsa/verify-bundle');
    await signImage({ ...bundled, signer: key.signer, format: 'bundle', tsa });
    // The authorities as a trusted_root.json lists them.
    const root = parseTrustedRoot({
      what: 'trusted_root.json',
      bytes: Buffer.from(JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
        timestampAuthorities: [{ certChain: { certificates: tsaAuthority(mock.tsaChainPem).certificates.map((certificate) => ({ rawBytes: certificate.raw.toString('base64') })) }, validFor: { start: '2020-01-01T00:00:00Z' } }],
      })),
    });
    assert.equal(root.timestampAuthorities.length, 1);
    const trusted = trust(key, root.timestampAuthorities);

    for (const target of [legacy, bundled]) {
      const [verified] = await verifyImageSignatures({ repository: target.repository, image: target.image, trust: trusted });
      assert.ok(verified?.timestamp !== undefined && Math.abs(verified.timestamp.getTime() - Date.now()) < 60_000);
    }
    const [attested] = await verifyImageAttestations({ repository: legacy.repository, image: legacy.image, trust: trusted, predicateType: 'https://slsa.dev/provenance/v1' });
    assert.ok(attested?.timestamp !== undefined);

    assert.match(await rejection(verifyImageSignatures({ repository: legacy.repository, image: legacy.image, trust: trust(key, []) })), /^timestamp: .*no timestamp authority is trusted/);
    // The Fulcio mock's root is a CA, not this TSA: the token's signature does not verify with it.
    assert.match(await rejection(verifyImageSignatures({ repository: bundled.repository, image: bundled.image, trust: trust(key, [tsaAuthority(mock.caRootPem)]) })), /^timestamp: .*does not verify with a trusted timestamp authority/);
  });

  test('verification: a timestamp over other data (moved from another signature) is refused', async () => {
    const key = p256Key();
    const target = await pushImage('tsa/moved');
    const foreign = await new TimestampClient({ url: mock.tsaURL }).timestamp(Buffer.from('another signature'));
    const stamped = { timestamp: async () => foreign } as unknown as TimestampClient;
    await signImage({ ...target, signer: key.signer, format: 'legacy', tsa: stamped });
    assert.match(await rejection(verifyImageSignatures({ repository: target.repository, image: target.image, trust: trust(key, [tsaAuthority(mock.tsaChainPem)]) })), /^timestamp: .*for other data than this signature/);
  });

  test('a refusing authority: ERR_SIGNING naming it, and no .sig written', async () => {
    const target = await pushImage('tsa/refused');
    mock.refuseNext({ service: 'tsa', status: 400, body: 'bad request' });
    await assert.rejects(
      signImage({ ...target, signer: p256Key().signer, format: 'legacy', tsa: new TimestampClient({ url: mock.tsaURL }) }),
      (error: unknown) => error instanceof CaissonError && error.code === 'ERR_SIGNING' && error.message.includes('timestamp authority') && error.message.includes('HTTP 400'),
    );
    const tag = `sha256-${digestHex(target.image.digest)}.sig`;
    const response = await fetch(`${registry.url}/v2/tsa/refused/manifests/${tag}`, { method: 'HEAD' });
    assert.equal(response.status, 404);
  });
});
