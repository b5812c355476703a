/**
 * Build records without builds (cache/build-record.ts): what the stamps of a path list answer to
 * (a rewrite, a new file, one removed; not a read), the racy window, files read whole (by
 * their text), and a record read back, refused when corrupt, older than the TTL or filed
 * for another request under the same name. End to end: test/build/build-record.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BuildJournal, buildRecordName, changedFile, readBuildRecord, stampPaths, writeBuildRecord } from '../../src/cache/index.js';
import { createLogger } from '../../src/log.js';

describe('build records', () => {
  const dir = mkdtempSync(join(tmpdir(), 'caisson-record-unit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const quiet = createLogger({ write: () => undefined, format: 'text', level: 'error' });

  test('stamps change with a rewrite, a new entry in a listed directory and a removal; not with a read', async () => {
    const file = join(dir, 'a.txt');
    const absent = join(dir, 'absent.txt');
    writeFileSync(file, 'a\n');
    const paths = [dir, file, absent];
    const first = await stampPaths({ paths });
    assert.equal(Buffer.from(first ?? '', 'base64').length, 3 * 5 * 8, 'five numbers a path');
    readFileSync(file);
    assert.equal(await stampPaths({ paths }), first, 'reading changes nothing');
    writeFileSync(file, 'b\n');
    const rewritten = await stampPaths({ paths });
    assert.notEqual(rewritten, first, 'same size, new content: new mtime and ctime');
    writeFileSync(absent, '');
    const added = await stampPaths({ paths });
    assert.notEqual(added, rewritten, 'a path that was missing is there');
    unlinkSync(absent);
    assert.notEqual(await stampPaths({ paths }), added);
    assert.equal(await stampPaths({ paths: [join(file, 'below-a-file')] }), undefined, 'ENOTDIR: nothing to vouch for');
  });

  test('with `since`: a path changed within the racy window before it, or after it, cannot be stamped', async () => {
    const file = join(dir, 'racy.txt');
    writeFileSync(file, 'x\n');
    assert.equal(await stampPaths({ paths: [file], since: Date.now() }), undefined, 'changed just now');
    assert.equal(await stampPaths({ paths: [file], since: Date.now() - 60_000 }), undefined, 'changed after the build started');
    // utimes sets ctime to now: only a later `since` tells a settled file.
    utimesSync(file, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    assert.equal(await stampPaths({ paths: [file], since: Date.now() + 1_000 }), await stampPaths({ paths: [file] }));
    assert.equal(await stampPaths({ paths: [join(dir, 'missing')], since: Date.now() }), await stampPaths({ paths: [join(dir, 'missing')] }), 'nothing there is no race');
  });

  test('many paths are stamped in batches, in order', async () => {
    const paths = Array.from({ length: 600 }, (_, i) => join(dir, `many-${i}`));
    for (const path of paths) writeFileSync(path, '');
    const forward = await stampPaths({ paths });
    assert.notEqual(await stampPaths({ paths: [...paths].reverse() }), forward);
    writeFileSync(paths[599] as string, 'last');
    assert.notEqual(await stampPaths({ paths }), forward, 'the last batch counts');
  });

  test('files read whole are checked by content; the journal keeps the first reason it cannot vouch', () => {
    const journal = new BuildJournal({ since: 0 });
    const dockerfile = join(dir, 'Dockerfile');
    writeFileSync(dockerfile, 'FROM scratch\n');
    journal.file(dockerfile, 'FROM scratch\n');
    journal.file(join(dir, '.dockerignore'), undefined);
    assert.equal(changedFile(journal.files), undefined);
    writeFileSync(dockerfile, 'FROM scratch\n');
    assert.equal(changedFile(journal.files), undefined, 'rewritten with the same text');
    writeFileSync(join(dir, '.dockerignore'), '*.log\n');
    assert.equal(changedFile(journal.files), join(dir, '.dockerignore'), 'a file that was not there');
    writeFileSync(dockerfile, 'FROM scratch\nENV A=1\n');
    assert.equal(changedFile(journal.files), dockerfile, 'another text');
    assert.deepEqual(journal.files, [{ path: dockerfile, text: 'FROM scratch\n' }, { path: join(dir, '.dockerignore'), text: null }], 'kept as read');
    assert.equal(journal.reason, undefined);
    assert.equal(journal.oldest, 0, 'the build started at 0');
    journal.cached(new Date(-5_000).toISOString());
    journal.cached(new Date(-1_000).toISOString());
    assert.equal(journal.oldest, -5_000, 'the oldest cache entry a step came from');
    journal.unrecordable('first');
    journal.unrecordable('second');
    assert.equal(journal.reason, 'first');
  });

  test('record names: 16 hex digits from the request, which the record holds', async () => {
    assert.match(buildRecordName('{"a":1}'), /^[0-9a-f]{16}$/);
    assert.equal(buildRecordName('{"a":1}'), buildRecordName('{"a":1}'));
    assert.notEqual(buildRecordName('{"a":1}'), buildRecordName('{"a":2}'));
    const cacheDir = join(dir, 'names');
    const now = Date.now();
    const record = { created: new Date(now).toISOString(), oldest: new Date(now).toISOString(), digest: `sha256:${'d'.repeat(64)}`, manifests: [], files: [], paths: [], stamps: '', images: [] };
    await writeBuildRecord({ cacheDir, request: 'one', record });
    // Another request whose name is the same (filed there by hand): not used, no warning.
    const builds = join(cacheDir, 'cache', 'builds');
    writeFileSync(join(builds, `${buildRecordName('two')}.json`), readFileSync(join(builds, `${buildRecordName('one')}.json`)));
    const warnings: string[] = [];
    const logger = createLogger({ write: (text) => warnings.push(text), format: 'text', level: 'warn' });
    assert.equal((await readBuildRecord({ cacheDir, request: 'one', ttlMs: 60_000, now, logger }))?.request, 'one');
    assert.equal(await readBuildRecord({ cacheDir, request: 'two', ttlMs: 60_000, now, logger }), undefined);
    assert.deepEqual(warnings, []);
  });

  test('a record reads back; a corrupt one is removed with a warning; an expired one is not used', async () => {
    const cacheDir = join(dir, 'cache');
    const request = '{"request":"c"}';
    const now = Date.now();
    const record = { created: new Date(now).toISOString(), oldest: new Date(now - 30_000).toISOString(), digest: `sha256:${'d'.repeat(64)}`, manifests: [], files: [], paths: ['/x'], stamps: 'e'.repeat(64), images: [{ reference: 'r.example/a:1', digest: `sha256:${'f'.repeat(64)}` }] };
    await writeBuildRecord({ cacheDir, request, record });
    const read = await readBuildRecord({ cacheDir, request, ttlMs: 60_000, now, logger: quiet });
    assert.deepEqual(read, { format: 'caisson-build-record-v2', request, ...record });
    assert.equal(statSync(join(cacheDir, 'cache', 'builds', `${buildRecordName(request)}.json`)).mode & 0o777, 0o600, 'readable by its owner alone');
    assert.equal(await readBuildRecord({ cacheDir, request, ttlMs: 60_000, now: now + 40_000, logger: quiet }), undefined, 'its oldest cache entry is older than the TTL, though the record itself is not');
    const file = join(cacheDir, 'cache', 'builds', `${buildRecordName(request)}.json`);
    writeFileSync(file, JSON.stringify({ ...record, format: 'caisson-build-record-v2', request, paths: [1] }));
    const warnings: string[] = [];
    const logger = createLogger({ write: (text) => warnings.push(text), format: 'text', level: 'warn' });
    assert.equal(await readBuildRecord({ cacheDir, request, ttlMs: 60_000, now: Date.now(), logger }), undefined);
    assert.match(warnings.join(''), /build record .* is corrupt; removed, the build runs/);
    assert.throws(() => readFileSync(file), /ENOENT/);
  });
});
