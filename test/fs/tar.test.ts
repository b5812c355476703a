// The tar reader and writer: caisson's own headers read back, GNU tar's archives (long names,
// PAX, sparse files) read, malformed archives refused with the layer named.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { decodeHeader, encodeHeader, readTar, writeTar, type TarHeader } from '../../src/fs/index.js';
import { sealHeader } from '../../src/image/index.js';
import { chunksOf, fixtureHeader, makeTar } from '../support/tar.js';
import { missingTool } from '../support/tools.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-tar-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(data: Buffer): Promise<{ header: TarHeader; content: Buffer }[]> {
  const out: { header: TarHeader; content: Buffer }[] = [];
  for await (const entry of readTar(chunksOf(data), 'fixture.tar')) {
    const parts: Buffer[] = [];
    for await (const chunk of entry.content()) parts.push(chunk);
    out.push({ header: entry.header, content: Buffer.concat(parts) });
  }
  return out;
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of source) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('tar format', () => {
  test('every kind, long names and links, big ids and xattrs survive write then read', async () => {
    const longName = `${'deep/'.repeat(40)}file-with-a-long-name.txt`;
    const entries = [
      fixtureHeader({ name: 'etc/', kind: 'directory', mode: 0o755 }),
      fixtureHeader({ name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n', mode: 0o644 }),
      fixtureHeader({ name: 'bin/su', content: 'x', mode: 0o4755, uid: 0, gid: 0 }),
      fixtureHeader({ name: longName, content: 'long', uid: 3_000_000, gid: 9_999_999 }),
      fixtureHeader({ name: 'link', kind: 'symlink', linkname: `/${'target/'.repeat(20)}end` }),
      fixtureHeader({ name: 'hard', kind: 'hardlink', linkname: 'etc/passwd' }),
      fixtureHeader({ name: 'dev/null', kind: 'char', devmajor: 1, devminor: 3, mode: 0o666 }),
      fixtureHeader({ name: 'fifo', kind: 'fifo' }),
      fixtureHeader({ name: 'ping', content: 'p', xattrs: new Map([['security.capability', Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0])]]) }),
    ];
    const contents = new Map<string, string>([['etc/passwd', 'root:x:0:0::/root:/bin/sh\n'], ['bin/su', 'x'], [longName, 'long'], ['ping', 'p']]);
    const tar = await collect(writeTar(entries.map((header) => ({ header, ...(header.kind === 'file' ? { content: Buffer.from(contents.get(header.name) ?? '') } : {}) }))));
    const read = await readAll(tar);
    assert.equal(read.length, entries.length);
    for (const [i, expected] of entries.entries()) {
      const got = read[i]?.header;
      assert.ok(got !== undefined);
      assert.equal(got.name, expected.name);
      assert.equal(got.kind, expected.kind);
      assert.equal(got.mode, expected.mode, expected.name);
      assert.equal(got.uid, expected.uid);
      assert.equal(got.gid, expected.gid);
      assert.equal(got.linkname, expected.linkname);
      assert.equal(got.devmajor, expected.devmajor);
      assert.equal(got.devminor, expected.devminor);
      assert.deepEqual([...got.xattrs], [...expected.xattrs]);
    }
    assert.equal(read[3]?.content.toString(), 'long');
    // GNU tar lists the same names (an independent reader).
    writeFileSync(join(dir, 'kinds.tar'), tar);
    const listed = spawnSync('tar', ['-tf', join(dir, 'kinds.tar')], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n'), entries.map((entry) => entry.name));
  });

  test('a name of exactly 100 bytes fits ustar; 256 bytes splits into prefix and name or takes PAX', () => {
    const hundred = 'a'.repeat(100);
    assert.equal(encodeHeader(fixtureHeader({ name: hundred, content: '' })).length, 512);
    const split = `${'p'.repeat(150)}/${'n'.repeat(99)}`;
    const block = encodeHeader(fixtureHeader({ name: split, content: '' }));
    assert.equal(block.length, 512, 'prefix+name, no PAX');
    assert.equal(decodeHeader(block, 'x').name, split);
    assert.ok(encodeHeader(fixtureHeader({ name: 'q'.repeat(300), content: '' })).length > 512, 'PAX path record');
  });

  test('GNU long names (L records) are read', async () => {
    const name = `${'gnu/'.repeat(40)}file`;
    const read = await readAll(makeTar([{ name, content: 'gnu', gnuLongName: true }]));
    assert.equal(read[0]?.header.name, name);
    assert.equal(read[0]?.content.toString(), 'gnu');
  });

  test("GNU tar's own archives: gnu and posix formats with long names, and a sparse file", { skip: missingTool('tar', 'tar') }, async () => {
    const tree = join(dir, 'gnu-tree');
    const deep = join(tree, 'x'.repeat(60), 'y'.repeat(60));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, `${'z'.repeat(90)}.txt`), 'deep\n');
    symlinkSync(`../${'l'.repeat(120)}`, join(tree, 'long-link'));
    // 8 MiB with two small data regions.
    const sparse = join(tree, 'sparse.img');
    writeFileSync(sparse, '');
    const fd = spawnSync('sh', ['-c', `printf start | dd of=${sparse} bs=1 seek=4096 conv=notrunc 2>/dev/null && printf end | dd of=${sparse} bs=1 seek=8388600 conv=notrunc 2>/dev/null`]);
    assert.equal(fd.status, 0);
    for (const format of ['gnu', 'posix']) {
      const archive = join(dir, `${format}.tar`);
      const args = ['-cf', archive, '-C', tree, '--sort=name', `--format=${format}`, ...(format === 'posix' ? ['--sparse', '--sparse-version=1.0'] : []), '.'];
      const made = spawnSync('tar', args, { encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
      const read = await readAll(readFileSync(archive));
      const names = read.map((entry) => entry.header.name.replace(/^\.\//, '').replace(/\/$/, ''));
      assert.ok(names.includes(`${'x'.repeat(60)}/${'y'.repeat(60)}/${'z'.repeat(90)}.txt`), `${format}: ${names.join(', ')}`);
      assert.equal(read.find((entry) => entry.header.name.endsWith('long-link'))?.header.linkname, `../${'l'.repeat(120)}`);
      const image = read.find((entry) => entry.header.name.endsWith('sparse.img'));
      assert.ok(image !== undefined);
      if (format === 'posix') {
        assert.equal(image.header.sparse?.realSize, 8388603);
        assert.ok(image.header.size < 8388603, 'only the data regions are stored');
      }
    }
  });

  test('bad archives are refused with the layer and offset named', async () => {
    const good = makeTar([{ name: 'a', content: 'hello' }]);
    const corrupt = Buffer.from(good);
    corrupt[0] = 0x62;
    await assert.rejects(readAll(corrupt), (error: unknown) => error instanceof CaissonError && error.code === 'ERR_LAYER_INVALID' && /fixture\.tar \(tar header at byte 0\): tar header checksum/.test(error.message));
    const truncated = good.subarray(0, 512 + 3);
    await assert.rejects(readAll(truncated), (error: unknown) => error instanceof CaissonError && error.code === 'ERR_LAYER_INVALID' && /ends in the middle of an entry/.test(error.message));
    const huge = makeTar([{ name: 'pax', content: 'x' }]);
    // An 'x' header claiming 2 GiB of extended records.
    const paxHeader = encodeHeader({ ...fixtureHeader({ name: 'PaxHeaders/p', content: '' }), size: 2 ** 31 });
    paxHeader.write('x', 156, 1, 'latin1');
    sealHeader(paxHeader);
    await assert.rejects(readAll(Buffer.concat([paxHeader, huge])), (error: unknown) => error instanceof CaissonError && error.code === 'ERR_LAYER_INVALID' && /extended header/.test(error.message));
  });

  test('content left unread is skipped: the next entry is still found', async () => {
    const data = makeTar([{ name: 'big', content: Buffer.alloc(100_000, 1) }, { name: 'small', content: 'ok' }]);
    const names: string[] = [];
    let small = '';
    for await (const entry of readTar(chunksOf(data), 'skip.tar')) {
      names.push(entry.header.name);
      if (entry.header.name === 'big') {
        // Read a little, then move on.
        for await (const chunk of entry.content()) {
          assert.ok(chunk.length > 0);
          break;
        }
      } else {
        for await (const chunk of entry.content()) small += chunk.toString();
      }
    }
    assert.deepEqual(names, ['big', 'small']);
    assert.equal(small, 'ok');
  });

  test('the writer refuses content that does not match the header size', async () => {
    const header = fixtureHeader({ name: 'grew', content: 'abc' });
    async function* more(): AsyncGenerator<Buffer> {
      yield Buffer.from('abcdef');
    }
    await assert.rejects(collect(writeTar([{ header, content: more() }])), (error: unknown) => error instanceof CaissonError && error.code === 'ERR_LAYER_INVALID' && /grew: grew while/.test(error.message));
  });
});
