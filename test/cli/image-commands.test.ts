// `caisson inspect` and `caisson copy` through runCli, against a real docker-registry (TLS +
// basic auth, credentials from a DOCKER_CONFIG config.json, the CA from --registry-certificate),
// OCI layouts and docker-archive files; and their bad inputs.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OciLayout } from '../../src/image/index.js';
import { runCaisson, type CliResult } from '../support/cli.js';
import { makeImage, makeIndex, makeLayer, writeImage, type TestImage } from '../support/images.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';
import { testBadInputs, type BadInput } from '../support/bad-inputs.js';

let dir = '';
let env: Record<string, string> = {};
function cli(argv: string[]): Promise<CliResult> {
  return runCaisson(argv, { cwd: dir, env });
}

let image: TestImage;
let arm: TestImage;
let indexDigest = '';
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-image-cli-test-'));
  env = { HOME: dir, PATH: process.env['PATH'] ?? '' };
  image = makeImage({ layers: [makeLayer({ 'etc/motd': 'hi\n' })] });
  arm = makeImage({ layers: [makeLayer({ 'etc/motd': 'arm\n' })], platform: { os: 'linux', architecture: 'arm64' } });
  const layout = await OciLayout.openOrCreate(join(dir, 'layout'));
  await writeImage(layout, image, { tag: 'v1' });
  await writeImage(layout, arm, { root: false });
  const index = makeIndex([image, arm]);
  indexDigest = index.descriptor.digest;
  await layout.writeManifest({ descriptor: index.descriptor, bytes: index.bytes, tag: 'multi', root: true });
  await layout.commit();
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('caisson inspect and copy on local files', () => {
  test('inspect an OCI layout: digest, platform, layers, size', async () => {
    const result = await cli(['inspect', 'oci:layout:v1']);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { digest: string; platform: string; layers: { digest: string }[]; size: number };
    assert.equal(summary.digest, image.manifest.digest);
    assert.equal(summary.platform, 'linux/amd64');
    assert.deepEqual(summary.layers.map((layer) => layer.digest), [image.layers[0]?.descriptor.digest]);
    assert.equal(summary.size, image.config.size + (image.layers[0]?.descriptor.size ?? 0));
  });

  test('inspect --raw prints the exact bytes; --config the config; --platform picks from an index', async () => {
    assert.equal((await cli(['inspect', '--raw', 'oci:layout:v1'])).stdout, image.manifestBytes.toString());
    assert.equal((await cli(['inspect', '--config', '--raw', 'oci:layout:v1'])).stdout, image.configBytes.toString());
    const armSummary = JSON.parse((await cli(['inspect', '--platform', 'linux/arm64', 'oci:layout:multi'])).stdout) as { image: string; platform: string; manifests: unknown[] };
    assert.equal(armSummary.image, arm.manifest.digest);
    assert.equal(armSummary.platform, 'linux/arm64');
    assert.equal(armSummary.manifests.length, 2);
  });

  test('copy oci → docker-archive picks one platform; the archive copies back with the same digest', async () => {
    const copied = await cli(['copy', '--platform', 'linux/arm64', 'oci:layout:multi', 'docker-archive:arm.tar:example.com/app:arm']);
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(copied.stdout.trim(), arm.manifest.digest);
    const back = await cli(['copy', 'docker-archive:arm.tar:example.com/app:arm', 'oci:back:arm']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout.trim(), arm.manifest.digest);
  });

  const bad: BadInput[] = [
    ['an invalid reference', ['inspect', 'Docker.io/Library/Alpine'], 6, /invalid image reference "Docker.io\/Library\/Alpine"/],
    ['an unknown transport', ['inspect', 'ftp:thing'], 2, /unknown transport "ftp:"/],
    ['a missing layout', ['inspect', 'oci:nowhere'], 4, /nowhere: not an OCI image layout/],
    ['a tag the layout lacks', ['inspect', 'oci:layout:v9'], 6, /oci:.*layout:v9: no such image in the layout/],
    ['a platform the index lacks', ['inspect', '--platform', 'linux/s390x', 'oci:layout:multi'], 6, /no image for linux\/s390x/],
    ['a missing argument', ['copy', 'oci:layout:v1'], 2, /needs the argument <destination>/],
    ['a missing CA file', ['inspect', '--registry-certificate', 'r.example=nope.pem', 'oci:layout:v1'], 4, /--registry-certificate: cannot read .*nope.pem/],
    ['a bad retry count', ['copy', '--push-retry', 'lots', 'oci:layout:v1', 'oci:x:v1'], 2, /--push-retry "lots"/],
  ];
  testBadInputs(bad, cli);

  test('a copy that fails leaves no archive behind', async () => {
    const result = await cli(['copy', 'oci:layout:multi', 'docker-archive:bad.tar', '--platform', 'linux/s390x']);
    assert.notEqual(result.code, 0);
    assert.ok(!readdirSync(dir).some((name) => name.startsWith('bad.tar')));
  });

  test('a registry where nothing listens: ERR_REGISTRY_UNAVAILABLE naming host and port, and a hint that says so', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = await cli(['inspect', `docker://127.0.0.1:${port}/app:1`, '--image-download-retry', '0']);
    assert.equal(result.code, 5, result.stderr);
    assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*\\[ERR_REGISTRY_UNAVAILABLE\\]\nhint: Nothing listens at 127\\.0\\.0\\.1:${port}: check that the registry runs and that the host and port are right\\.`));
  });
});

describe('caisson copy and inspect against a registry (TLS + basic auth)', { skip: missingTool('docker-registry', 'docker-registry') ?? missingTool('skopeo', 'skopeo') }, () => {
  let registry: RunningRegistry;
  let caFile = '';
  before(async () => {
    registry = await startRegistry({ setup: 'tls-basic' });
    caFile = join(dir, 'registry-ca.pem');
    writeFileSync(caFile, registry.caPem ?? '');
    const config = join(dir, 'docker-config');
    mkdirSync(config, { recursive: true });
    const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
    writeFileSync(join(config, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth } } }));
    env = { ...env, DOCKER_CONFIG: config };
  });
  after(async () => {
    await registry?.stop();
  });

  test('copy an index to the registry and back; skopeo sees the same digest', async () => {
    const flags = ['--registry-certificate', `${registry.host}=${caFile}`];
    const pushed = await cli(['copy', ...flags, 'oci:layout:multi', `${registry.host}/cli/app:1.0`]);
    assert.equal(pushed.code, 0, pushed.stderr);
    const certDir = join(dir, 'skopeo-certs');
    mkdirSync(certDir, { recursive: true });
    writeFileSync(join(certDir, 'ca.crt'), registry.caPem ?? '');
    const raw = runTool('skopeo', ['inspect', '--raw', `--cert-dir=${certDir}`, `--creds=${registry.username}:${registry.password}`, `docker://${registry.host}/cli/app:1.0`]);
    assert.equal(JSON.parse(raw).manifests.length, 2);
    const inspected = JSON.parse((await cli(['inspect', ...flags, '--platform', 'linux/arm64', `docker://${registry.host}/cli/app:1.0`])).stdout) as { image: string };
    assert.equal(inspected.image, arm.manifest.digest);
    const pulled = await cli(['copy', ...flags, `${registry.host}/cli/app:1.0`, 'oci:pulled:1.0']);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.stdout.trim(), indexDigest);
    assert.equal((await cli(['inspect', '--raw', 'oci:pulled:1.0'])).stdout, (await cli(['inspect', '--raw', 'oci:layout:multi'])).stdout);
    assert.ok(existsSync(join(dir, 'pulled', 'index.json')));
  });

  test('a tag the registry lacks: MANIFEST_UNKNOWN with the reference and a hint', async () => {
    const result = await cli(['inspect', '--registry-certificate', `${registry.host}=${caFile}`, `${registry.host}/cli/app:nope`]);
    assert.equal(result.code, 6);
    assert.match(result.stderr, new RegExp(`${registry.host.replace('.', '\\.')}/cli/app:nope: GET manifest failed with HTTP 404 \\(MANIFEST_UNKNOWN`));
    assert.match(result.stderr, /hint: /);
  });

  test('no credentials: UNAUTHORIZED with a hint to log in; the password never shows', async () => {
    const saved = env;
    env = { HOME: dir, PATH: saved['PATH'] ?? '' };
    try {
      const result = await cli(['inspect', '--registry-certificate', `${registry.host}=${caFile}`, `${registry.host}/cli/app:1.0`]);
      assert.equal(result.code, 5);
      assert.match(result.stderr, /UNAUTHORIZED|authentication/);
      assert.match(result.stderr, /config\.json/);
      assert.ok(!result.stderr.includes(registry.password ?? 'never'));
    } finally {
      env = saved;
    }
  });
});
