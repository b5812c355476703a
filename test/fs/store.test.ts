// The layer store: each layer extracted once (also when two builds ask at the same time), bad
// blobs leave nothing that reads as valid, stale locks and staging from killed builds are handled,
// and collection removes by age and by size, least recently used first.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CaissonError } from '../../src/errors.js';
import { LayerStore, readTreeXattrs, tryFileLock } from '../../src/fs/index.js';
import { sha256, type Digest } from '../../src/image/index.js';
import { makeTar } from '../support/tar.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-store-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const root = process.getuid?.() === 0;

interface Blob {
  readonly bytes: Buffer;
  readonly diffId: Digest;
}

function blobOf(entries: Parameters<typeof makeTar>[0]): Blob {
  const tar = makeTar(entries);
  return { bytes: gzipSync(tar), diffId: sha256(tar) };
}

const simple = (): Blob =>
  blobOf([
    { name: 'etc/', kind: 'directory' },
    { name: 'etc/hostname', content: 'box\n' },
  ]);

function openOf(blob: Blob, counter?: { opened: number }): () => Promise<AsyncIterable<Buffer>> {
  return async () => {
    if (counter !== undefined) counter.opened += 1;
    return (async function* () {
      yield blob.bytes;
    })();
  };
}

/** Names in a store directory, or [] when it does not exist. */
function names(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

describe('layer store', () => {
  test('a layer is extracted once; later builds find it without opening the blob', async () => {
    const store = new LayerStore({ root: join(dir, 'once') });
    const blob = simple();
    const counter = { opened: 0 };
    const first = await store.unpackLayer({ diffId: blob.diffId, open: openOf(blob, counter), what: 'simple' });
    const second = await new LayerStore({ root: join(dir, 'once') }).unpackLayer({ diffId: blob.diffId, open: openOf(blob, counter), what: 'simple' });
    assert.equal(first.extracted, true);
    assert.equal(second.extracted, false);
    assert.equal(second.root, first.root);
    assert.equal(counter.opened, 1);
    assert.equal(readFileSync(join(first.root, 'etc/hostname'), 'utf8'), 'box\n');
    assert.deepEqual(names(join(dir, 'once', 'tmp')), []);
    assert.deepEqual(names(join(dir, 'once', 'locks')), []);
  });

  test('two builds asking for the same layer at once: one extracts, the other waits and finds it', async () => {
    const store = new LayerStore({ root: join(dir, 'race') });
    const blob = simple();
    const counter = { opened: 0 };
    const results = await Promise.all([1, 2, 3].map(() => new LayerStore({ root: store.root }).unpackLayer({ diffId: blob.diffId, open: openOf(blob, counter), what: 'raced' })));
    assert.equal(results.filter((result) => result.extracted).length, 1);
    assert.equal(counter.opened, 1);
    assert.equal(new Set(results.map((result) => result.root)).size, 1);
  });

  test('content that does not match the diffID is refused and leaves nothing behind', async () => {
    const store = new LayerStore({ root: join(dir, 'mismatch') });
    const blob = simple();
    const wrong = sha256('something else');
    await assert.rejects(
      store.unpackLayer({ diffId: wrong, open: openOf(blob), what: 'registry.example/app@sha256:abc' }),
      (error: unknown) => error instanceof CaissonError && error.code === 'ERR_DIGEST_MISMATCH' && error.message.includes('registry.example/app@sha256:abc (uncompressed, its diffID)') && error.message.includes(wrong),
    );
    assert.equal(await store.findLayer(wrong), undefined);
    assert.deepEqual(names(join(dir, 'mismatch', 'layers', 'sha256')), []);
    assert.deepEqual(names(join(dir, 'mismatch', 'tmp')), []);
    assert.deepEqual(names(join(dir, 'mismatch', 'locks')), []);
  });

  test('a truncated blob is ERR_LAYER_INVALID and leaves nothing behind', async () => {
    const store = new LayerStore({ root: join(dir, 'truncated') });
    const blob = simple();
    const cut = { bytes: blob.bytes.subarray(0, blob.bytes.length - 20), diffId: blob.diffId };
    await assert.rejects(store.unpackLayer({ diffId: blob.diffId, open: openOf(cut), what: 'cut.tar.gz' }), (error: unknown) => error instanceof CaissonError && error.code === 'ERR_LAYER_INVALID' && error.message.startsWith('cut.tar.gz'));
    assert.deepEqual(names(join(dir, 'truncated', 'layers', 'sha256')), []);
    assert.deepEqual(names(join(dir, 'truncated', 'tmp')), []);
  });

  test("a killed build's lock is taken over once it stops beating; a live one is waited for", async () => {
    const store = new LayerStore({ root: join(dir, 'locks') });
    const blob = simple();
    const lock = join(dir, 'locks', 'locks', `${blob.diffId.slice('sha256:'.length)}.lock`);
    mkdirSync(join(dir, 'locks', 'locks'), { recursive: true });
    writeFileSync(lock, 'elsewhere 1\n');
    utimesSync(lock, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    assert.equal((await store.unpackLayer({ diffId: blob.diffId, open: openOf(blob), what: 'stale' })).extracted, true);

    const otherBlob = blobOf([{ name: 'x', content: 'x' }]);
    const liveLock = join(dir, 'locks', 'locks', `${otherBlob.diffId.slice('sha256:'.length)}.lock`);
    writeFileSync(liveLock, 'elsewhere 2\n');
    let released = false;
    setTimeout(() => {
      released = true;
      rmSync(liveLock);
    }, 300);
    const result = await store.unpackLayer({ diffId: otherBlob.diffId, open: openOf(otherBlob), what: 'live' });
    assert.equal(released, true, 'it waited for the holder');
    assert.equal(result.extracted, true);
  });

  test("a killed build's staging never reads as a layer, and collection removes it once stale", async () => {
    const store = new LayerStore({ root: join(dir, 'staging') });
    const blob = simple();
    const leftover = join(dir, 'staging', 'tmp', '999-deadbeef');
    mkdirSync(join(leftover, 'root', 'etc'), { recursive: true });
    writeFileSync(join(leftover, 'root', 'etc', 'half'), 'half a layer');
    assert.equal(await store.findLayer(blob.diffId), undefined);
    assert.deepEqual((await store.usage()).staging, { count: 1 });
    assert.deepEqual(await store.collect({}), []);
    assert.deepEqual(names(join(dir, 'staging', 'tmp')), ['999-deadbeef'], 'fresh staging may belong to a running build');
    await store.collect({ now: Date.now() + 2 * 3_600_000 });
    assert.deepEqual(names(join(dir, 'staging', 'tmp')), []);
  });

  test('a used blob is marked used (its mtime moved forward) only when that is an hour old', async () => {
    const store = new LayerStore({ root: join(dir, 'use') });
    const digest = sha256('blob');
    assert.equal(await store.useBlob(digest), undefined);
    mkdirSync(join(dir, 'use', 'blobs', 'sha256'), { recursive: true });
    const path = store.blobPath(digest);
    writeFileSync(path, 'blob');
    const recent = new Date(Date.now() - 600_000);
    utimesSync(path, recent, recent);
    assert.equal(await store.useBlob(digest), path);
    assert.equal(lstatSync(path).mtimeMs, recent.getTime(), 'ten minutes old: left as it is');
    const old = new Date(Date.now() - 7_200_000);
    utimesSync(path, old, old);
    const before = Date.now();
    await store.useBlob(digest);
    assert.ok(lstatSync(path).mtimeMs >= before, 'two hours old: moved to now');
  });

  test('usage and collection: by age, then least recently used first until it fits', async () => {
    const store = new LayerStore({ root: join(dir, 'gc') });
    const layers: Blob[] = ['a', 'bb', 'ccc'].map((content) => blobOf([{ name: 'f', content: Buffer.alloc(content.length * 1000, content) }]));
    for (const blob of layers) await store.unpackLayer({ diffId: blob.diffId, open: openOf(blob), what: 'gc' });
    mkdirSync(join(store.blobs, 'sha256'), { recursive: true });
    const blobDigest = sha256(layers[0]?.bytes ?? Buffer.alloc(0));
    writeFileSync(store.blobPath(blobDigest), layers[0]?.bytes ?? Buffer.alloc(0));
    const usage = await store.usage();
    assert.deepEqual(usage.layers, { count: 3, bytes: 6000 });
    assert.equal(usage.blobs.count, 1);
    // Last used: layer a long ago, layer bb an hour ago, layer ccc and the blob now.
    const meta = (blob: Blob) => join(dir, 'gc', 'layers', 'sha256', blob.diffId.slice('sha256:'.length), 'meta.json');
    utimesSync(meta(layers[0] as Blob), new Date(Date.now() - 30 * 86_400_000), new Date(Date.now() - 30 * 86_400_000));
    utimesSync(meta(layers[1] as Blob), new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const byAge = await store.collect({ maxAgeMs: 14 * 86_400_000 });
    assert.deepEqual(byAge.map((entry) => entry.name), [layers[0]?.diffId]);
    const bySize = await store.collect({ maxBytes: 3000 + usage.blobs.bytes });
    assert.deepEqual(bySize.map((entry) => entry.name), [layers[1]?.diffId], 'the least recently used goes first');
    assert.equal(await store.findLayer(layers[1]?.diffId as Digest), undefined);
    assert.ok((await store.findLayer(layers[2]?.diffId as Digest)) !== undefined);
    assert.equal((await store.usage()).layers.count, 1);
    // --max-age 0s removes what was used in the very millisecond gc runs (its mtime has a fraction of it).
    const last = layers[2] as Blob;
    utimesSync(meta(last), new Date(0), 1_700_000_000.0009);
    const byZeroAge = await store.collect({ maxAgeMs: 0, now: 1_700_000_000_000 });
    assert.deepEqual(byZeroAge.map((entry) => entry.name), [last.diffId]);
  });

  test('RUN cache mounts are counted and collected like layers: by last use (their mtime), least recently used first; one a step holds locked is kept', async () => {
    const store = new LayerStore({ root: join(dir, 'mounts') });
    const mount = (name: string, bytes: number, usedMsAgo: number): void => {
      const path = join(store.root, 'mounts', name);
      mkdirSync(join(path, 'sub'), { recursive: true });
      writeFileSync(join(path, 'sub', 'data'), Buffer.alloc(bytes, 'm'));
      const used = new Date(Date.now() - usedMsAgo);
      utimesSync(path, used, used);
    };
    mount('old', 1000, 30 * 86_400_000);
    mount('held', 2000, 30 * 86_400_000);
    mount('recent', 4000, 3_600_000);
    mount('fresh', 8000, 0);
    writeFileSync(join(store.root, 'mounts', 'stray.lock'), 'a lock is no mount\n');
    assert.deepEqual((await store.usage()).mounts, { count: 4, bytes: 15_000 });
    const lock = await tryFileLock(join(store.root, 'mounts', 'held.lock'));
    assert.ok(lock !== undefined);
    try {
      const byAge = await store.collect({ maxAgeMs: 14 * 86_400_000 });
      assert.deepEqual(byAge.map((entry) => `${entry.kind} ${entry.name} ${entry.bytes}`), ['mount old 1000'], 'held is as old, but locked');
      assert.ok(existsSync(join(store.root, 'mounts', 'held', 'sub', 'data')));
      const bySize = await store.collect({ maxBytes: 10_000 });
      assert.deepEqual(bySize.map((entry) => entry.name), ['recent'], 'held is skipped, then the least recently used goes');
    } finally {
      await lock.release();
    }
    assert.deepEqual(readdirSync(join(store.root, 'mounts')).sort(), ['fresh', 'held', 'stray.lock']);
    assert.deepEqual(readdirSync(join(store.root, 'tmp')), [], 'nothing half-removed is left in staging');
  });

  test('layers are kept in overlay form: whiteouts as 0/0 devices, opaque directories marked', { skip: root ? false : 'needs root (uid 0) to make 0/0 device nodes and trusted xattrs' }, async () => {
    const store = new LayerStore({ root: join(dir, 'overlay-form') });
    const blob = blobOf([
      { name: 'etc/', kind: 'directory' },
      { name: 'etc/.wh.passwd', content: '' },
      { name: 'var/', kind: 'directory' },
      { name: 'var/.wh..wh..opq', content: '' },
      { name: 'var/kept', content: 'k' },
    ]);
    const { root: layer } = await store.unpackLayer({ diffId: blob.diffId, open: openOf(blob), what: 'whiteouts' });
    const whiteout = lstatSync(join(layer, 'etc/passwd'));
    assert.ok(whiteout.isCharacterDevice() && whiteout.rdev === 0, 'a deleted path is a 0/0 character device');
    const xattrs = await readTreeXattrs({ root: layer });
    assert.equal(xattrs.get('var')?.get('trusted.overlay.opaque')?.toString(), 'y');
    assert.deepEqual(names(join(layer, 'var')), ['kept']);
  });
});
