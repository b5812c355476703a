// The cache package on its own: keys are canonical (input order does not matter, every value
// does), differences and redaction for --cache-explain, the local store's TTL, eviction of
// corrupt entries and blobs, nearest-entry search and remembered file digests, and a cache
// repository's entries (written to and read from an OCI layout, validated as images).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Readable } from 'node:stream';
import { cacheKey, compareInputs, FileDigests, LocalCache, RegistryCache, redactInputs, type CacheEntry } from '../../src/cache/index.js';
import { digestHex, OciLayout, sha256, validateImage, type Digest } from '../../src/image/index.js';
import { LayerStore } from '../../src/fs/index.js';
import { createLogger } from '../../src/log.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-cache-unit-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function store(root: string): { cache: LocalCache; warnings: string[]; blob: (bytes: Buffer) => Digest } {
  const warnings: string[] = [];
  const blobs = join(root, 'blobs', 'sha256');
  const logger = createLogger({ level: 'warn', write: (line) => warnings.push(line) });
  const cache = new LocalCache({ root, blobs: new LayerStore({ root }), logger });
  const blob = (bytes: Buffer): Digest => {
    mkdirSync(blobs, { recursive: true });
    const digest = sha256(bytes);
    writeFileSync(join(blobs, digestHex(digest)), bytes);
    return digest;
  };
  return { cache, warnings, blob };
}

function entry(key: string, stored: Date, extra: Partial<CacheEntry> = {}): CacheEntry {
  return { key, stored: stored.toISOString(), createdBy: 'RUN make # buildkit', created: '2026-01-01T00:00:00Z', ...extra };
}

describe('cache keys', () => {
  const inputs = { parent: 'image sha256:1', instruction: '{"kind":"run"}', variables: ['A=1', 'B=2'], user: '', workdir: '/' };

  test('the order inputs are given in does not matter; every value does', () => {
    const reordered = { workdir: '/', user: '', variables: ['A=1', 'B=2'], instruction: '{"kind":"run"}', parent: 'image sha256:1' };
    assert.equal(cacheKey(reordered), cacheKey(inputs));
    assert.match(cacheKey(inputs), /^[0-9a-f]{64}$/);
    const changed = [{ ...inputs, parent: 'image sha256:2' }, { ...inputs, variables: ['A=1', 'B=3'] }, { ...inputs, user: 'app' }, { ...inputs, workdir: '/src' }, { ...inputs, extra: '' }];
    const keys = new Set([cacheKey(inputs), ...changed.map((each) => cacheKey(each))]);
    assert.equal(keys.size, changed.length + 1);
  });

  test('differences name each input; lists show what was removed and added', () => {
    const differences = compareInputs({ stored: inputs, current: { ...inputs, variables: ['A=1', 'B=3'], user: 'app' } });
    assert.deepEqual(differences, [
      { name: 'user', before: '', after: 'app' },
      { name: 'variables', removed: ['B=2'], added: ['B=3'] },
    ]);
  });

  test('redaction hides secret-looking variables and URL credentials, not ordinary values', () => {
    const shown = redactInputs({ variables: ['API_TOKEN=s3cr3t', 'MODE=fast'], sources: ['https://user:pw@host/x?sig=abc sha256:1'] });
    assert.deepEqual(shown.variables, [`API_TOKEN=<sha256:${digestHex(sha256('s3cr3t')).slice(0, 12)}>`, 'MODE=fast']);
    assert.deepEqual(shown.sources, ['https://***@host/x?*** sha256:1']);
    assert.doesNotMatch(JSON.stringify(shown), /s3cr3t|pw@|sig=abc/);
  });
});

describe('the local cache', () => {
  test('a hit within the TTL; none past it', async () => {
    const { cache } = store(join(dir, 'ttl'));
    const key = 'a'.repeat(64);
    await cache.save({ entry: entry(key, new Date(Date.now() - 10_000)) });
    assert.equal((await cache.lookup({ key, ttlMs: 60_000, now: Date.now() }))?.entry.createdBy, 'RUN make # buildkit');
    assert.equal(await cache.lookup({ key, ttlMs: 5_000, now: Date.now() }), undefined);
    assert.equal(await cache.lookup({ key: 'b'.repeat(64), ttlMs: 60_000, now: Date.now() }), undefined);
  });

  test('a layer blob is checked by digest: a corrupt one is evicted with a warning, a missing one quietly', async () => {
    const { cache, warnings, blob } = store(join(dir, 'corrupt'));
    const bytes = Buffer.from('layer bytes');
    const digest = blob(bytes);
    const layer = { descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: bytes.length }, diffId: sha256('diff') };
    const key = 'c'.repeat(64);
    await cache.save({ entry: entry(key, new Date(), { layer }) });
    const hit = await cache.lookup({ key, ttlMs: 60_000, now: Date.now() });
    assert.deepEqual(hit?.blob, { kind: 'file', path: join(dir, 'corrupt', 'blobs', 'sha256', digestHex(digest)) });
    writeFileSync(join(dir, 'corrupt', 'blobs', 'sha256', digestHex(digest)), 'layer bytez');
    assert.equal(await cache.lookup({ key, ttlMs: 60_000, now: Date.now() }), undefined);
    assert.match(warnings.join('\n'), new RegExp(`layer blob ${digest} is corrupt \\(it reads as sha256:[0-9a-f]{64}\\); evicted`));
    assert.deepEqual(readdirSync(join(dir, 'corrupt', 'cache', 'entries')), [], 'the entry is gone');
    assert.deepEqual(readdirSync(join(dir, 'corrupt', 'blobs', 'sha256')), [], 'the blob is gone');
    const missing = 'd'.repeat(64);
    await cache.save({ entry: entry(missing, new Date(), { layer }) });
    assert.equal(await cache.lookup({ key: missing, ttlMs: 60_000, now: Date.now() }), undefined);
    assert.equal(warnings.length, 1, 'a blob removed by gc is no warning');
  });

  test('a hit reads its blob back only when the blob stat differs from the stamp the entry keeps', async () => {
    const root = join(dir, 'stamped');
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
    const blobs = join(root, 'blobs', 'sha256');
    const cache = new LocalCache({ root, blobs: new LayerStore({ root }), logger });
    const bytes = Buffer.from('layer bytes');
    const digest = sha256(bytes);
    const path = join(blobs, digestHex(digest));
    mkdirSync(blobs, { recursive: true });
    writeFileSync(path, bytes);
    const key = '5'.repeat(64);
    const layer = { descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: bytes.length }, diffId: sha256('diff') };
    const readBack = (): number => lines.filter((line) => line.includes(`reading back layer blob ${digest}`)).length;
    const stamp = (): unknown => (JSON.parse(readFileSync(join(root, 'cache', 'entries', `${key}.json`), 'utf8')) as { blob?: unknown }).blob;
    // Saved a moment after the blob was written: too new to stamp (a write in the same clock tick would go unseen).
    await cache.save({ entry: entry(key, new Date(), { layer }) });
    assert.equal(stamp(), undefined);
    await cache.seal();
    assert.equal(stamp(), undefined, 'still too new when the build ends');
    assert.ok(await cache.lookup({ key, ttlMs: 60_000, now: Date.now() }));
    assert.equal(readBack(), 1, 'no stamp: read back');
    await new Promise((resolve) => setTimeout(resolve, 150));
    await cache.seal();
    assert.ok(await cache.lookup({ key, ttlMs: 60_000, now: Date.now() }));
    assert.equal(readBack(), 2, 'still no stamp: read back, then stamped');
    assert.deepEqual(Object.keys(stamp() as object).sort(), ['ctimeMs', 'ino', 'mtimeMs', 'size']);
    for (let i = 0; i < 3; i++) assert.deepEqual((await cache.lookup({ key, ttlMs: 60_000, now: Date.now() }))?.blob, { kind: 'file', path });
    assert.equal(readBack(), 2, 'stamp unchanged: not read');
    // A saved entry whose blob is old enough is stamped at once.
    const other = '6'.repeat(64);
    await cache.save({ entry: entry(other, new Date(), { layer }) });
    assert.ok(await cache.lookup({ key: other, ttlMs: 60_000, now: Date.now() }));
    assert.equal(readBack(), 2);
    // An hour after its last use the blob is touched (for gc) and so read back, then stamped anew.
    utimesSync(path, new Date(Date.now() - 7_200_000), new Date(Date.now() - 7_200_000));
    const now = Date.now();
    assert.ok(await cache.lookup({ key, ttlMs: 60_000, now }));
    assert.equal(readBack(), 3);
    assert.equal(statSync(path).mtimeMs, now);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.ok(await cache.lookup({ key, ttlMs: 60_000, now: Date.now() }));
    assert.ok(await cache.lookup({ key, ttlMs: 60_000, now: Date.now() }));
    assert.equal(readBack(), 4, 'read back once after the touch, then stamped');
    // Rewritten, even to the same length: a new ctime, so read back and found corrupt.
    writeFileSync(path, 'layer bytez');
    assert.equal(await cache.lookup({ key, ttlMs: 60_000, now: Date.now() }), undefined);
    assert.equal(readBack(), 5);
    assert.match(lines.join('\n'), /is corrupt \(it reads as sha256:[0-9a-f]{64}\); evicted/);
  });

  test('an unreadable entry is evicted with a warning naming it', async () => {
    const { cache, warnings } = store(join(dir, 'broken'));
    const key = 'e'.repeat(64);
    mkdirSync(join(dir, 'broken', 'cache', 'entries'), { recursive: true });
    writeFileSync(join(dir, 'broken', 'cache', 'entries', `${key}.json`), JSON.stringify({ ...entry(key, new Date()), createdBy: 7 }));
    assert.equal(await cache.lookup({ key, ttlMs: 60_000, now: Date.now() }), undefined);
    assert.match(warnings.join('\n'), /cache entry .*eeee\.json: "createdBy" is not a string; evicted, the step runs again/);
  });

  test('nearest: the entry of the same step with the fewest differences', async () => {
    const { cache } = store(join(dir, 'nearest'));
    const base = { parent: 'p', instruction: 'RUN make', variables: ['A=1'] };
    await cache.save({ entry: entry('1'.repeat(64), new Date(), { slot: 'build 3', inputs: { ...base, variables: ['A=2'], parent: 'q' } }) });
    await cache.save({ entry: entry('2'.repeat(64), new Date(), { slot: 'build 3', inputs: { ...base, variables: ['A=2'] } }) });
    await cache.save({ entry: entry('3'.repeat(64), new Date(), { slot: 'other 9', inputs: { ...base, instruction: 'RUN other' } }) });
    const nearest = await cache.nearest({ slot: 'build 3', inputs: base });
    assert.equal(nearest?.entry.key, '2'.repeat(64));
    assert.deepEqual(nearest?.differences, [{ name: 'variables', removed: ['A=2'], added: ['A=1'] }]);
    assert.equal(await cache.nearest({ slot: 'new 1', inputs: { ...base, instruction: 'RUN new' } }), undefined);
  });
});

describe('remembered file digests', () => {
  test('a file is read again only when its stat changes; what was learnt survives the build', async () => {
    const root = join(dir, 'digests');
    const file = join(root, 'context', 'a.txt');
    mkdirSync(join(root, 'context'), { recursive: true });
    writeFileSync(file, 'one');
    utimesSync(file, 1_000_000, 1_000_000);
    // A file changed a moment ago: its digest is kept, but its stat vouches for nothing (a change in
    // the same clock tick would go unseen), so it is read again.
    const racyStats = statSync(file);
    const racy = new FileDigests({ root, directory: join(root, 'context') });
    assert.equal(racy.digest(file, racyStats), sha256('one'));
    assert.deepEqual(racy.journal, [], 'no last build to differ from');
    await racy.save();
    const reread = new FileDigests({ root, directory: join(root, 'context') });
    await reread.load();
    writeFileSync(file, 'eins');
    assert.equal(reread.digest(file, racyStats), sha256('eins'), 'the racy stat is not trusted: read again');
    assert.deepEqual(reread.journal, [{ path: 'a.txt', kind: 'changed' }]);
    writeFileSync(file, 'one');
    utimesSync(file, 1_000_000, 1_000_000);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const original = statSync(file);
    const first = new FileDigests({ root, directory: join(root, 'context') });
    await first.load();
    assert.equal(first.digest(file, original), sha256('one'));
    await first.save();
    const second = new FileDigests({ root, directory: join(root, 'context') });
    await second.load();
    writeFileSync(file, 'uno');
    assert.equal(second.digest(file, original), sha256('one'), 'the stat it was hashed with: not read again');
    assert.equal(second.digest(file, statSync(file)), sha256('uno'), 'a new ctime and mtime: read again');
    assert.deepEqual(second.journal, [{ path: 'a.txt', kind: 'changed' }]);
    assert.equal(second.digest(file, statSync(file)), sha256('uno'));
    const other = join(root, 'context', 'b.txt');
    writeFileSync(other, 'two');
    second.digest(other, statSync(other));
    assert.deepEqual(second.journal, [{ path: 'a.txt', kind: 'changed' }, { path: 'a.txt', kind: 'changed' }, { path: 'b.txt', kind: 'new' }], 'each digest asked of a differing file, in order');
  });

  /** A cache directory `name` under the test's, holding a context with one file, a.txt ('one'). */
  function contextWithFile(name: string): { readonly root: string; readonly context: string; readonly file: string } {
    const root = join(dir, name);
    const context = join(root, 'context');
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, 'a.txt'), 'one');
    return { root, context, file: join(context, 'a.txt') };
  }

  test('a file racy at every build (dated in the future) does not make each build rewrite the record', async () => {
    const { root, context, file } = contextWithFile('future');
    const tomorrow = Date.now() / 1000 + 86_400;
    utimesSync(file, tomorrow, tomorrow);
    const first = new FileDigests({ root, directory: context });
    first.digest(file, statSync(file));
    await first.save();
    const [record] = readdirSync(join(root, 'cache', 'files')).map((name) => join(root, 'cache', 'files', name)) as [string];
    const written = statSync(record).ino;
    const second = new FileDigests({ root, directory: context });
    await second.load();
    assert.equal(second.digest(file, statSync(file)), sha256('one'), 'read again: its stat vouches for nothing');
    await second.save();
    assert.equal(statSync(record).ino, written, 'the record is not written again');
  });

  test('a file gone from a walked directory is reported removed, then forgotten; one left out but still there is kept', async () => {
    const { root, context, file } = contextWithFile('removed');
    mkdirSync(join(context, 'sub'));
    const [gone, skipped] = [join(context, 'sub', 'gone.txt'), join(context, 'sub', 'skipped.log')];
    writeFileSync(gone, 'gone');
    writeFileSync(skipped, 'skipped');
    await new Promise((resolve) => setTimeout(resolve, 150));
    const first = new FileDigests({ root, directory: context });
    for (const path of [file, gone, skipped]) first.digest(path, statSync(path));
    first.walked({ directory: context });
    await first.save();

    rmSync(join(context, 'sub'), { recursive: true, force: true });
    mkdirSync(join(context, 'sub'));
    writeFileSync(skipped, 'skipped');
    const second = new FileDigests({ root, directory: context });
    await second.load();
    assert.deepEqual(second.removedIn({ directory: context }), [{ path: 'sub/gone.txt', kind: 'removed' }], 'only what no longer exists');
    assert.deepEqual(second.removedIn({ directory: join(context, 'other') }), []);
    second.digest(file, statSync(file));
    second.walked({ directory: context });
    await second.save();

    const third = new FileDigests({ root, directory: context });
    await third.load();
    assert.deepEqual(third.removedIn({ directory: context }), [], 'reported once, then forgotten');
    const record = JSON.parse(readFileSync(readdirSync(join(root, 'cache', 'files')).map((name) => join(root, 'cache', 'files', name))[0] as string, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(record).sort(), [file, skipped].sort(), 'the file left out (say by --exclude) but still there is kept');
    // A wildcard's scope: only what it names under its directory.
    const logs = { directory: context, includes: (relative: string) => relative.endsWith('.log') };
    rmSync(skipped);
    assert.deepEqual(third.removedIn(logs), [{ path: 'sub/skipped.log', kind: 'removed' }]);
    rmSync(file);
    assert.deepEqual(third.removedIn(logs), [{ path: 'sub/skipped.log', kind: 'removed' }], 'a.txt is outside the wildcard');
  });

  test('keep: false (an unpacked tar or git context) reads and writes no record', async () => {
    const { root, context, file } = contextWithFile('unkept');
    await new Promise((resolve) => setTimeout(resolve, 150));
    const digests = new FileDigests({ root, directory: context, keep: false });
    await digests.load();
    assert.equal(digests.digest(file, statSync(file)), sha256('one'));
    await digests.save();
    assert.deepEqual(readdirSync(root), ['context'], 'nothing under cache/files');
  });
});

describe('a cache repository (an OCI layout here)', () => {
  test('an entry is one small image tagged with its key; a lookup reads it back; past the TTL it is a miss', async () => {
    const layout = await OciLayout.openOrCreate(join(dir, 'repository'));
    const warnings: string[] = [];
    const logger = createLogger({ level: 'warn', write: (line) => warnings.push(line) });
    const cache = new RegistryCache({ repository: layout, platform: { os: 'linux', architecture: 'arm64' }, logger });
    const bytes = Buffer.from('a layer blob');
    const layer = { descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(bytes), size: bytes.length }, diffId: sha256('diff') };
    const key = 'f'.repeat(64);
    const stored = new Date(Date.now() - 60_000).toISOString();
    await cache.save({ entry: entry(key, new Date(stored), { layer }), open: async () => Readable.from([bytes]) });
    await cache.save({ entry: entry('0'.repeat(64), new Date(stored)) });
    const reopened = new RegistryCache({ repository: await OciLayout.open(join(dir, 'repository')), platform: { os: 'linux', architecture: 'arm64' }, logger });
    const hit = await reopened.lookup({ key, ttlMs: 3_600_000, now: Date.now() });
    assert.deepEqual(hit?.entry, { key, stored, createdBy: 'RUN make # buildkit', created: '2026-01-01T00:00:00Z', layer });
    assert.equal(hit?.blob?.kind, 'source');
    const empty = await reopened.lookup({ key: '0'.repeat(64), ttlMs: 3_600_000, now: Date.now() });
    assert.deepEqual(empty, { entry: { key: '0'.repeat(64), stored, createdBy: 'RUN make # buildkit', created: '2026-01-01T00:00:00Z' }, from: reopened.name });
    assert.equal(await reopened.lookup({ key, ttlMs: 30_000, now: Date.now() }), undefined, 'stored a minute ago, TTL 30 s');
    assert.equal(await reopened.lookup({ key: '9'.repeat(64), ttlMs: 3_600_000, now: Date.now() }), undefined, 'no such tag: a miss');
    assert.deepEqual(warnings, [], 'a miss is no warning');
    const validation = await validateImage({ source: await OciLayout.open(join(dir, 'repository')), root: await layout.resolve(key), diffIds: false });
    assert.ok(validation.blobs >= 2, 'the cache image is a valid image: config and layer digests check out');
  });
});
