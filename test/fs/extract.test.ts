// Secure extraction against hostile layers made by the test: each gets a clear error or the
// documented safe outcome, and nothing outside the target is written (checked every time).
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { after, before, beforeEach, afterEach, describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { extractLayer, type ExtractResult } from '../../src/fs/index.js';
import { chunksOf, makeTar, type FixtureEntry } from '../support/tar.js';

let base = '';
let jail = '';
let target = '';
let outside = '';
let counter = 0;
before(() => {
  base = mkdtempSync(join(tmpdir(), 'caisson-extract-test-'));
});
after(() => rmSync(base, { recursive: true, force: true }));

// Each test: <jail>/root is the target, <jail>/outside a file a successful escape would change.
beforeEach(() => {
  counter += 1;
  jail = join(base, `case-${counter}`);
  target = join(jail, 'root');
  outside = join(jail, 'outside');
  mkdirSync(target, { recursive: true });
  writeFileSync(outside, 'untouched');
});
afterEach(() => {
  assert.deepEqual(readdirSync(jail).sort(), ['outside', 'root'], 'nothing was created beside the target');
  assert.equal(readFileSync(outside, 'utf8'), 'untouched', 'the file outside the target is unchanged');
  assert.ok(lstatSync(outside).isFile());
});

function extract(entries: readonly FixtureEntry[] | Buffer, options: { readonly privileged?: boolean } = {}): Promise<ExtractResult> {
  const data = Buffer.isBuffer(entries) ? entries : makeTar(entries);
  return extractLayer({ source: chunksOf(data), target, what: 'sha256:fixture', ...options });
}

function isUnsafe(pattern: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof CaissonError, String(error));
    assert.equal(error.code, 'ERR_LAYER_UNSAFE');
    assert.match(error.message, /^sha256:fixture: /);
    assert.match(error.message, pattern);
    return true;
  };
}

describe('extracting a layer', () => {
  test('an ordinary layer: files, dirs, modes, times, symlinks, hardlinks; gzip and zstd by magic', async () => {
    const entries: FixtureEntry[] = [
      { name: 'etc/', mode: 0o755, mtime: 1_600_000_000 },
      { name: 'etc/hostname', content: 'box\n', mode: 0o644, mtime: 1_600_000_001 },
      { name: 'bin/', mode: 0o755 },
      { name: 'bin/tool', content: '#!/bin/sh\n', mode: 0o4755 },
      { name: 'bin/alias', kind: 'symlink', linkname: 'tool' },
      { name: 'bin/same', kind: 'hardlink', linkname: 'bin/tool' },
      { name: '/abs/taken/relative', content: 'abs' },
    ];
    for (const compress of [(data: Buffer) => data, gzipSync, zstdCompressSync]) {
      rmSync(target, { recursive: true });
      mkdirSync(target);
      const result = await extract(compress(makeTar(entries)));
      assert.equal(result.entries, entries.length);
      assert.equal(readFileSync(join(target, 'etc/hostname'), 'utf8'), 'box\n');
      assert.equal(statSync(join(target, 'etc')).mtimeMs, 1_600_000_000_000);
      assert.equal(statSync(join(target, 'etc/hostname')).mtimeMs, 1_600_000_001_000);
      assert.equal(statSync(join(target, 'bin/tool')).mode & 0o7777, 0o4755);
      assert.equal(readlinkSync(join(target, 'bin/alias')), 'tool');
      assert.equal(statSync(join(target, 'bin/same')).ino, statSync(join(target, 'bin/tool')).ino);
      assert.equal(readFileSync(join(target, 'abs/taken/relative'), 'utf8'), 'abs', 'an absolute name lands inside the target');
    }
  });

  test('".." in any form is refused', async () => {
    for (const name of ['../outside', 'a/../../outside', './../outside', 'a/b/../../../outside', '..']) {
      await assert.rejects(extract([{ name, content: 'escaped' }]), isUnsafe(/climbs out with ".."/), name);
    }
    await assert.rejects(extract([{ name: 'x', kind: 'symlink', linkname: 'y' }, { name: 'h', kind: 'hardlink', linkname: '../outside' }]), isUnsafe(/climbs out/));
  });

  test('a symlink in the parent path is never followed (symlink, then write through it)', async () => {
    for (const linkname of [jail, '..', '../', `../../${jail.split('/').pop() ?? ''}`]) {
      rmSync(target, { recursive: true });
      mkdirSync(target);
      await assert.rejects(
        extract([{ name: 'escape', kind: 'symlink', linkname }, { name: 'escape/outside', content: 'escaped' }]),
        isUnsafe(/has a symlink in its parent path \(escape\)/),
        linkname,
      );
    }
    // Deeper: a symlinked directory in the middle of the path.
    await assert.rejects(extract([{ name: 'a/' }, { name: 'a/b', kind: 'symlink', linkname: '/' }, { name: 'a/b/c/d', content: 'x' }]), isUnsafe(/parent path \(a\/b\)/));
  });

  test('a file over an existing symlink replaces the link and does not write through it', async () => {
    await extract([{ name: 'f', kind: 'symlink', linkname: outside }, { name: 'f', content: 'inside' }]);
    assert.ok(lstatSync(join(target, 'f')).isFile());
    assert.equal(readFileSync(join(target, 'f'), 'utf8'), 'inside');
  });

  test('hardlinks must point at an existing non-directory inside the target', async () => {
    await assert.rejects(extract([{ name: 'h', kind: 'hardlink', linkname: 'missing' }]), isUnsafe(/does not exist/));
    await assert.rejects(extract([{ name: 'd/' }, { name: 'h', kind: 'hardlink', linkname: 'd' }]), isUnsafe(/hardlink to the directory/));
    await assert.rejects(extract([{ name: 'l', kind: 'symlink', linkname: jail }, { name: 'h', kind: 'hardlink', linkname: 'l/outside' }]), isUnsafe(/symlink in its parent path/));
    // A hardlink to a symlink links the symlink itself, never its target.
    await extract([{ name: 'l', kind: 'symlink', linkname: outside }, { name: 'h', kind: 'hardlink', linkname: 'l' }]);
    assert.ok(lstatSync(join(target, 'h')).isSymbolicLink());
  });

  test("whiteouts delete lower entries; whiteouts of '..', '.', nothing or the root are refused", async () => {
    await extract([{ name: 'keep', content: 'k' }, { name: 'gone', content: 'g' }, { name: 'dir/' }, { name: 'dir/child', content: 'c' }]);
    await extract([{ name: '.wh.gone', content: '' }, { name: '.wh.dir', content: '' }, { name: 'missing/.wh.nothing', content: '' }]);
    assert.deepEqual(readdirSync(target).sort(), ['keep']);
    for (const name of ['.wh...', 'a/.wh...', '.wh..', '.wh.', 'a/.wh.']) {
      await assert.rejects(extract([{ name: 'a/' }, { name, content: '' }]), isUnsafe(/whiteout .* names/), name);
    }
  });

  test('an opaque directory drops what lower layers had, keeps what its own layer adds', async () => {
    await extract([{ name: 'd/' }, { name: 'd/lower-1', content: '1' }, { name: 'd/sub/' }, { name: 'd/sub/lower-2', content: '2' }]);
    await extract([{ name: 'd/' }, { name: 'd/upper', content: 'u' }, { name: 'd/.wh..wh..opq', content: '' }]);
    assert.deepEqual(readdirSync(join(target, 'd')), ['upper']);
  });

  test('a layer that deletes "/": an opaque root empties the lower layers, the target itself stays', async () => {
    await extract([{ name: 'bin/' }, { name: 'bin/sh', content: 'sh' }, { name: 'etc/passwd', content: 'p' }]);
    await extract([{ name: '.wh..wh..opq', content: '' }, { name: 'new', content: 'n' }]);
    assert.deepEqual(readdirSync(target), ['new']);
    await assert.rejects(extract([{ name: './', kind: 'symlink', linkname: '/' }]), isUnsafe(/where the root directory is/));
  });

  test('a deep chain of whiteouts and opaque directories', async () => {
    const depth = 120;
    const lower: FixtureEntry[] = [];
    const upper: FixtureEntry[] = [];
    let path = '';
    for (let level = 0; level < depth; level += 1) {
      path = path === '' ? `d${level}` : `${path}/d${level}`;
      lower.push({ name: `${path}/` }, { name: `${path}/file`, content: String(level) });
      upper.push({ name: `${path}/` }, { name: `${path}/${level % 2 === 0 ? '.wh.file' : '.wh..wh..opq'}`, content: '' });
    }
    await extract(lower);
    await extract(upper);
    let walk = target;
    for (let level = 0; level < depth; level += 1) {
      walk = join(walk, `d${level}`);
      const names = readdirSync(walk);
      // Even levels lost only `file`; odd levels are opaque: the lower child directory is gone too,
      // but the upper layer re-created it before the marker came.
      assert.ok(!names.includes('file'), `level ${level}: ${names.join(',')}`);
    }
  });

  test('device nodes: made as root, left out and reported when unprivileged; fifos either way', async () => {
    const entries: FixtureEntry[] = [{ name: 'dev/' }, { name: 'dev/null', kind: 'char', devmajor: 1, devminor: 3, mode: 0o666 }, { name: 'dev/pipe', kind: 'fifo' }];
    const unprivileged = await extract(entries, { privileged: false });
    assert.equal(existsSync(join(target, 'dev/null')), false);
    assert.deepEqual(unprivileged.skipped.map((entry) => entry.path), ['dev/null']);
    assert.match(unprivileged.skipped[0]?.reason ?? '', /char device 1:3 left out \(creating device nodes needs root\)/);
    assert.ok(lstatSync(join(target, 'dev/pipe')).isFIFO());
  });

  test('device nodes are made when running as root', { skip: process.getuid?.() === 0 ? false : 'needs root (uid 0) to create device nodes' }, async () => {
    const result = await extract([{ name: 'dev/' }, { name: 'dev/null', kind: 'char', devmajor: 1, devminor: 3, mode: 0o666 }, { name: 'owned', content: 'o', uid: 1234, gid: 5678 }]);
    assert.deepEqual(result.skipped, []);
    const stats = lstatSync(join(target, 'dev/null'));
    assert.ok(stats.isCharacterDevice());
    assert.equal(stats.rdev, 0x103);
    assert.equal(statSync(join(target, 'owned')).uid, 1234);
    assert.equal(statSync(join(target, 'owned')).gid, 5678);
  });

  test('corrupt compressed data and non-tar input are ERR_LAYER_INVALID naming the layer', async () => {
    const gz = gzipSync(makeTar([{ name: 'a', content: 'x'.repeat(10_000) }]));
    await assert.rejects(extract(gz.subarray(0, gz.length - 20)), (error: unknown) => error instanceof CaissonError && error.code === 'ERR_LAYER_INVALID' && /^sha256:fixture: the gzip data is corrupt or truncated/.test(error.message));
    await assert.rejects(extract(Buffer.from('this is not a tar archive at all'.repeat(20))), (error: unknown) => error instanceof CaissonError && error.code === 'ERR_LAYER_INVALID' && /sha256:fixture/.test(error.message));
  });

  test('20,000 entries: directories, files and whiteouts', async () => {
    // Mostly whiteouts, so the scale is the reader's and the path checks', not this disk's file
    // creation; the archive is generated as it is read, never held whole. (100,000 entries took
    // three minutes on these throttled VMs, too long for the suite; bench/ will carry that size.)
    let count = 0;
    function* entries(): Generator<FixtureEntry> {
      for (let d = 0; d < 20; d += 1) {
        yield { name: `d${d}/` };
        for (let f = 0; f < 10; f += 1) yield { name: `d${d}/f${f}`, content: f === 0 ? `dir ${d}` : '' };
        for (let w = 0; w < 989; w += 1) yield { name: `d${d}/.wh.gone${w}`, content: '' };
      }
      yield { name: 'last', content: 'end' };
    }
    async function* archive(): AsyncGenerator<Buffer> {
      let batch: FixtureEntry[] = [];
      for (const entry of entries()) {
        count += 1;
        batch.push(entry);
        if (batch.length === 500) {
          yield makeTar(batch, { end: false });
          batch = [];
        }
      }
      yield makeTar(batch);
    }
    const result = await extractLayer({ source: archive(), target, what: 'sha256:fixture' });
    assert.equal(count, 20_001);
    assert.equal(result.entries, 20_001);
    assert.equal(readdirSync(join(target, 'd19')).length, 10);
    assert.equal(readFileSync(join(target, 'd12/f0'), 'utf8'), 'dir 12');
    assert.equal(readFileSync(join(target, 'last'), 'utf8'), 'end');
    rmSync(target, { recursive: true });
    mkdirSync(target);
  });
});
