// Verification against a real docker-registry and Sigstore's mock Fulcio and Rekor on loopback:
// signatures and attestations written exactly as the spec lays them out (cosign's .sig/.att
// tags, cosign v3's bundle referrers), keyed and keyless, verify; each kind of tampering is
// rejected with its own reason; one good signature among bad ones is enough.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Digest } from '../../src/image/index.js';
import { RegistrySession, defaultRegistryOptions, staticCredentials, type RegistryRepository } from '../../src/registry/index.js';
import {
  buildStatement, COSIGN_SIGN_PREDICATE_TYPE, fulcioIssuer, identityTokenSource, imageSubject, KeylessSigner, parseTrustedRoot, predicateTypeOf, RekorClient,
  serializeStatement, simpleSigningPayload, SLSA_PROVENANCE_V1, subjectAltNames, VerificationError, verifyImageAttestations, verifyImageSignatures,
  type RejectionReason, type TrustedRoot, type VerificationTrust,
} from '../../src/supplychain/index.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { fakeIdentityToken, startSigstoreMock, type SigstoreMock } from '../support/sigstore-mock.js';
import { p256Key, type TestKey } from './support.js';
import { mockTrustedRoot, pushImage, writeBundle, writeLegacyAttestation, writeLegacySignature } from './verify-support.js';

const ISSUER = 'https://token.actions.example.com';
const SUBJECT = 'https://example.com/org/repo/.github/workflows/build.yml@refs/heads/main';
const CUSTOM = 'https://cosign.sigstore.dev/attestation/v1';

let registry: RunningRegistry;
let mock: SigstoreMock;
let session: RegistrySession;
let repository: RegistryRepository;
let root: TrustedRoot;
let rekor: RekorClient;
let key: TestKey;
let otherKey: TestKey;
let keyless: KeylessSigner;
let counter = 0;

before(async () => {
  [registry, mock] = await Promise.all([startRegistry({ setup: 'plain' }), startSigstoreMock()]);
  session = new RegistrySession({ ...defaultRegistryOptions({ credentials: staticCredentials(new Map()), userAgent: 'caisson-test' }), retry: { retries: 1, baseDelayMs: 20, maxDelayMs: 100 } });
  repository = session.repository({ registry: registry.host, repository: 'app' });
  root = parseTrustedRoot({ bytes: mockTrustedRoot(mock), what: 'trusted_root.json' });
  rekor = new RekorClient({ rekorURL: mock.rekorURL, publicKeyPem: mock.rekorPublicKeyPem });
  key = p256Key();
  otherKey = p256Key();
  keyless = new KeylessSigner({ fulcioURL: mock.fulcioURL, tokenSource: identityTokenSource({ env: { SIGSTORE_ID_TOKEN: fakeIdentityToken({ iss: ISSUER, sub: SUBJECT }) } }) });
});
after(async () => {
  await session?.close();
  await Promise.all([registry?.stop(), mock?.close()]);
});

function keyTrust(overrides: Partial<VerificationTrust> = {}): VerificationTrust {
  return { signer: { kind: 'key', publicKeyPem: key.publicKeyPem }, rekorKeys: root.tlogs, ignoreTlog: false, ...overrides };
}

function keylessTrust(overrides: { identity?: string; issuer?: string; roots?: TrustedRoot['certificateAuthorities'] } = {}): VerificationTrust {
  return {
    signer: { kind: 'certificate', identity: overrides.identity ?? SUBJECT, issuer: overrides.issuer ?? ISSUER, roots: overrides.roots ?? root.certificateAuthorities },
    rekorKeys: root.tlogs,
    ignoreTlog: false,
  };
}

/** A new image in `app` (signatures accumulate per digest, so every test signs its own). */
async function fresh(): Promise<{ digest: Digest; descriptor: { mediaType: string; digest: Digest; size: number } }> {
  counter += 1;
  const image = await pushImage(repository, `image ${counter} ${Date.now()}`);
  return { digest: image.manifest.digest as Digest, descriptor: { mediaType: image.manifest.mediaType, digest: image.manifest.digest as Digest, size: image.manifest.size } };
}

const name = (): string => `${registry.host}/app`;
const payloadFor = (digest: Digest, annotations?: Record<string, string>): Buffer => simpleSigningPayload({ dockerReference: name(), digest, ...(annotations === undefined ? {} : { annotations }) });
const provenance = (digest: Digest, predicateType = SLSA_PROVENANCE_V1): Buffer =>
  serializeStatement(buildStatement({ subjects: [imageSubject({ digest, name: name() })], predicateType, predicate: { buildDefinition: { buildType: 'test' } } }));

async function rejected(promise: Promise<unknown>, digest: Digest, reasons: readonly RejectionReason[]): Promise<VerificationError> {
  const error = await promise.then(
    () => assert.fail('verification passed'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof VerificationError, `expected a VerificationError, got ${String(error)}`);
  assert.equal(error.code, 'ERR_VERIFY_FAILED');
  assert.equal(error.exitCode, 10);
  assert.ok(error.message.startsWith(`${name()}@${digest}: no valid `), error.message);
  assert.deepEqual(error.rejections.map((rejection) => rejection.reason), reasons, error.message);
  return error;
}

describe('legacy .sig signatures with a key', () => {
  test('a logged signature verifies: payload, signer, tlog entry; -a annotations are checked against optional', async () => {
    const { digest } = await fresh();
    const payload = payloadFor(digest, { build: '42', team: 'a' });
    await writeLegacySignature({ repository, digest, payload, signer: key.signer, rekor });
    const verified = await verifyImageSignatures({ repository, image: { name: name(), digest }, trust: keyTrust(), annotations: { build: '42' } });
    assert.equal(verified.length, 1);
    const [signature] = verified;
    assert.ok(signature?.payload.equals(payload));
    assert.equal(signature?.layout, 'legacy');
    assert.equal(signature?.where, `${digest.replace(':', '-')}.sig layer 1`);
    assert.deepEqual(signature?.signer, { kind: 'key', publicKeyPem: key.publicKeyPem });
    assert.ok(signature?.tlogEntry !== undefined && signature.tlogEntry.logId.equals(mock.rekorLogId));
    assert.equal(signature?.claims.kind === 'simple-signing' && signature.claims.payload.digest, digest);
    const wrong = await rejected(verifyImageSignatures({ repository, image: { name: name(), digest }, trust: keyTrust(), annotations: { build: '43' } }), digest, ['claims']);
    assert.match(wrong.message, /lack build=43/);
  });

  test('no signatures at all is a clear error', async () => {
    const { digest } = await fresh();
    const error = await rejected(verifyImageSignatures({ repository, image: { name: name(), digest }, trust: keyTrust() }), digest, ['no-signatures']);
    assert.match(error.message, /no signatures found \(no sha256-<hex>\.sig tag and no Sigstore bundle referrer\)/);
  });

  test('tampering: each is rejected with its own reason', async () => {
    const { digest } = await fresh();
    const other = await fresh();
    // A changed payload blob stored with the old signature.
    await writeLegacySignature({ repository, digest, payload: payloadFor(digest), signer: key.signer, rekor, tamper: { blob: payloadFor(digest, { evil: 'yes' }) } });
    // A payload naming another image, signed and stored beside this one.
    await writeLegacySignature({ repository, digest, payload: payloadFor(other.digest), signer: key.signer, rekor });
    // Signed with another key.
    await writeLegacySignature({ repository, digest, payload: payloadFor(digest), signer: otherKey.signer, rekor });
    // A truncated signature.
    await writeLegacySignature({ repository, digest, payload: payloadFor(digest), signer: key.signer, rekor, tamper: { signature: (sig) => sig.subarray(0, sig.length - 6) } });
    // A SET that does not verify (the entry's time changed).
    await writeLegacySignature({ repository, digest, payload: payloadFor(digest), signer: key.signer, rekor, tamper: { entry: (entry) => ({ ...entry, integratedTime: entry.integratedTime + 1 }) } });
    // No tlog bundle.
    await writeLegacySignature({ repository, digest, payload: payloadFor(digest, { unlogged: 'yes' }), signer: key.signer });
    // A valid SET over another signature's entry.
    const foreign = await rekor.upload({ kind: 'hashedrekord', payload: payloadFor(other.digest), signature: (await key.signer.sign(payloadFor(other.digest))).signature, identity: { kind: 'key', publicKeyPem: key.publicKeyPem } });
    await writeLegacySignature({ repository, digest, payload: payloadFor(digest, { foreign: 'entry' }), signer: key.signer, rekor, tamper: { entry: () => foreign } });
    // A simple-signing payload of the wrong type.
    const wrongType = Buffer.from(payloadFor(digest).toString().replace('cosign container image signature', 'atomic container signature'));
    await writeLegacySignature({ repository, digest, payload: wrongType, signer: key.signer, rekor });

    const error = await rejected(verifyImageSignatures({ repository, image: { name: name(), digest }, trust: keyTrust() }), digest, [
      'signature', 'payload-digest', 'signature', 'signature', 'tlog-set', 'tlog-missing', 'tlog-body', 'claims',
    ]);
    assert.match(error.message, /layer 1: the signature does not verify with the key/);
    assert.match(error.message, new RegExp(`layer 2: the payload signs ${other.digest}, another image`));
    assert.match(error.message, /layer 5: the tlog entry's signed entry timestamp \(SET\) does not verify/);
    assert.match(error.message, /layer 6: there is no transparency-log entry .*--insecure-ignore-tlog/);
    assert.match(error.message, /layer 7: the tlog entry logs another payload hash/);
    assert.match(error.message, /layer 8: .*critical\.type/);

    // --insecure-ignore-tlog accepts the unlogged one; the bad SET is still refused.
    const accepted = await verifyImageSignatures({ repository, image: { name: name(), digest }, trust: keyTrust({ ignoreTlog: true }) });
    assert.deepEqual(accepted.map((signature) => signature.where), [`${digest.replace(':', '-')}.sig layer 6`]);
    assert.equal(accepted[0]?.tlogEntry, undefined);
  });

  test('one good signature among bad ones is enough', async () => {
    const { digest } = await fresh();
    await writeLegacySignature({ repository, digest, payload: payloadFor(digest), signer: otherKey.signer, rekor });
    await writeLegacySignature({ repository, digest, payload: payloadFor(digest), signer: key.signer, rekor });
    const verified = await verifyImageSignatures({ repository, image: { name: name(), digest }, trust: keyTrust() });
    assert.deepEqual(verified.map((signature) => signature.where), [`${digest.replace(':', '-')}.sig layer 2`]);
  });

  test('a Rekor key that is not trusted: the SET is refused', async () => {
    const { digest } = await fresh();
    await writeLegacySignature({ repository, digest, payload: payloadFor(digest), signer: key.signer, rekor });
    const error = await rejected(verifyImageSignatures({ repository, image: { name: name(), digest }, trust: keyTrust({ rekorKeys: [] }) }), digest, ['tlog-set']);
    assert.match(error.message, /not a trusted Rekor log/);
  });
});

describe('legacy .sig signatures, keyless', () => {
  test('a Fulcio certificate for the identity and issuer, logged in Rekor, verifies', async () => {
    const { digest } = await fresh();
    await writeLegacySignature({ repository, digest, payload: payloadFor(digest), signer: keyless, rekor });
    const [signature, ...rest] = await verifyImageSignatures({ repository, image: { name: name(), digest }, trust: keylessTrust() });
    assert.equal(rest.length, 0);
    assert.equal(signature?.signer.kind, 'certificate');
    assert.equal(signature?.signer.kind === 'certificate' && signature.signer.identity, SUBJECT);
    assert.equal(signature?.signer.kind === 'certificate' && signature.signer.issuer, ISSUER);
    // The DER reader agrees with node's own view of the SAN.
    const identity = await keyless.identity();
    const leaf = new X509Certificate(identity.certificatePem);
    assert.equal(leaf.subjectAltName, `URI:${subjectAltNames(leaf.raw).join('')}`);
    assert.equal(fulcioIssuer(leaf.raw), ISSUER);
  });

  test('identity, issuer, CA and validity mismatches are rejected each with its reason', async () => {
    const { digest } = await fresh();
    await writeLegacySignature({ repository, digest, payload: payloadFor(digest), signer: keyless, rekor });
    const image = { name: name(), digest };
    const identity = await rejected(verifyImageSignatures({ repository, image, trust: keylessTrust({ identity: 'https://example.com/someone-else' }) }), digest, ['certificate-identity']);
    assert.match(identity.message, new RegExp(`certificate identity ${SUBJECT.replaceAll('.', '\\.')} is not https://example\\.com/someone-else`));
    await rejected(verifyImageSignatures({ repository, image, trust: keylessTrust({ issuer: 'https://accounts.example.com' }) }), digest, ['certificate-issuer']);
    const tsaRoots = [{ certificates: mock.tsaChainPem.split(/(?<=-----END CERTIFICATE-----\n)/).filter((pem) => pem.trim() !== '').map((pem) => new X509Certificate(pem)) }];
    await rejected(verifyImageSignatures({ repository, image, trust: keylessTrust({ roots: tsaRoots }) }), digest, ['certificate-untrusted']);
    const retired = root.certificateAuthorities.map((authority) => ({ ...authority, validFor: { start: new Date('2020-01-01T00:00:00Z'), end: new Date('2021-01-01T00:00:00Z') } }));
    await rejected(verifyImageSignatures({ repository, image, trust: keylessTrust({ roots: retired }) }), digest, ['certificate-expired']);
  });

  test('a key-signed image does not pass keyless verification', async () => {
    const { digest } = await fresh();
    await writeLegacySignature({ repository, digest, payload: payloadFor(digest), signer: key.signer, rekor });
    await rejected(verifyImageSignatures({ repository, image: { name: name(), digest }, trust: keylessTrust() }), digest, ['certificate-untrusted']);
  });
});

describe('legacy .att attestations', () => {
  test('SLSA v1 provenance verifies, keyed and keyless, with dsse tlog entries', async () => {
    const { digest } = await fresh();
    await writeLegacyAttestation({ repository, digest, statement: provenance(digest), predicateType: SLSA_PROVENANCE_V1, signer: key.signer, rekor });
    await writeLegacyAttestation({ repository, digest, statement: provenance(digest), predicateType: SLSA_PROVENANCE_V1, signer: keyless, rekor });
    const keyed = await verifyImageAttestations({ repository, image: { name: name(), digest }, trust: keyTrust(), predicateType: predicateTypeOf('slsaprovenance1') });
    assert.equal(keyed.length, 1);
    assert.equal(keyed[0]?.statement.predicateType, SLSA_PROVENANCE_V1);
    assert.equal(keyed[0]?.tlogEntry?.kind, 'dsse');
    const certified = await verifyImageAttestations({ repository, image: { name: name(), digest }, trust: keylessTrust(), predicateType: SLSA_PROVENANCE_V1 });
    assert.deepEqual(certified.map((attestation) => attestation.where), [`${digest.replace(':', '-')}.att layer 2`]);
  });

  test('a foreign subject, a wrong predicateType, a changed envelope and a missing tlog entry are rejected', async () => {
    const { digest } = await fresh();
    const other = await fresh();
    await writeLegacyAttestation({ repository, digest, statement: provenance(other.digest), predicateType: SLSA_PROVENANCE_V1, signer: key.signer, rekor });
    await writeLegacyAttestation({ repository, digest, statement: provenance(digest, CUSTOM), predicateType: CUSTOM, signer: key.signer, rekor });
    const changed = Buffer.from(JSON.stringify({ payload: provenance(digest).toString('base64'), payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: Buffer.alloc(70, 1).toString('base64') }] }));
    await writeLegacyAttestation({ repository, digest, statement: provenance(digest), predicateType: SLSA_PROVENANCE_V1, signer: key.signer, rekor, tamper: { blob: changed } });
    await writeLegacyAttestation({ repository, digest, statement: provenance(digest), predicateType: SLSA_PROVENANCE_V1, signer: key.signer });
    const error = await rejected(verifyImageAttestations({ repository, image: { name: name(), digest }, trust: keyTrust(), predicateType: SLSA_PROVENANCE_V1 }), digest, [
      'subject', 'predicate-type', 'signature', 'tlog-missing',
    ]);
    assert.match(error.message, new RegExp(`subject is ${other.digest}, not ${digest}`));
    assert.match(error.message, /predicateType is https:\/\/cosign\.sigstore\.dev\/attestation\/v1, not https:\/\/slsa\.dev\/provenance\/v1/);
    // cosign's default type finds the custom one.
    const custom = await verifyImageAttestations({ repository, image: { name: name(), digest }, trust: keyTrust(), predicateType: predicateTypeOf('custom') });
    assert.deepEqual(custom.map((attestation) => attestation.where), [`${digest.replace(':', '-')}.att layer 2`]);
  });
});

describe('cosign v3 Sigstore bundle referrers', () => {
  const signStatement = (digest: Digest): Buffer => serializeStatement(buildStatement({ subjects: [imageSubject({ digest })], predicateType: COSIGN_SIGN_PREDICATE_TYPE, predicate: {} }));

  test('a keyed sign/v1 bundle is a signature; a keyless provenance bundle an attestation; the legacy media type is read too', async () => {
    const { digest, descriptor } = await fresh();
    await writeBundle({ repository, subject: descriptor, statement: signStatement(digest), predicateType: COSIGN_SIGN_PREDICATE_TYPE, signer: key.signer, rekor });
    await writeBundle({ repository, subject: descriptor, statement: provenance(digest), predicateType: SLSA_PROVENANCE_V1, signer: keyless, rekor, mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.3' });
    const signatures = await verifyImageSignatures({ repository, image: { name: name(), digest }, trust: keyTrust() });
    assert.equal(signatures.length, 1);
    assert.equal(signatures[0]?.layout, 'bundle');
    assert.match(signatures[0]?.where ?? '', /^referrer sha256:/);
    assert.equal(signatures[0]?.claims.kind === 'statement' && signatures[0].claims.statement.predicateType, COSIGN_SIGN_PREDICATE_TYPE);
    const attestations = await verifyImageAttestations({ repository, image: { name: name(), digest }, trust: keylessTrust(), predicateType: SLSA_PROVENANCE_V1 });
    assert.equal(attestations.length, 1);
    assert.equal(attestations[0]?.signer.kind, 'certificate');
  });

  test('tampered bundles: changed payload, foreign subject, missing tlog entry (accepted with ignoreTlog), bad SET', async () => {
    const { digest, descriptor } = await fresh();
    const other = await fresh();
    await writeBundle({ repository, subject: descriptor, statement: signStatement(digest), predicateType: COSIGN_SIGN_PREDICATE_TYPE, signer: key.signer, rekor, tamper: { blob: signStatement(other.digest) } });
    await writeBundle({ repository, subject: descriptor, statement: signStatement(other.digest), predicateType: COSIGN_SIGN_PREDICATE_TYPE, signer: key.signer, rekor });
    await writeBundle({ repository, subject: descriptor, statement: signStatement(digest), predicateType: COSIGN_SIGN_PREDICATE_TYPE, signer: key.signer });
    await writeBundle({ repository, subject: descriptor, statement: signStatement(digest), predicateType: COSIGN_SIGN_PREDICATE_TYPE, signer: key.signer, rekor, tamper: { entry: (entry) => ({ ...entry, logIndex: entry.logIndex + 1 }) } });
    const error = await rejected(verifyImageSignatures({ repository, image: { name: name(), digest }, trust: keyTrust() }), digest, ['signature', 'subject', 'tlog-missing', 'tlog-set']);
    assert.match(error.message, /referrer sha256:[0-9a-f]{64}: the signature does not verify with the key/);
    const accepted = await verifyImageSignatures({ repository, image: { name: name(), digest }, trust: keyTrust({ ignoreTlog: true }) });
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]?.tlogEntry, undefined);
  });
});

describe('trusted root', () => {
  test('the mock root parses: one Rekor key with its log ID, one CA', () => {
    assert.equal(root.tlogs.length, 1);
    assert.ok(root.tlogs[0]?.logId.equals(mock.rekorLogId));
    assert.equal(root.certificateAuthorities[0]?.certificates[0]?.fingerprint256, new X509Certificate(mock.caRootPem).fingerprint256);
  });

  test('malformed roots are refused naming the file', () => {
    const good = JSON.parse(mockTrustedRoot(mock).toString()) as Record<string, unknown> & { tlogs: { logId: { keyId: string } }[] };
    const bad = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
    assert.throws(() => parseTrustedRoot({ bytes: Buffer.from('nope'), what: 'root.json' }), /trusted root root\.json: not JSON/);
    assert.throws(() => parseTrustedRoot({ bytes: bad({ ...good, mediaType: 'application/json' }), what: 'root.json' }), /trusted root root\.json: mediaType "application\/json" is not/);
    const wrongId = { ...good, tlogs: [{ ...good.tlogs[0], logId: { keyId: Buffer.alloc(32).toString('base64') } }] };
    assert.throws(() => parseTrustedRoot({ bytes: bad(wrongId), what: 'root.json' }), /tlogs\[0\]\.logId\.keyId is not the sha256 of its public key/);
    assert.throws(() => parseTrustedRoot({ bytes: bad({ ...good, certificateAuthorities: [{ certChain: { certificates: [] } }] }), what: 'root.json' }), /certificateAuthorities\[0\]\.certChain\.certificates is missing or empty/);
    // The v0.2 media type is accepted.
    assert.equal(parseTrustedRoot({ bytes: bad({ ...good, mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.2+json' }), what: 'root.json' }).tlogs.length, 1);
  });
});
