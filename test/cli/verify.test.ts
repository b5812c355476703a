// `caisson verify` and `caisson verify-attestation` through runCli against a real docker-registry
// and the Sigstore mock: a tag is resolved to its digest, payloads are printed as JSON lines,
// "Verified OK" lines on stderr, exit 10 naming the image and each rejection, usage errors for
// missing trust, SIGSTORE_REKOR_PUBLIC_KEY and --insecure-ignore-tlog.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Digest } from '../../src/image/index.js';
import { defaultRegistryOptions, RegistrySession, staticCredentials, type RegistryRepository } from '../../src/registry/index.js';
import {
  buildStatement, identityTokenSource, imageSubject, KeylessSigner, RekorClient, serializeStatement, simpleSigningPayload, SLSA_PROVENANCE_V1,
} from '../../src/supplychain/index.js';
import { runCaisson, type CliResult } from '../support/cli.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { fakeIdentityToken, startSigstoreMock, type SigstoreMock } from '../support/sigstore-mock.js';
import { p256Key, type TestKey } from '../supplychain/support.js';
import { mockTrustedRoot, pushImage, writeLegacyAttestation, writeLegacySignature } from '../supplychain/verify-support.js';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const SUBJECT = 'https://kubernetes.io/namespaces/ci/serviceaccounts/builder';

let dir = '';
let registry: RunningRegistry;
let mock: SigstoreMock;
let session: RegistrySession;
let repository: RegistryRepository;
let rekor: RekorClient;
let key: TestKey;
let signed: Digest;
let unsigned: Digest;

function cli(argv: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCaisson(argv, { cwd: dir, env: { HOME: dir, ...env } });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-verify-cli-'));
  [registry, mock] = await Promise.all([startRegistry({ setup: 'plain' }), startSigstoreMock()]);
  session = new RegistrySession({ ...defaultRegistryOptions({ credentials: staticCredentials(new Map()), userAgent: 'caisson-test' }) });
  repository = session.repository({ registry: registry.host, repository: 'app' });
  rekor = new RekorClient({ rekorURL: mock.rekorURL });
  key = p256Key();
  writeFileSync(join(dir, 'cosign.pub'), key.publicKeyPem);
  writeFileSync(join(dir, 'other.pub'), p256Key().publicKeyPem);
  writeFileSync(join(dir, 'trusted_root.json'), mockTrustedRoot(mock));
  writeFileSync(join(dir, 'rekor.pub'), mock.rekorPublicKeyPem);
  const name = `${registry.host}/app`;
  signed = (await pushImage(repository, 'signed', 'v1')).manifest.digest as Digest;
  unsigned = (await pushImage(repository, 'unsigned', 'bare')).manifest.digest as Digest;
  await writeLegacySignature({ repository, digest: signed, payload: simpleSigningPayload({ dockerReference: name, digest: signed, annotations: { env: 'prod' } }), signer: key.signer, rekor });
  const keyless = new KeylessSigner({ fulcioURL: mock.fulcioURL, tokenSource: identityTokenSource({ env: { SIGSTORE_ID_TOKEN: fakeIdentityToken({ iss: ISSUER, sub: SUBJECT }) } }) });
  await writeLegacySignature({ repository, digest: signed, payload: simpleSigningPayload({ dockerReference: name, digest: signed }), signer: keyless, rekor });
  const statement = serializeStatement(buildStatement({ subjects: [imageSubject({ digest: signed, name })], predicateType: SLSA_PROVENANCE_V1, predicate: { buildDefinition: { buildType: 'test' } } }));
  await writeLegacyAttestation({ repository, digest: signed, statement, predicateType: SLSA_PROVENANCE_V1, signer: key.signer, rekor });
});
after(async () => {
  await session?.close();
  await Promise.all([registry?.stop(), mock?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('caisson verify', () => {
  test('--key: the tag is resolved, the payload printed as a JSON line, Verified OK on stderr', async () => {
    const result = await cli(['verify', '--key', 'cosign.pub', '--trusted-root', 'trusted_root.json', '-a', 'env=prod', `${registry.host}/app:v1`]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const payload = JSON.parse(lines[0] ?? '') as { critical: { image: { 'docker-manifest-digest': string } }; optional: Record<string, string> };
    assert.equal(payload.critical.image['docker-manifest-digest'], signed);
    assert.deepEqual(payload.optional, { env: 'prod' });
    assert.match(result.stderr, new RegExp(`Verified OK: ${registry.host}/app@${signed} \\(sha256-[0-9a-f]{64}\\.sig layer 1\\) signed by the key; Rekor entry \\d+ at `));
  });

  test('keyless: identity and issuer against the trusted root; the Rekor key from SIGSTORE_REKOR_PUBLIC_KEY', async () => {
    const result = await cli(['verify', '--certificate-identity', SUBJECT, '--certificate-oidc-issuer', ISSUER, '--trusted-root', 'trusted_root.json', `docker://${registry.host}/app@${signed}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`signed by ${SUBJECT.replaceAll('.', '\\.')} \\(issuer ${ISSUER.replaceAll('.', '\\.')}\\)`));
    const withEnv = await cli(['verify', '--key', 'cosign.pub', `${registry.host}/app:v1`], { SIGSTORE_REKOR_PUBLIC_KEY: 'rekor.pub' });
    assert.equal(withEnv.code, 0, withEnv.stderr);
  });

  test('failures exit 10 naming the image and what failed', async () => {
    const wrongKey = await cli(['verify', '--key', 'other.pub', '--trusted-root', 'trusted_root.json', `${registry.host}/app:v1`]);
    assert.equal(wrongKey.code, 10);
    assert.equal(wrongKey.stdout, '');
    assert.match(wrongKey.stderr, new RegExp(`${registry.host}/app@${signed}: no valid signature: .*layer 1: the signature does not verify with the key`));
    const none = await cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', `${registry.host}/app:bare`]);
    assert.equal(none.code, 10);
    assert.match(none.stderr, new RegExp(`${registry.host}/app@${unsigned}: no valid signature: .*no signatures found`));
    const annotation = await cli(['verify', '--key', 'cosign.pub', '--trusted-root', 'trusted_root.json', '-a', 'env=dev', `${registry.host}/app:v1`]);
    assert.equal(annotation.code, 10);
    assert.match(annotation.stderr, /lack env=dev/);
    const identity = await cli(['verify', '--certificate-identity', 'someone@example.com', '--certificate-oidc-issuer', ISSUER, '--trusted-root', 'trusted_root.json', `${registry.host}/app:v1`]);
    assert.equal(identity.code, 10);
    assert.match(identity.stderr, /is not someone@example\.com/);
  });

  const usage: [string, string[], RegExp][] = [
    ['no trust at all', ['verify', 'IMAGE'], /verify needs --key, or --certificate-identity and --certificate-oidc-issuer/],
    ['an identity without issuer', ['verify', '--certificate-identity', SUBJECT, '--trusted-root', 'trusted_root.json', 'IMAGE'], /needs both --certificate-identity and --certificate-oidc-issuer/],
    ['keyless without a trusted root', ['verify', '--certificate-identity', SUBJECT, '--certificate-oidc-issuer', ISSUER, 'IMAGE'], /needs --trusted-root with the Fulcio CA/],
    ['no Rekor key and no --insecure-ignore-tlog', ['verify', '--key', 'cosign.pub', 'IMAGE'], /no Rekor public key[^]*SIGSTORE_REKOR_PUBLIC_KEY/],
    ['a private key as --key', ['verify', '--key', 'private.pem', '--insecure-ignore-tlog', 'IMAGE'], /--key .*private\.pem: this is a private key/],
    ['a bad annotation', ['verify', '--key', 'cosign.pub', '-a', 'novalue', 'IMAGE'], /--annotation "novalue": expected KEY=VALUE/],
    ['an unknown --type', ['verify-attestation', '--key', 'cosign.pub', '--insecure-ignore-tlog', '--type', 'provenance', 'IMAGE'], /--type "provenance": neither a predicate type name nor a URI/],
  ];
  for (const [name, argv, message] of usage) {
    test(`usage: ${name}`, async () => {
      writeFileSync(join(dir, 'private.pem'), key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
      const result = await cli(argv.map((arg) => (arg === 'IMAGE' ? `${registry.host}/app:v1` : arg)));
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
    });
  }
});

describe('caisson verify-attestation', () => {
  test('SLSA v1 provenance by default: the envelope printed as cosign prints it', async () => {
    const result = await cli(['verify-attestation', '--key', 'cosign.pub', '--trusted-root', 'trusted_root.json', `${registry.host}/app:v1`]);
    assert.equal(result.code, 0, result.stderr);
    const envelope = JSON.parse(result.stdout.trim()) as { payload: string; payloadType: string };
    assert.equal(envelope.payloadType, 'application/vnd.in-toto+json');
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as { predicateType: string; subject: { digest: { sha256: string } }[] };
    assert.equal(statement.predicateType, SLSA_PROVENANCE_V1);
    assert.equal(`sha256:${statement.subject[0]?.digest.sha256}`, signed);
    assert.match(result.stderr, /Verified OK: https:\/\/slsa\.dev\/provenance\/v1 attestation of /);
  });

  test("--type custom (cosign's default) finds none: exit 10 with the predicateType mismatch", async () => {
    const result = await cli(['verify-attestation', '--key', 'cosign.pub', '--trusted-root', 'trusted_root.json', '--type', 'custom', `${registry.host}/app:v1`]);
    assert.equal(result.code, 10);
    assert.match(result.stderr, /no valid attestation: .*predicateType is https:\/\/slsa\.dev\/provenance\/v1, not https:\/\/cosign\.sigstore\.dev\/attestation\/v1/);
  });
});
