// Image indexes made from images (buildImageIndex) and served with their images' blobs
// (IndexSource): entries sorted by platform whatever the input order, each platform from the
// config (normalised), OCI index and Docker manifest list media types, annotations on OCI only;
// duplicate platforms and OCI manifests in a Docker list refused naming the images; an index
// copied into an OCI layout validates and reads back per platform with skopeo.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import {
  buildImageIndex, configPlatform, copyImage, IndexSource, MediaType, OciLayout, parseConfig, parseManifest, validateImage,
  type ImageManifest, type IndexEntry,
} from '../../src/image/index.js';
import { makeImage, makeLayer, writeImage, type TestImage } from '../support/images.js';
import { missingTool, runTool } from '../support/tools.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-image-index-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const amd = makeImage({ layers: [makeLayer({ 'etc/motd': 'amd64\n' })] });
const arm = makeImage({ layers: [makeLayer({ 'etc/motd': 'arm64\n' })], platform: { os: 'linux', architecture: 'arm64' } });
const armv7 = makeImage({ layers: [makeLayer({ 'etc/motd': 'arm\n' })], platform: { os: 'linux', architecture: 'arm', variant: 'v7' } });

function entry(image: TestImage, name: string): IndexEntry {
  return { descriptor: image.manifest, platform: configPlatform(parseConfig({ bytes: image.configBytes, what: name })), name };
}

function thrown(work: () => unknown): CaissonError {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof CaissonError, String(error));
    return error;
  }
  assert.fail('expected a CaissonError');
}

describe('buildImageIndex', () => {
  test('an OCI index: one entry per image, sorted by platform, platform from the config', () => {
    const forward = buildImageIndex({ entries: [entry(arm, 'arm'), entry(amd, 'amd'), entry(armv7, 'armv7')], format: 'oci' });
    const backward = buildImageIndex({ entries: [entry(armv7, 'armv7'), entry(amd, 'amd'), entry(arm, 'arm')], format: 'oci' });
    assert.equal(forward.descriptor.digest, backward.descriptor.digest, 'the order given does not change the digest');
    assert.equal(forward.descriptor.mediaType, MediaType.ociIndex);
    const parsed = parseManifest({ bytes: forward.bytes, mediaType: MediaType.ociIndex, what: 'index' });
    assert.equal(parsed.kind, 'index');
    assert.deepEqual(forward.index.manifests.map((m) => [m.digest, m.platform]), [
      [amd.manifest.digest, { architecture: 'amd64', os: 'linux' }],
      [armv7.manifest.digest, { architecture: 'arm', os: 'linux', variant: 'v7' }],
      [arm.manifest.digest, { architecture: 'arm64', os: 'linux' }],
    ]);
    assert.deepEqual(forward.index.manifests.map((m) => [m.mediaType, m.size]), [amd, armv7, arm].map((image) => [MediaType.ociManifest, image.manifest.size]));
  });

  test('platforms are normalised (aarch64 → arm64); annotations go on an OCI index', () => {
    const index = buildImageIndex({
      entries: [{ ...entry(arm, 'arm'), platform: { os: 'linux', architecture: 'aarch64' } }],
      format: 'oci',
      annotations: new Map([['org.opencontainers.image.source', 'https://example.com/repo']]),
    });
    assert.deepEqual(index.index.manifests[0]?.platform, { architecture: 'arm64', os: 'linux' });
    assert.deepEqual(index.index.annotations, { 'org.opencontainers.image.source': 'https://example.com/repo' });
  });

  test('a Docker manifest list of Docker schema 2 manifests', () => {
    const dockerAmd = makeImage({ layers: amd.layers, format: 'docker' });
    const dockerArm = makeImage({ layers: arm.layers, format: 'docker', platform: { os: 'linux', architecture: 'arm64' } });
    const list = buildImageIndex({ entries: [entry(dockerArm, 'arm'), entry(dockerAmd, 'amd')], format: 'docker' });
    assert.equal(list.descriptor.mediaType, MediaType.dockerManifestList);
    const json = JSON.parse(list.bytes.toString()) as { mediaType: string; manifests: { mediaType: string }[] };
    assert.equal(json.mediaType, MediaType.dockerManifestList);
    assert.deepEqual(json.manifests.map((m) => m.mediaType), [MediaType.dockerManifest, MediaType.dockerManifest]);
  });

  test('bad inputs: a duplicate platform names both images; an OCI manifest in a Docker list; annotations on a Docker list; nothing', () => {
    const again = makeImage({ layers: [makeLayer({ 'x': 'y' })], platform: { os: 'linux', architecture: 'aarch64' } });
    const duplicate = thrown(() => buildImageIndex({ entries: [entry(arm, 'registry.example/app:arm'), entry(amd, 'amd'), entry(again, 'registry.example/app:arm-again')], format: 'oci' }));
    assert.equal(duplicate.code, 'ERR_USAGE');
    assert.equal(duplicate.message, 'registry.example/app:arm and registry.example/app:arm-again are both linux/arm64: an index lists one image per platform');
    const mixed = thrown(() => buildImageIndex({ entries: [entry(amd, 'oci-image')], format: 'docker' }));
    assert.match(mixed.message, /^oci-image is a application\/vnd\.oci\.image\.manifest\.v1\+json manifest; a Docker manifest list lists only Docker schema 2 manifests$/);
    assert.match(mixed.hint ?? '', /--image-format/);
    const docker = makeImage({ layers: amd.layers, format: 'docker' });
    assert.match(thrown(() => buildImageIndex({ entries: [entry(docker, 'd')], format: 'docker', annotations: new Map([['a', 'b']]) })).message, /Docker manifest list has no annotations/);
    assert.match(thrown(() => buildImageIndex({ entries: [], format: 'oci' })).message, /needs at least one image/);
  });
});

describe('IndexSource', () => {
  test('copies an index with its images into a layout; validate, skopeo per platform', async (context) => {
    const source = await OciLayout.openOrCreate(join(dir, 'images'));
    for (const image of [amd, arm]) await writeImage(source, image, { root: true });
    await source.commit();
    const index = buildImageIndex({ entries: [entry(arm, 'arm'), entry(amd, 'amd')], format: 'oci' });
    const images = [amd, arm].map((image) => ({ descriptor: image.manifest, manifest: JSON.parse(image.manifestBytes.toString()) as ImageManifest, source }));
    const combined = new IndexSource({ name: 'the index', index, images });
    const target = await OciLayout.openOrCreate(join(dir, 'out'));
    const copied = await copyImage({ source: combined, target, root: combined.descriptor, tags: ['multi'] });
    assert.equal(copied.blobs.written, 4, 'two configs and two layers');
    const reopened = await OciLayout.open(join(dir, 'out'));
    const root = await reopened.resolve('multi');
    assert.equal(root.digest, index.descriptor.digest);
    const report = await validateImage({ source: reopened, root });
    assert.equal(report.manifests, 3);
    await assert.rejects(combined.openBlob({ mediaType: 'x', digest: index.descriptor.digest.replace(/.$/, '0') as typeof index.descriptor.digest, size: 1 }), /no manifest or blob/);
    const missing = missingTool('skopeo', 'skopeo');
    if (missing !== undefined) {
      context.diagnostic(`skopeo checks skipped: ${missing}`);
      return;
    }
    const raw = JSON.parse(runTool('skopeo', ['inspect', '--raw', `oci:${join(dir, 'out')}:multi`])) as { manifests: { digest: string }[] };
    assert.deepEqual(raw.manifests.map((m) => m.digest), [amd.manifest.digest, arm.manifest.digest]);
    const armInspect = JSON.parse(runTool('skopeo', ['inspect', '--override-os', 'linux', '--override-arch', 'arm64', `oci:${join(dir, 'out')}:multi`])) as { Digest: string; Architecture: string; Layers: string[] };
    // skopeo's Digest is the index's; the layers and architecture are the arm64 image's.
    assert.equal(armInspect.Digest, index.descriptor.digest);
    assert.equal(armInspect.Architecture, 'arm64');
    assert.deepEqual(armInspect.Layers, [arm.layers[0]?.descriptor.digest]);
  });
});
