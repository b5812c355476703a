// OCI layouts and docker-archive files written by caisson, read back by caisson and by
// independent readers (umoci unpack, skopeo inspect/copy); validate() catching corruption.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { blobPath, copyImage, DockerArchiveReader, DockerArchiveWriter, forEachConcurrently, OciLayout, validateImage } from '../../src/image/index.js';
import { makeImage, makeIndex, makeLayer, writeImage, type TestImage } from '../support/images.js';
import { missingTool, runTool } from '../support/tools.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-layout-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function sample(): TestImage {
  return makeImage({ layers: [makeLayer({ 'etc/motd': 'hello from caisson\n' }), makeLayer({ 'app/data.bin': Buffer.alloc(70_000, 3), 'app/name.txt': 'x' })] });
}

describe('OCI layout', () => {
  test('write, reopen, resolve by tag, validate', async () => {
    const layout = await OciLayout.openOrCreate(join(dir, 'one'));
    const image = sample();
    await writeImage(layout, image, { tag: 'v1' });
    await layout.commit();
    const reopened = await OciLayout.open(join(dir, 'one'));
    const root = await reopened.resolve('v1');
    assert.equal(root.digest, image.manifest.digest);
    assert.deepEqual(await validateImage({ source: reopened, root }), { manifests: 1, blobs: 3, bytes: image.manifest.size + image.config.size + image.layers.reduce((n, l) => n + l.descriptor.size, 0) });
    await assert.rejects(reopened.resolve('v2'), /no such image in the layout/);
  });

  test('umoci unpacks it and skopeo reads it', { skip: missingTool('umoci', 'umoci') ?? missingTool('skopeo', 'skopeo') }, async () => {
    const layoutDir = join(dir, 'umoci');
    const layout = await OciLayout.openOrCreate(layoutDir);
    await writeImage(layout, sample(), { tag: 'latest' });
    await layout.commit();
    const bundle = join(dir, 'bundle');
    runTool('umoci', ['unpack', '--rootless', '--image', `${layoutDir}:latest`, bundle]);
    assert.equal(readFileSync(join(bundle, 'rootfs', 'etc', 'motd'), 'utf8'), 'hello from caisson\n');
    assert.equal(readFileSync(join(bundle, 'rootfs', 'app', 'data.bin')).length, 70_000);
    const inspected = JSON.parse(runTool('skopeo', ['inspect', `oci:${layoutDir}:latest`])) as { Layers: string[]; Architecture: string };
    assert.equal(inspected.Layers.length, 2);
    assert.equal(inspected.Architecture, 'amd64');
  });

  test('an index of two platforms copies between layouts with the same digest', async () => {
    const source = await OciLayout.openOrCreate(join(dir, 'multi'));
    const amd = sample();
    const arm = makeImage({ layers: [makeLayer({ arm: 'yes' })], platform: { os: 'linux', architecture: 'arm64' } });
    await writeImage(source, amd, { root: false });
    await writeImage(source, arm, { root: false });
    const index = makeIndex([amd, arm]);
    await source.writeManifest({ descriptor: index.descriptor, bytes: index.bytes, tag: 'multi', root: true });
    await source.commit();
    const target = await OciLayout.openOrCreate(join(dir, 'multi-copy'));
    const result = await copyImage({ source, target, root: await source.resolve('multi'), tags: ['copied'] });
    assert.equal(result.blobs.written, 5);
    const copied = await (await OciLayout.open(join(dir, 'multi-copy'))).resolve('copied');
    assert.equal(copied.digest, index.descriptor.digest);
    assert.equal((await validateImage({ source: target, root: copied })).manifests, 3);
  });

  test('validate finds a corrupted layer; reading it never yields a blob', async () => {
    const layout = await OciLayout.openOrCreate(join(dir, 'corrupt'));
    const image = sample();
    await writeImage(layout, image, { tag: 'v1' });
    await layout.commit();
    const layer = image.layers[1];
    assert.ok(layer !== undefined);
    const path = blobPath({ dir: join(dir, 'corrupt'), descriptor: layer.descriptor });
    const bytes = readFileSync(path);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0xff;
    writeFileSync(path, bytes);
    await assert.rejects(validateImage({ source: layout, root: await layout.resolve('v1') }), (error: unknown) => {
      assert.ok(error instanceof CaissonError);
      assert.ok(['ERR_DIGEST_MISMATCH'].includes(error.code), error.message);
      assert.ok(error.message.includes(layer.descriptor.digest));
      return true;
    });
    const target = await OciLayout.openOrCreate(join(dir, 'corrupt-copy'));
    await assert.rejects(copyImage({ source: layout, target, root: await layout.resolve('v1') }), /does not match|bytes/);
    const left = readdirSync(join(dir, 'corrupt-copy', 'blobs', 'sha256'));
    assert.ok(!left.includes(layer.descriptor.digest.slice(7)), 'the corrupt blob is not stored');
    assert.ok(!left.some((name) => name.includes('.tmp-')), 'no temporary files are left');
  });

  test('a failed blob copy rejects once the copies in flight have ended, and starts no other', async () => {
    const ended: string[] = [];
    const started: string[] = [];
    const work = async (item: string): Promise<void> => {
      started.push(item);
      if (item === 'bad') throw new Error('bad blob');
      await new Promise((resolve) => setTimeout(resolve, 30));
      ended.push(item);
    };
    await assert.rejects(forEachConcurrently({ items: ['slow', 'bad', 'next'], limit: 2, work }), /bad blob/);
    assert.deepEqual(ended, ['slow'], 'the copy in flight ended (and cleaned up) before the failure was reported');
    assert.deepEqual(started, ['slow', 'bad'], 'nothing started after the failure');
  });

  test('a directory that is not a layout is a clear error', async () => {
    await assert.rejects(OciLayout.open(join(dir, 'nothing')), (error: unknown) => error instanceof CaissonError && error.code === 'ERR_INPUT_NOT_FOUND' && error.message.includes('nothing') && error.message.includes('oci-layout'));
  });
});

describe('docker-archive', () => {
  test('written by caisson, read by skopeo and by caisson with the same digests', { skip: missingTool('skopeo', 'skopeo') }, async () => {
    const layout = await OciLayout.openOrCreate(join(dir, 'for-archive'));
    const image = makeImage({ layers: sample().layers, format: 'docker' });
    await writeImage(layout, image, { tag: 'v1' });
    await layout.commit();
    const path = join(dir, 'image.tar');
    const writer = new DockerArchiveWriter({ path });
    await copyImage({ source: layout, target: writer, root: await layout.resolve('v1'), tags: ['example.com/app:1.0'] });
    assert.ok(existsSync(path));
    const manifestJson = JSON.parse(runTool('tar', ['-xOf', path, 'manifest.json'])) as { RepoTags: string[]; Layers: string[] }[];
    assert.deepEqual(manifestJson[0]?.RepoTags, ['example.com/app:1.0']);
    assert.equal(manifestJson[0]?.Layers.length, 2);
    const repositories = JSON.parse(runTool('tar', ['-xOf', path, 'repositories'])) as Record<string, Record<string, string>>;
    assert.ok(repositories['example.com/app']?.['1.0'] !== undefined);
    const inspected = JSON.parse(runTool('skopeo', ['inspect', `docker-archive:${path}`])) as { Layers: string[] };
    assert.equal(inspected.Layers.length, 2);
    // skopeo copies it into an OCI layout that umoci-style readers accept.
    runTool('skopeo', ['copy', `docker-archive:${path}`, `oci:${join(dir, 'from-archive')}:x`]);
    const reader = await DockerArchiveReader.open(path);
    const root = await reader.resolve('example.com/app:1.0');
    assert.equal(root.digest, image.manifest.digest, 'the manifest survives byte for byte');
    await validateImage({ source: reader, root });
  });

  test('reads the classic docker save form (<id>/layer.tar, no index.json)', { skip: missingTool('skopeo', 'skopeo') }, async () => {
    const layout = await OciLayout.openOrCreate(join(dir, 'classic-src'));
    await writeImage(layout, sample(), { tag: 'v1' });
    await layout.commit();
    const classic = join(dir, 'classic.tar');
    // skopeo writes the classic format (uncompressed layer.tar files, config by id).
    runTool('skopeo', ['copy', `oci:${join(dir, 'classic-src')}:v1`, `docker-archive:${classic}:classic/app:v1`]);
    const reader = await DockerArchiveReader.open(classic);
    const root = await reader.resolve('classic/app:v1');
    const report = await validateImage({ source: reader, root });
    assert.equal(report.blobs, 3);
  });

  test('an index cannot go into a docker-archive; the unfinished file is removed', async () => {
    const layout = await OciLayout.openOrCreate(join(dir, 'idx'));
    const a = sample();
    await writeImage(layout, a, { root: false });
    const index = makeIndex([a]);
    await layout.writeManifest({ descriptor: index.descriptor, bytes: index.bytes, tag: 'i', root: true });
    const path = join(dir, 'index.tar');
    const writer = new DockerArchiveWriter({ path });
    await assert.rejects(copyImage({ source: layout, target: writer, root: await layout.resolve('i') }), /single-platform images/);
    await writer.abort();
    assert.ok(!readdirSync(dir).some((name) => name.startsWith('index.tar')), 'no file is left behind');
  });

  test('a missing archive names the path', async () => {
    await assert.rejects(DockerArchiveReader.open(join(dir, 'missing.tar')), /missing.tar: no such docker-archive file/);
  });
});
