// A machine without Debian's attr tools (getfattr, setfattr) still builds what needs no xattrs:
// reads find none, writes report every path as not set (callers warn), and RUN, whose overlay
// changes can only be read through xattrs, refuses to start and names the package.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { findHostTools } from '../../src/exec/host.js';
import { readTreeXattrs, readXattrs, writeXattrs } from '../../src/fs/index.js';

let dir = '';
let bin = '';
const savedPath = process.env.PATH;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-no-attr-'));
  // PATH: the sandbox's util-linux and coreutils programs, and no getfattr or setfattr.
  bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const name of ['unshare', 'setpriv', 'env']) {
    const host = ['/usr/bin', '/bin'].map((d) => join(d, name)).find((path) => existsSync(path));
    assert.ok(host !== undefined, `${name} is on this machine (util-linux, coreutils)`);
    symlinkSync(host, join(bin, name));
  }
  writeFileSync(join(dir, 'file'), 'x');
  process.env.PATH = bin;
});

after(() => {
  process.env.PATH = savedPath;
  rmSync(dir, { recursive: true, force: true });
});

test('reads find no attributes, and writes report every path as not set, naming the package', async () => {
  assert.deepEqual(await readTreeXattrs({ root: dir }), new Map());
  assert.deepEqual(await readXattrs({ paths: [join(dir, 'file')] }), new Map());
  const refused = await writeXattrs({ assignments: [{ path: join(dir, 'file'), xattrs: new Map([['user.note', Buffer.from('x')]]) }], what: 'layer sha256:ab' });
  assert.equal(refused.length, 1);
  assert.match(refused[0] ?? '', /setfattr is not installed \(Debian: apt-get install attr\): 1 path\(s\) keep no extended attributes/);
});

test('RUN refuses to start without them: ERR_SANDBOX naming getfattr and the attr package', () => {
  assert.throws(() => findHostTools(bin), (error: unknown) => {
    assert.ok(error instanceof CaissonError);
    assert.equal(error.code, 'ERR_SANDBOX');
    assert.match(error.message, /getfattr is not on the host's PATH/);
    assert.match(error.hint ?? '', /apt-get install attr/);
    return true;
  });
});

test('with the attr tools back on PATH the sandbox finds everything', (t) => {
  if (savedPath === undefined || !savedPath.split(':').some((d) => existsSync(join(d, 'getfattr')))) {
    t.skip('needs Debian package attr (getfattr) on PATH; npm test installs it');
    return;
  }
  const tools = findHostTools(savedPath);
  assert.match(tools.unshare, /\/unshare$/);
});
