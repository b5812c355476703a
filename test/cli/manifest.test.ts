// `caisson manifest create` and `push` through runCli against a real docker-registry: images of two
// platforms (made in memory, in OCI layouts and pushed) merged into an OCI index in the registry,
// read back with skopeo (--raw, and per platform with --override-arch); an index and an image
// merged; Docker schema 2 images giving a Docker manifest list; an index created in an OCI layout
// and pushed with the same digest (and its Tekton results); and the bad inputs (duplicate platforms naming both images, a
// docker-archive list, no images, pushing a single image, an unknown action).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MediaType, OciLayout } from '../../src/image/index.js';
import { runCaisson, type CliResult } from '../support/cli.js';
import { makeImage, makeIndex, makeLayer, writeImage, type TestImage } from '../support/images.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';
import { testBadInputs, type BadInput } from '../support/bad-inputs.js';

let dir = '';
let registry: RunningRegistry;
let flags: string[] = [];
const env = (): Record<string, string> => ({ HOME: dir, PATH: process.env['PATH'] ?? '' });
function cli(argv: readonly string[]): Promise<CliResult> {
  return runCaisson([...argv, ...flags], { cwd: dir, env: env() });
}

const amd = makeImage({ layers: [makeLayer({ 'etc/motd': 'amd64\n' })] });
const arm = makeImage({ layers: [makeLayer({ 'etc/motd': 'arm64\n' })], platform: { os: 'linux', architecture: 'arm64' } });
const armv7 = makeImage({ layers: [makeLayer({ 'etc/motd': 'armv7\n' })], platform: { os: 'linux', architecture: 'arm', variant: 'v7' } });
const dockerAmd = makeImage({ layers: amd.layers, format: 'docker' });
const dockerArm = makeImage({ layers: arm.layers, format: 'docker', platform: { os: 'linux', architecture: 'arm64' } });

interface RawIndex {
  readonly mediaType: string;
  readonly manifests: readonly { readonly mediaType: string; readonly digest: string; readonly platform: { readonly architecture: string; readonly variant?: string } }[];
  readonly annotations?: Record<string, string>;
}

function skopeo(args: readonly string[]): string {
  return runTool('skopeo', [args[0] as string, '--tls-verify=false', ...args.slice(1)]);
}

async function layoutOf(name: string, images: readonly [TestImage, string][]): Promise<void> {
  const layout = await OciLayout.openOrCreate(join(dir, name));
  for (const [image, tag] of images) await writeImage(layout, image, { tag });
  await layout.commit();
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-manifest-test-'));
  registry = await startRegistry({ setup: 'plain' });
  flags = ['--insecure-registry', registry.host];
  await layoutOf('images', [[amd, 'amd64'], [arm, 'arm64'], [armv7, 'armv7'], [dockerAmd, 'docker-amd64'], [dockerArm, 'docker-arm64']]);
  for (const tag of ['amd64', 'arm64', 'docker-amd64', 'docker-arm64']) {
    const copied = await cli(['copy', `oci:images:${tag}`, `${registry.host}/app/parts:${tag}`]);
    assert.equal(copied.code, 0, copied.stderr);
  }
});
after(async () => {
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('caisson manifest', () => {
  test('create: two images of the registry become one OCI index there; skopeo reads each platform', async (context) => {
    const list = `${registry.host}/app/multi:1.0`;
    const result = await cli(['manifest', 'create', list, `${registry.host}/app/parts:arm64`, `docker://${registry.host}/app/parts:amd64`, '--digest-file', 'digest.txt']);
    assert.equal(result.code, 0, result.stderr);
    const [printed, digest] = result.stdout.trim().split('@');
    assert.equal(printed, list);
    assert.equal(readFileSync(join(dir, 'digest.txt'), 'utf8'), digest);
    assert.match(result.stderr, /OCI image index of 2 image\(s\): linux\/amd64, linux\/arm64/);
    const skipped = missingTool('skopeo', 'skopeo');
    if (skipped !== undefined) {
      context.diagnostic(`skopeo checks skipped: ${skipped}`);
      return;
    }
    const raw = skopeo(['inspect', '--raw', `docker://${list}`]);
    assert.equal(`sha256:${(await import('node:crypto')).createHash('sha256').update(raw).digest('hex')}`, digest);
    const index = JSON.parse(raw) as RawIndex;
    assert.equal(index.mediaType, MediaType.ociIndex);
    assert.deepEqual(index.manifests.map((m) => [m.digest, m.platform.architecture]), [[amd.manifest.digest, 'amd64'], [arm.manifest.digest, 'arm64']]);
    for (const [arch, image] of [['arm64', arm], ['amd64', amd]] as const) {
      const inspected = JSON.parse(skopeo(['inspect', '--override-os', 'linux', '--override-arch', arch, `docker://${list}`])) as { Architecture: string; Layers: string[] };
      assert.equal(inspected.Architecture, arch);
      assert.deepEqual(inspected.Layers, [image.layers[0]?.descriptor.digest]);
    }
    // Each platform's manifest is in the list's repository, byte for byte (its digest kept).
    const copied = skopeo(['inspect', '--raw', `docker://${registry.host}/app/multi@${arm.manifest.digest}`]);
    assert.equal(copied, arm.manifestBytes.toString());
  });

  test('create: an index and an image merge; annotations go on the index', async () => {
    const index = makeIndex([amd, arm]);
    const layout = await OciLayout.openOrCreate(join(dir, 'images'));
    await layout.writeManifest({ descriptor: index.descriptor, bytes: index.bytes, tag: 'pair', root: true });
    await layout.commit();
    const result = await cli(['manifest', 'create', 'oci:merged:1.0', 'oci:images:pair', 'oci:images:armv7', '--annotation', 'org.opencontainers.image.version=1.0']);
    assert.equal(result.code, 0, result.stderr);
    const raw = JSON.parse((await cli(['inspect', '--raw', 'oci:merged:1.0'])).stdout) as RawIndex;
    assert.deepEqual(raw.manifests.map((m) => [m.digest, m.platform.architecture, m.platform.variant]), [
      [amd.manifest.digest, 'amd64', undefined],
      [armv7.manifest.digest, 'arm', 'v7'],
      [arm.manifest.digest, 'arm64', undefined],
    ]);
    assert.deepEqual(raw.annotations, { 'org.opencontainers.image.version': '1.0' });
  });

  test('create: Docker schema 2 images give a Docker manifest list; --image-format oci an OCI index of them', async () => {
    const list = await cli(['manifest', 'create', `${registry.host}/app/docker:1.0`, `${registry.host}/app/parts:docker-amd64`, `${registry.host}/app/parts:docker-arm64`]);
    assert.equal(list.code, 0, list.stderr);
    const raw = JSON.parse((await cli(['inspect', '--raw', `${registry.host}/app/docker:1.0`])).stdout) as RawIndex;
    assert.equal(raw.mediaType, MediaType.dockerManifestList);
    assert.deepEqual(raw.manifests.map((m) => m.mediaType), [MediaType.dockerManifest, MediaType.dockerManifest]);
    const oci = await cli(['manifest', 'create', 'oci:docker-oci', `${registry.host}/app/parts:docker-amd64`, `${registry.host}/app/parts:docker-arm64`, '--image-format', 'oci']);
    assert.equal(oci.code, 0, oci.stderr);
    assert.equal((JSON.parse((await cli(['inspect', '--raw', 'oci:docker-oci'])).stdout) as RawIndex).mediaType, MediaType.ociIndex);
    const refused = await cli(['manifest', 'create', 'oci:mixed', 'oci:images:amd64', '--image-format', 'docker']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /oci:.*images:amd64 is a application\/vnd\.oci\.image\.manifest\.v1\+json manifest; a Docker manifest list lists only Docker schema 2 manifests/);
  });

  test('create into a layout, then push: the registry gets the same index digest', async () => {
    const created = await cli(['manifest', 'create', 'oci:local-list:2.0', 'oci:images:amd64', 'oci:images:arm64']);
    assert.equal(created.code, 0, created.stderr);
    const digest = created.stdout.trim().split('@')[1];
    const pushed = await cli(['manifest', 'push', 'oci:local-list:2.0', `${registry.host}/app/pushed:2.0`, '--results-dir', 'results']);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(pushed.stdout.trim(), `${registry.host}/app/pushed:2.0@${digest}`);
    // The Tekton results name the index, as the multi-platform Pipeline's create-index task reports it.
    assert.equal(readFileSync(join(dir, 'results', 'IMAGE_DIGEST'), 'utf8'), digest);
    assert.equal(readFileSync(join(dir, 'results', 'IMAGE_URL'), 'utf8'), `${registry.host}/app/pushed:2.0`);
    assert.equal(readFileSync(join(dir, 'results', 'IMAGES'), 'utf8'), `${registry.host}/app/pushed@${digest}`);
    const inspected = JSON.parse((await cli(['inspect', '--platform', 'linux/arm64', `${registry.host}/app/pushed:2.0`])).stdout) as { digest: string; image: string };
    assert.equal(inspected.digest, digest);
    assert.equal(inspected.image, arm.manifest.digest);
  });

  const bad: BadInput[] = [
    ['two images of one platform, named both', ['manifest', 'create', 'oci:dup', 'oci:images:arm64', 'oci:images:amd64', 'oci:images:docker-arm64'], 2, /oci:.*images:arm64 and oci:.*images:docker-arm64 are both linux\/arm64: an index lists one image per platform/],
    ['a docker-archive list', ['manifest', 'create', 'docker-archive:out.tar', 'oci:images:amd64'], 2, /a docker-archive holds single images, not an index/],
    ['no images', ['manifest', 'create', 'oci:none'], 2, /needs the images to list/],
    ['a list by digest', ['manifest', 'create', `example.com/app@${amd.manifest.digest}`, 'oci:images:amd64'], 2, /give a tag to push the index to/],
    ['pushing a single image', ['manifest', 'push', 'oci:images:amd64', 'example.com/app:1'], 2, /is a single image .*not an index/],
    ['push without a destination', ['manifest', 'push', 'oci:images:amd64'], 2, /takes an oci: layout and one registry reference/],
    ['an unknown action', ['manifest', 'inspect', 'x'], 2, /caisson manifest inspect: unknown action/],
    ['an image that is not there', ['manifest', 'create', 'oci:gone', 'oci:images:v9'], 6, /images:v9: no such image in the layout/],
  ];
  testBadInputs(bad, cli);
});
