// `caisson cache du|gc` on a real layer store: counts and sizes, removal by age and size, the
// default cache directory from the environment, and bad sizes, durations and cache directories
// named in the error.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { runCaisson, type CliResult } from '../support/cli.js';
import { FileDigests, LocalCache } from '../../src/cache/index.js';
import { LayerStore } from '../../src/fs/index.js';
import { createLogger } from '../../src/log.js';
import { sha256 } from '../../src/image/index.js';
import { makeTar } from '../support/tar.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-cache-cli-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(argv: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCaisson(argv, { cwd: dir, env });
}

async function storeWithLayer(root: string): Promise<void> {
  const tar = makeTar([{ name: 'data', content: Buffer.alloc(5000, 'd') }]);
  const bytes = gzipSync(tar);
  await new LayerStore({ root }).unpackLayer({ diffId: sha256(tar), what: 'test', open: async () => (async function* () {
    yield bytes;
  })() });
}

describe('caisson cache', () => {
  test('du counts what the store holds; --json for machines', async () => {
    const root = join(dir, 'du');
    await storeWithLayer(root);
    const json = await cli(['cache', 'du', '--cache-dir', root, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const usage = JSON.parse(json.stdout) as { cacheDir: string; layers: { count: number; bytes: number }; bytes: number };
    assert.deepEqual({ dir: usage.cacheDir, layers: usage.layers }, { dir: root, layers: { count: 1, bytes: 5000 } });
    const text = await cli(['cache', 'du', '--cache-dir', root]);
    assert.match(text.stdout, /layers +1 +4\.9 KiB extracted/);
  });

  test('the cache directory defaults to CAISSON_CACHE_DIR, then XDG_CACHE_HOME/caisson', async () => {
    const root = join(dir, 'env');
    await storeWithLayer(root);
    const byEnv = await cli(['cache', 'du', '--json'], { CAISSON_CACHE_DIR: root });
    assert.equal((JSON.parse(byEnv.stdout) as { layers: { count: number } }).layers.count, 1);
    const byXdg = await cli(['cache', 'du', '--json'], { XDG_CACHE_HOME: join(dir, 'xdg') });
    assert.equal((JSON.parse(byXdg.stdout) as { cacheDir: string }).cacheDir, join(dir, 'xdg', 'caisson'));
  });

  test('gc keeps what was used lately and removes by --max-age and --max-size', async () => {
    const root = join(dir, 'gc');
    await storeWithLayer(root);
    const kept = await cli(['cache', 'gc', '--cache-dir', root]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, /^removed 0 entries, 0 B; 4\.9 KiB left/);
    const removed = await cli(['cache', 'gc', '--cache-dir', root, '--max-size', '1KiB']);
    assert.match(removed.stdout, /^removed 1 entries, 4\.9 KiB; 0 B left/);
    assert.equal((await new LayerStore({ root }).usage()).layers.count, 0);
    await storeWithLayer(root);
    const aged = await cli(['cache', 'gc', '--cache-dir', root, '--max-age', '0s']);
    assert.match(aged.stdout, /^removed 1 entries/);
  });

  test('du counts build cache entries; gc removes those past --max-age and those whose layer is gone', async () => {
    const root = join(dir, 'steps');
    const store = new LayerStore({ root });
    const steps = new LocalCache({ root, blobs: store, logger: createLogger({ level: 'error', format: 'text', write: () => undefined }) });
    const entry = (key: string, stored: string) => ({ key: key.repeat(64), stored, createdBy: 'RUN true # buildkit', created: stored });
    await steps.save({ entry: entry('a', new Date().toISOString()) });
    await steps.save({ entry: entry('b', '2020-01-01T00:00:00Z') });
    await steps.save({ entry: { ...entry('c', new Date().toISOString()), layer: { descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256('gone'), size: 4 }, diffId: sha256('gone too') } } });
    const before = await cli(['cache', 'du', '--cache-dir', root, '--json']);
    assert.equal((JSON.parse(before.stdout) as { steps: { count: number } }).steps.count, 3);
    const collected = await cli(['cache', 'gc', '--cache-dir', root]);
    assert.equal(collected.code, 0, collected.stderr);
    assert.match(collected.stderr, /removed 2 build cache entries/);
    const after = await cli(['cache', 'du', '--cache-dir', root]);
    assert.match(after.stdout, /steps +1 +\d+ B in build cache entries/);
  });

  test("du counts the context file digests; a build's read marks them used; gc removes those unread for --max-age", async () => {
    const root = join(dir, 'files');
    const records = join(root, 'cache', 'files');
    mkdirSync(records, { recursive: true });
    const record = (directory: string): string => `${createHash('sha256').update(directory).digest('hex')}.json`;
    writeFileSync(join(records, record('/context/used')), '{}');
    writeFileSync(join(records, record('/context/gone')), '{"x":1}');
    const monthAgo = new Date(Date.now() - 30 * 24 * 3600_000);
    for (const name of readdirSync(records)) utimesSync(join(records, name), monthAgo, monthAgo);
    await new FileDigests({ root, directory: '/context/used' }).load();
    assert.ok(Date.now() - statSync(join(records, record('/context/used'))).mtimeMs < 60_000, 'loading a record marks it used');
    const json = await cli(['cache', 'du', '--cache-dir', root, '--json']);
    const usage = JSON.parse(json.stdout) as { files: { count: number; bytes: number }; bytes: number };
    assert.deepEqual({ files: usage.files, bytes: usage.bytes }, { files: { count: 2, bytes: 9 }, bytes: 9 }, 'the total counts them');
    const text = await cli(['cache', 'du', '--cache-dir', root]);
    assert.match(text.stdout, /files +2 +9 B of remembered context file digests/);
    assert.match(text.stdout, /total +9 B\n$/);
    const collected = await cli(['cache', 'gc', '--cache-dir', root]);
    assert.equal(collected.code, 0, collected.stderr);
    assert.match(collected.stderr, /removed the file digests of 1 context directory no build read for 336h/);
    assert.match(collected.stdout, /; 2 B left in /);
    assert.deepEqual(readdirSync(records), [record('/context/used')]);
  });

  test('du counts the build records; gc removes those written longer than --max-age ago', async () => {
    const root = join(dir, 'builds');
    const records = join(root, 'cache', 'builds');
    mkdirSync(records, { recursive: true });
    const recent = `${'a'.repeat(64)}.json`;
    const old = `${'b'.repeat(64)}.json`;
    writeFileSync(join(records, recent), '{"new":1}');
    writeFileSync(join(records, old), '{}');
    const monthAgo = new Date(Date.now() - 30 * 24 * 3600_000);
    utimesSync(join(records, old), monthAgo, monthAgo);
    const json = await cli(['cache', 'du', '--cache-dir', root, '--json']);
    const usage = JSON.parse(json.stdout) as { builds: { count: number; bytes: number }; bytes: number };
    assert.deepEqual({ builds: usage.builds, bytes: usage.bytes }, { builds: { count: 2, bytes: 11 }, bytes: 11 }, 'the total counts them');
    const text = await cli(['cache', 'du', '--cache-dir', root]);
    assert.match(text.stdout, /builds +2 +11 B in build records/);
    const collected = await cli(['cache', 'gc', '--cache-dir', root]);
    assert.equal(collected.code, 0, collected.stderr);
    assert.match(collected.stderr, /removed 1 build record written over 336h ago/);
    assert.deepEqual(readdirSync(records), [recent]);
  });

  test("du counts node's compiled caisson code; gc removes entries unused for --max-age, and a version directory it empties", async () => {
    const root = join(dir, 'code');
    const compiled = join(root, 'node-compile-cache');
    const current = join(compiled, 'v24.0.0-x64-aaaa-0');
    const old = join(compiled, 'v22.0.0-x64-bbbb-0');
    mkdirSync(current, { recursive: true });
    mkdirSync(old, { recursive: true });
    writeFileSync(join(current, 'used'), 'a'.repeat(100));
    writeFileSync(join(current, 'renamed-chunk'), 'b'.repeat(20));
    writeFileSync(join(old, 'index'), 'c'.repeat(3));
    const monthAgo = new Date(Date.now() - 30 * 24 * 3600_000);
    const dayAgo = new Date(Date.now() - 24 * 3600_000);
    utimesSync(join(current, 'renamed-chunk'), monthAgo, monthAgo);
    utimesSync(join(old, 'index'), monthAgo, monthAgo);
    utimesSync(join(current, 'used'), dayAgo, monthAgo); // written a month ago, read yesterday
    utimesSync(old, monthAgo, monthAgo);
    // A node started just now made its directory, and writes its entries when it ends.
    mkdirSync(join(compiled, 'v24.1.0-x64-cccc-0'));
    // A symlink is not followed, whatever it points to.
    const elsewhere = join(dir, 'not-a-cache');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'notes'), 'keep');
    utimesSync(join(elsewhere, 'notes'), monthAgo, monthAgo);
    symlinkSync(elsewhere, join(compiled, 'v24.2.0-x64-dddd-0'));
    const json = await cli(['cache', 'du', '--cache-dir', root, '--json']);
    const usage = JSON.parse(json.stdout) as { code: { count: number; bytes: number }; bytes: number };
    assert.deepEqual({ code: usage.code, bytes: usage.bytes }, { code: { count: 3, bytes: 123 }, bytes: 123 }, 'the total counts them');
    const text = await cli(['cache', 'du', '--cache-dir', root]);
    assert.match(text.stdout, /code +3 +123 B of caisson's own code, compiled by node\n {2}total +123 B\n$/);
    const collected = await cli(['cache', 'gc', '--cache-dir', root]);
    assert.equal(collected.code, 0, collected.stderr);
    assert.match(collected.stderr, /removed 2 compiled modules of caisson's own code unused for 336h \(23 B\)/);
    assert.match(collected.stdout, /; 100 B left in /);
    assert.deepEqual(readdirSync(compiled).sort(), ['v24.0.0-x64-aaaa-0', 'v24.1.0-x64-cccc-0', 'v24.2.0-x64-dddd-0'], "the old node's directory, emptied, is gone; the new one stays");
    assert.deepEqual(readdirSync(current), ['used']);
    assert.deepEqual(readdirSync(elsewhere), ['notes']);
  });

  test('bad sizes, durations and actions are usage errors naming the flag', async () => {
    const size = await cli(['cache', 'gc', '--cache-dir', dir, '--max-size', '12 parsecs']);
    assert.equal(size.code, 2);
    assert.match(size.stderr, /--max-size "12 parsecs" is not a size/);
    const age = await cli(['cache', 'gc', '--cache-dir', dir, '--max-age', '2 weeks']);
    assert.match(age.stderr, /--max-age "2 weeks" is not a duration/);
    const negative = await cli(['cache', 'gc', '--cache-dir', dir, '--max-age', '-1h']);
    assert.equal(negative.code, 2);
    assert.match(negative.stderr, /--max-age "-1h": a duration must not be negative/);
    const action = await cli(['cache', 'prune', '--cache-dir', dir]);
    assert.equal(action.code, 2);
    assert.match(action.stderr, /caisson cache prune: unknown action/);
  });

  test('a cache directory that is a file, or under one, is a usage error naming it, for cache, build and warm alike; nothing is made', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory\n');
    const context = join(dir, 'file-context');
    mkdirSync(context);
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\n');
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['cache', 'du', '--cache-dir', file], {}, new RegExp(`^error: --cache-dir ${file}: it is not a directory \\[ERR_USAGE\\]\nhint: Give --cache-dir a directory`)],
      [['cache', 'gc', '--cache-dir', join(file, 'sub')], {}, new RegExp(`^error: --cache-dir ${file}/sub: ${file} is not a directory \\[ERR_USAGE\\]`)],
      [['cache', 'du'], { CAISSON_CACHE_DIR: file }, new RegExp(`^error: the default cache directory ${file}: it is not a directory \\[ERR_USAGE\\]\nhint: Pass --cache-dir DIR, or set CAISSON_CACHE_DIR`)],
      [['build', context, '--no-push', '--cache-dir', join(file, 'sub')], {}, new RegExp(`^error: --cache-dir ${file}/sub: ${file} is not a directory \\[ERR_USAGE\\]`, 'm')],
      [['warm', '-c', file, '-i', '127.0.0.1:9/none:1'], {}, new RegExp(`^error: --cache-dir ${file}: it is not a directory \\[ERR_USAGE\\]`)],
    ];
    for (const [argv, env, expected] of cases) {
      const result = await cli(argv, env);
      assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected);
      assert.equal(readFileSync(file, 'utf8'), 'not a directory\n');
    }
  });
});
