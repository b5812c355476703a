// Layers written from a directory tree: read back by umoci (an independent unpacker) and by
// caisson's extractor into the same tree; the same inputs in two places give the same digests.
import assert from 'node:assert/strict';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { extractLayer, treeEntries, writeLayer, writeTar, type TarInput, type WrittenLayer } from '../../src/fs/index.js';
import { OciLayout, type Compression } from '../../src/image/index.js';
import { makeImage, writeImage } from '../support/images.js';
import { missingTool, runTool } from '../support/tools.js';
import { describeTree } from '../support/trees.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-layer-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const root = process.getuid?.() === 0;

/** A small tree with every kind a layer carries (devices only as root). */
function makeTree(path: string): void {
  mkdirSync(join(path, 'etc/ssl'), { recursive: true });
  mkdirSync(join(path, 'empty'));
  mkdirSync(join(path, 'usr/bin'), { recursive: true });
  writeFileSync(join(path, 'etc/hostname'), 'box\n');
  writeFileSync(join(path, 'etc/ssl/big.pem'), Buffer.alloc(300_000, 'k'));
  writeFileSync(join(path, 'usr/bin/tool'), '#!/bin/sh\necho tool\n');
  chmodSync(join(path, 'usr/bin/tool'), 0o4755);
  linkSync(join(path, 'usr/bin/tool'), join(path, 'usr/bin/tool-again'));
  symlinkSync('tool', join(path, 'usr/bin/alias'));
  symlinkSync('/etc/hostname', join(path, 'absolute-link'));
  writeFileSync(join(path, `${'n'.repeat(120)}.txt`), 'long name');
  chmodSync(join(path, 'empty'), 0o700);
  for (const entry of ['etc/hostname', 'etc/ssl/big.pem', 'usr/bin/tool', `${'n'.repeat(120)}.txt`, 'etc/ssl', 'etc', 'empty', 'usr/bin', 'usr']) {
    utimesSync(join(path, entry), 1_650_000_000, 1_650_000_000);
  }
}

async function layerOf(options: { readonly tree: string; readonly compression: Compression; readonly blobs: string; readonly clampMtime?: number }): Promise<WrittenLayer> {
  return writeLayer({
    tar: writeTar(treeEntries({ root: options.tree, ...(options.clampMtime === undefined ? {} : { clampMtime: options.clampMtime }) })),
    compression: options.compression,
    format: 'oci',
    blobs: options.blobs,
  });
}

describe('layers from a tree', () => {
  test('umoci unpacks the layer into the same tree', { skip: missingTool('umoci', 'umoci') }, async () => {
    const tree = join(dir, 'umoci-tree');
    makeTree(tree);
    const layoutDir = join(dir, 'umoci-layout');
    const layout = await OciLayout.openOrCreate(layoutDir);
    const layer = await layerOf({ tree, compression: 'gzip', blobs: join(layoutDir, 'blobs') });
    const image = makeImage({ layers: [{ descriptor: layer.descriptor, diffId: layer.diffId, bytes: readFileSync(layer.path) }] });
    await writeImage(layout, image, { tag: 'tree' });
    await layout.commit();
    const bundle = join(dir, 'umoci-bundle');
    runTool('umoci', ['unpack', ...(root ? [] : ['--rootless']), '--image', `${layoutDir}:tree`, bundle]);
    assert.deepEqual(await describeTree(join(bundle, 'rootfs'), { mtimes: true }), await describeTree(tree, { mtimes: true }));
  });

  test("caisson's extractor gives back the same tree, gzip, zstd and plain", async () => {
    const tree = join(dir, 'extract-tree');
    makeTree(tree);
    for (const compression of ['gzip', 'zstd', 'none'] as const) {
      const layer = await layerOf({ tree, compression, blobs: join(dir, `blobs-${compression}`) });
      if (compression === 'none') assert.equal(layer.descriptor.digest, layer.diffId);
      const target = join(dir, `extracted-${compression}`);
      mkdirSync(target);
      const result = await extractLayer({ source: createReadStream(layer.path), target, what: layer.descriptor.digest });
      assert.equal(result.compression, compression);
      assert.deepEqual(await describeTree(target, { mtimes: true }), await describeTree(tree, { mtimes: true }), compression);
    }
  });

  test('the same inputs in two different directories give identical digests (mtimes clamped)', async () => {
    const digests: string[] = [];
    for (const copy of ['one', 'two']) {
      const tree = join(dir, `repro-${copy}`, 'deeper', 'tree');
      makeTree(tree);
      // Different mtimes on each side; the clamp (SOURCE_DATE_EPOCH) makes them equal.
      utimesSync(join(tree, 'etc/hostname'), copy === 'one' ? 1_700_000_000 : 1_800_000_000, copy === 'one' ? 1_700_000_000 : 1_800_000_000);
      const layer = await layerOf({ tree, compression: 'gzip', blobs: join(dir, `repro-blobs-${copy}`), clampMtime: 1_600_000_000 });
      digests.push(`${layer.descriptor.digest} ${layer.diffId}`);
    }
    assert.equal(digests[0], digests[1]);
  });

  test('layers sealed at the same time (zlib compresses on the thread pool) match layers sealed one by one', async () => {
    const tree = join(dir, 'parallel-tree');
    makeTree(tree);
    const kinds: Compression[] = ['gzip', 'zstd', 'gzip', 'none'];
    const alone: string[] = [];
    for (const [i, compression] of kinds.entries()) alone.push((await layerOf({ tree, compression, blobs: join(dir, `alone-${i}`) })).descriptor.digest);
    const together = await Promise.all(kinds.map((compression, i) => layerOf({ tree, compression, blobs: join(dir, `together-${i}`) })));
    assert.deepEqual(together.map((layer) => layer.descriptor.digest), alone);
  });

  test('a compression level out of range is a usage error, and no blob is left', async () => {
    const blobs = join(dir, 'level-blobs');
    await assert.rejects(
      writeLayer({ tar: writeTar([]), compression: 'gzip', level: 12, format: 'oci', blobs }),
      (error: unknown) => error instanceof CaissonError && error.code === 'ERR_USAGE' && /--compression-level 12 is out of range for gzip/.test(error.message),
    );
    await assert.rejects(writeLayer({ tar: writeTar([]), compression: 'zstd', level: 0, format: 'oci', blobs }), /out of range for zstd/);
  });

  test('a file that changes size while it is tarred fails the layer and leaves no blob', async () => {
    const tree = join(dir, 'changing');
    mkdirSync(tree);
    writeFileSync(join(tree, 'grows'), 'abc');
    const blobs = join(dir, 'changing-blobs');
    async function* entries(): AsyncGenerator<TarInput> {
      for await (const entry of treeEntries({ root: tree })) {
        writeFileSync(join(tree, 'grows'), 'abcdef');
        yield entry;
      }
    }
    await assert.rejects(writeLayer({ tar: writeTar(entries()), compression: 'gzip', format: 'oci', blobs }), (error: unknown) => error instanceof CaissonError && error.code === 'ERR_LAYER_INVALID' && /grows: grew while it was being added/.test(error.message));
    assert.deepEqual(readdirSync(join(blobs, 'sha256')), []);
  });
});
