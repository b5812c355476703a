// Independent verification of the Sigstore bundles caisson writes: signImage/attestImage with the
// bundle format push cosign v3 referrers to Debian's docker-registry; the test reads each bundle
// back from the registry (fallback index → referrer manifest → bundle blob) and verifies it offline
// with @sigstore/verify, sigstore-js's verifier (not caisson's code): keyed (a hand-built
// TrustedRoot and a KeyFinderFunc), with and without Rekor and an RFC 3161 timestamp, and keyless
// against the loopback Fulcio, CT log, Rekor (logging dsse entries in the real Rekor's canonical
// form) and TSA mocks, with an identity policy. Tampering and
// the wrong key are refused, so a pass means something.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier, type KeyFinderFunc, type VerifierOptions } from '@sigstore/verify';
import { digestHex, type Digest } from '../../src/image/index.js';
import {
  attestImage, buildStatement, identityTokenSource, imageSubject, KeylessSigner, publicKeyHint, RekorClient, signImage, TimestampClient,
} from '../../src/supplychain/index.js';
import type { RunningRegistry } from '../support/registry.js';
import { startPublishFixture, type PublishFixture } from './publish-fixture.js';
import { fakeIdentityToken, startSigstoreMock, type SigstoreMock } from '../support/sigstore-mock.js';
import { missingTool, runTool } from '../support/tools.js';
import { p256Key, type TestKey } from './support.js';

const missing = missingTool('docker-registry', 'docker-registry') ?? missingTool('skopeo', 'skopeo');
const IDENTITY = 'https://example.com/ci/pipeline';
const ISSUER = 'https://issuer.example';

type TrustedRootInput = Parameters<typeof toTrustMaterial>[0];
type TlogInstance = TrustedRootInput['tlogs'][number];
type Authority = TrustedRootInput['certificateAuthorities'][number];

function spki(pem: string): Buffer {
  return createPublicKey(pem).export({ format: 'der', type: 'spki' });
}

function logInstance(options: { readonly baseUrl: string; readonly publicKeyPem: string }): TlogInstance {
  return {
    baseUrl: options.baseUrl,
    operator: options.baseUrl,
    checkpointKeyId: undefined,
    hashAlgorithm: 1, // SHA2_256
    publicKey: { rawBytes: spki(options.publicKeyPem), keyDetails: 5, validFor: { start: new Date(0) } }, // PKIX_ECDSA_P256_SHA_256
    logId: { keyId: createHash('sha256').update(spki(options.publicKeyPem)).digest() },
  };
}

function authority(chainPem: readonly string[]): Authority {
  return {
    operator: new X509Certificate(chainPem[0] ?? '').subject,
    subject: { organization: 'sigstore.mock', commonName: 'mock' },
    uri: '',
    certChain: { certificates: chainPem.map((pem) => ({ rawBytes: new X509Certificate(pem).raw })) },
    validFor: { start: new Date(0) },
  };
}

/** The PEM certificates in a concatenated chain. */
function splitPem(chain: string): string[] {
  return chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

describe('caisson bundles verified by @sigstore/verify', { skip: missing }, () => {
  let fixture: PublishFixture;
  let registry: RunningRegistry;
  let mock: SigstoreMock;

  before(async () => {
    fixture = await startPublishFixture();
    registry = fixture.registry;
    mock = await startSigstoreMock({ rekorDsse: 'canonical' });
  });
  after(async () => {
    await mock?.close();
    await fixture?.close();
  });

  const pushImage = (repo: string): ReturnType<PublishFixture['pushImage']> => fixture.pushImage(repo);

  function raw(reference: string): { layers?: { mediaType: string; digest: string }[]; manifests?: { digest: string; artifactType?: string }[] } {
    return JSON.parse(runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reference}`])) as ReturnType<typeof raw>;
  }

  /** Every bundle referring to the image, read as a client would: the fallback index, each referrer, its one bundle layer. */
  async function bundlesOf(repo: string, digest: Digest): Promise<unknown[]> {
    const index = raw(`${registry.host}/${repo}:sha256-${digestHex(digest)}`);
    const bundles: unknown[] = [];
    for (const referrer of index.manifests ?? []) {
      const layer = raw(`${registry.host}/${repo}@${referrer.digest}`).layers?.[0];
      assert.equal(layer?.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
      bundles.push(JSON.parse((await fixture.blob(repo, layer.digest)).toString('utf8')));
    }
    return bundles;
  }

  function keyFinder(key: TestKey): KeyFinderFunc {
    return (hint) => {
      assert.equal(hint, publicKeyHint(key.publicKeyPem), 'the bundle names the key by its hint');
      return { publicKey: createPublicKey(key.publicKeyPem), validFor: () => true };
    };
  }

  function trustedRoot(parts: Partial<Pick<TrustedRootInput, 'tlogs' | 'ctlogs' | 'certificateAuthorities' | 'timestampAuthorities'>>): TrustedRootInput {
    return { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], ctlogs: [], certificateAuthorities: [], timestampAuthorities: [], ...parts };
  }

  function verify(options: { readonly json: unknown; readonly root: TrustedRootInput; readonly keys?: KeyFinderFunc; readonly thresholds: VerifierOptions; readonly policy?: Parameters<Verifier['verify']>[1] }): ReturnType<Verifier['verify']> {
    const bundle = bundleFromJSON(options.json);
    const verifier = new Verifier(toTrustMaterial(options.root, options.keys), options.thresholds);
    return verifier.verify(toSignedEntity(bundle), options.policy);
  }

  test('keyed, no tlog: the cosign sign/v1 DSSE bundle verifies with the key; another key and a changed payload are refused', async () => {
    const target = await pushImage('sv/keyed');
    const key = p256Key();
    await signImage({ ...target, signer: key.signer, format: 'bundle', annotations: { env: 'prod' } });
    const [json] = await bundlesOf('sv/keyed', target.image.digest);
    const signer = verify({ json, root: trustedRoot({}), keys: keyFinder(key), thresholds: { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 } });
    assert.ok(createPublicKey(key.publicKeyPem).equals(signer.key));

    const other = p256Key();
    assert.throws(() => verify({ json, root: trustedRoot({}), keys: () => ({ publicKey: createPublicKey(other.publicKeyPem), validFor: () => true }), thresholds: { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 } }), /signature/i);
    const tampered = structuredClone(json) as { dsseEnvelope: { payload: string } };
    tampered.dsseEnvelope.payload = Buffer.from(Buffer.from(tampered.dsseEnvelope.payload, 'base64').toString('utf8').replace('prod', 'test')).toString('base64');
    assert.throws(() => verify({ json: tampered, root: trustedRoot({}), keys: keyFinder(key), thresholds: { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 } }), /signature/i);
  });

  test('keyed with Rekor and a TSA: the tlog entry (SET, inclusion proof, body) and the RFC 3161 timestamp verify against the mocks', async () => {
    const target = await pushImage('sv/logged');
    const key = p256Key();
    const statement = buildStatement({ subjects: [imageSubject({ digest: target.image.digest, name: target.image.name })], predicateType: 'https://slsa.dev/provenance/v1', predicate: { buildDefinition: { buildType: 'x' } } });
    await attestImage({ ...target, signer: key.signer, format: 'bundle', statement, tlog: new RekorClient({ rekorURL: mock.rekorURL }), tsa: new TimestampClient({ url: mock.tsaURL }) });
    const [json] = await bundlesOf('sv/logged', target.image.digest);
    const root = trustedRoot({
      tlogs: [logInstance({ baseUrl: mock.rekorURL, publicKeyPem: mock.rekorPublicKeyPem })],
      timestampAuthorities: [authority(splitPem(mock.tsaChainPem))],
    });
    // Two timestamps: Rekor's integrated time and the TSA's.
    verify({ json, root, keys: keyFinder(key), thresholds: { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 2 } });
    assert.throws(() => verify({ json, root: trustedRoot({ tlogs: root.tlogs }), keys: keyFinder(key), thresholds: { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 2 } }), /timestamp|TSA|certificate/i, 'an untrusted TSA');
  });

  test('keyless: the Fulcio leaf chains to the mock CA, its SCT verifies with the CT log key, Rekor and the TSA verify, the identity policy holds', async () => {
    const target = await pushImage('sv/keyless');
    const token = fakeIdentityToken({ iss: ISSUER, sub: IDENTITY });
    const signer = new KeylessSigner({ fulcioURL: mock.fulcioURL, tokenSource: identityTokenSource({ env: { SIGSTORE_ID_TOKEN: token } }) });
    const tlog = new RekorClient({ rekorURL: mock.rekorURL });
    await signImage({ ...target, signer, format: 'bundle', tlog, tsa: new TimestampClient({ url: mock.tsaURL }) });
    const statement = buildStatement({ subjects: [imageSubject({ digest: target.image.digest, name: target.image.name })], predicateType: 'https://slsa.dev/provenance/v1', predicate: {} });
    await attestImage({ ...target, signer, format: 'bundle', statement, tlog });
    const bundles = await bundlesOf('sv/keyless', target.image.digest);
    assert.equal(bundles.length, 2);
    const root = trustedRoot({
      certificateAuthorities: [authority([mock.caRootPem])],
      tlogs: [logInstance({ baseUrl: mock.rekorURL, publicKeyPem: mock.rekorPublicKeyPem })],
      ctlogs: [logInstance({ baseUrl: 'https://ctfe.mock', publicKeyPem: mock.ctlogPublicKeyPem })],
      timestampAuthorities: [authority(splitPem(mock.tsaChainPem))],
    });
    const policy = { subjectAlternativeName: IDENTITY, extensions: { issuer: ISSUER } };
    for (const json of bundles) {
      const verified = verify({ json, root, thresholds: { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }, policy });
      assert.equal(verified.identity?.subjectAlternativeName, IDENTITY);
    }
    assert.throws(() => verify({ json: bundles[0], root, thresholds: { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }, policy: { subjectAlternativeName: 'https://someone.else' } }), /subject|identity|SAN/i);
    assert.throws(() => verify({ json: bundles[0], root: trustedRoot({ tlogs: root.tlogs, ctlogs: root.ctlogs }), thresholds: { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 } }), /certificate|chain|CA/i);
  });
});
