// `caisson sign` through runCli against Debian's docker-registry: a key from `caisson
// generate-key-pair` (password in COSIGN_PASSWORD), the tag resolved to its digest, the .sig read
// back with skopeo and checked with openssl and cosign.pub; Rekor and keyless against the Sigstore
// mocks; and the usage, key and unknown-image errors (nothing pushed).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OciLayout } from '../../src/image/index.js';
import { runCaisson, type CliResult } from '../support/cli.js';
import { makeImage, makeLayer, writeImage } from '../support/images.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { fakeIdentityToken, startSigstoreMock, type SigstoreMock } from '../support/sigstore-mock.js';
import { missingTool, runTool } from '../support/tools.js';
import { opensslTimestampVerifies, opensslVerifies } from '../supplychain/support.js';

const missing = missingTool('docker-registry', 'docker-registry') ?? missingTool('skopeo', 'skopeo') ?? missingTool('openssl', 'openssl');
const PASSWORD = 'correct horse battery';

interface Layer {
  readonly digest: string;
  readonly annotations?: Record<string, string>;
}

describe('caisson sign', { skip: missing }, () => {
  let dir = '';
  let registry: RunningRegistry;
  let mock: SigstoreMock;
  let env: Record<string, string> = {};
  let digest = '';
  let image = '';

  const cli = (argv: string[], extra: Record<string, string> = {}): Promise<CliResult> => runCaisson(argv, { cwd: dir, env: { ...env, ...extra } });
  const raw = (reference: string): string => runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reference}`]);
  const sigTag = (): string => `sha256-${digest.slice('sha256:'.length)}.sig`;
  const layers = (): Layer[] => (JSON.parse(raw(`${image.split(':v1')[0]}:${sigTag()}`)) as { layers: Layer[] }).layers;
  async function tags(repo: string): Promise<string[]> {
    const response = await fetch(`${registry.url}/v2/${repo}/tags/list`);
    return ((await response.json()) as { tags: string[] }).tags;
  }
  async function blob(repo: string, blobDigest: string): Promise<Buffer> {
    return Buffer.from(await (await fetch(`${registry.url}/v2/${repo}/blobs/${blobDigest}`)).arrayBuffer());
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'caisson-sign-cli-'));
    env = { HOME: dir, PATH: process.env['PATH'] ?? '' };
    registry = await startRegistry({ setup: 'plain' });
    mock = await startSigstoreMock();
    const layout = await OciLayout.openOrCreate(join(dir, 'layout'));
    await writeImage(layout, makeImage({ layers: [makeLayer({ 'etc/motd': 'sign me\n' })] }), { tag: 'v1' });
    await layout.commit();
    image = `${registry.host}/cli/app:v1`;
    const pushed = await cli(['copy', 'oci:layout:v1', image]);
    assert.equal(pushed.code, 0, pushed.stderr);
    digest = pushed.stdout.trim();
    const generated = await cli(['generate-key-pair'], { COSIGN_PASSWORD: PASSWORD });
    assert.equal(generated.code, 0, generated.stderr);
  });
  after(async () => {
    await mock?.close();
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an unknown image: exit 6 naming the reference, no signature tag written', async () => {
    const result = await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', `${registry.host}/cli/app:nope`], { COSIGN_PASSWORD: PASSWORD });
    assert.equal(result.code, 6, result.stderr);
    assert.match(result.stderr, new RegExp(`${registry.host.replace(/\./g, '\\.')}/cli/app:nope`));
    assert.deepEqual(await tags('cli/app'), ['v1']);
  });

  test('--key cosign.key --tlog-upload=false -a: the tag is signed at its digest; openssl verifies with cosign.pub', async () => {
    const result = await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', '-a', 'env=prod', '--annotation', 'team=ci', image], { COSIGN_PASSWORD: PASSWORD });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${registry.host}/cli/app:${sigTag()}\n`);
    assert.equal(digest, `sha256:${createHash('sha256').update(raw(image)).digest('hex')}`);
    const [layer, ...rest] = layers();
    assert.ok(layer !== undefined && rest.length === 0);
    assert.deepEqual(Object.keys(layer.annotations ?? {}), ['dev.cosignproject.cosign/signature'], 'no Rekor bundle without the tlog');
    const payload = await blob('cli/app', layer.digest);
    const parsed = JSON.parse(payload.toString()) as { critical: { image: Record<string, string> }; optional: unknown };
    assert.equal(parsed.critical.image['docker-manifest-digest'], digest);
    assert.deepEqual(parsed.optional, { env: 'prod', team: 'ci' });
    const signature = Buffer.from(layer.annotations?.['dev.cosignproject.cosign/signature'] ?? '', 'base64');
    assert.ok(opensslVerifies({ publicKeyPem: readFileSync(join(dir, 'cosign.pub'), 'utf8'), signature, data: payload }));

    const again = await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', '-a', 'env=prod', '-a', 'team=ci', `docker://${registry.host}/cli/app@${digest}`], { COSIGN_PASSWORD: PASSWORD });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(layers().length, 1, 'the same signature is not added twice');
  });

  test('with Rekor (--rekor-url) the layer carries the bundle annotation; keyless (SIGSTORE_ID_TOKEN) the certificate', async () => {
    const keyed = await cli(['sign', '--key', 'cosign.key', '--rekor-url', mock.rekorURL, image], { COSIGN_PASSWORD: PASSWORD });
    assert.equal(keyed.code, 0, keyed.stderr);
    assert.ok(layers().at(-1)?.annotations?.['dev.sigstore.cosign/bundle'] !== undefined);
    const token = fakeIdentityToken({ iss: 'https://issuer.example', sub: 'https://example.com/ci' });
    const keyless = await cli(['sign', '--fulcio-url', mock.fulcioURL, '--rekor-url', mock.rekorURL, image], { SIGSTORE_ID_TOKEN: token });
    assert.equal(keyless.code, 0, keyless.stderr);
    const last = layers().at(-1)?.annotations ?? {};
    assert.match(last['dev.sigstore.cosign/certificate'] ?? '', /BEGIN CERTIFICATE/);
    assert.ok(last['dev.sigstore.cosign/bundle'] !== undefined);
    assert.ok(!keyless.stderr.includes(token));
  });

  test('--signature-format bundle prints the referrer', async () => {
    const result = await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', '--signature-format', 'bundle', image], { COSIGN_PASSWORD: PASSWORD });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^${registry.host.replace(/\./g, '\\.')}/cli/app@sha256:[0-9a-f]{64}\\n$`));
    const manifest = JSON.parse(raw(result.stdout.trim())) as { subject: { digest: string } };
    assert.equal(manifest.subject.digest, digest);
  });

  test('--tsa-url: the new layer carries an RFC 3161 timestamp over its signature that openssl ts -verify accepts', async () => {
    const result = await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', '--tsa-url', mock.tsaURL, '-a', 'stamped=yes', image], { COSIGN_PASSWORD: PASSWORD });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /timestamped by http:\/\/127\.0\.0\.1:\d+\/api\/v1\/timestamp/);
    const layer = layers().at(-1);
    const stamp = JSON.parse(layer?.annotations?.['dev.sigstore.cosign/rfc3161timestamp'] ?? '{}') as { SignedRFC3161Timestamp?: string };
    const signature = Buffer.from(layer?.annotations?.['dev.cosignproject.cosign/signature'] ?? '', 'base64');
    assert.ok(opensslTimestampVerifies({ response: Buffer.from(stamp.SignedRFC3161Timestamp ?? '', 'base64'), data: signature, chainPem: mock.tsaChainPem }));
  });

  test('no key source: a usage error listing the three ways', async () => {
    const result = await cli(['sign', '--tlog-upload=false', image]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /nothing to sign with/);
    assert.match(result.stderr, /--key .*--signing-secrets .*--identity-token-file .*SIGSTORE_ID_TOKEN/s);
  });

  test('keyless refuses --tlog-upload=false', async () => {
    const result = await cli(['sign', '--tlog-upload=false', '--fulcio-url', mock.fulcioURL, image], { SIGSTORE_ID_TOKEN: fakeIdentityToken({ sub: 'x', iss: 'y' }) });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /keyless signing needs the transparency log/);
  });

  test('a wrong password: ERR_SIGNING_KEY, exit 9, the password not echoed, nothing pushed', async () => {
    const before = await tags('cli/app');
    const wrong = 'not-the-password-31337';
    const result = await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', image], { COSIGN_PASSWORD: wrong });
    assert.equal(result.code, 9, result.stderr);
    assert.match(result.stderr, /signing key cosign\.key: wrong password/);
    assert.match(result.stderr, /COSIGN_PASSWORD/);
    assert.ok(!result.stderr.includes(wrong) && !result.stdout.includes(wrong));
    assert.deepEqual(await tags('cli/app'), before);
  });
});
