/**
 * Build contexts other than a directory (prepareContext, kaniko's -c forms): dir and dir://,
 * tar:// archives (gzip, zstd, plain, stdin) unpacked safely — hostile names refused with nothing
 * written outside the scratch directory — git+file:// repositories made by the test (branch, tag,
 * commit, #ref:subdir, kaniko's #ref#commit), credentials redacted and sent only as a header,
 * --context-sub-path confined, and end to end: `caisson build -c tar://…` and `-c tar://stdin`
 * written to an OCI layout that `umoci unpack` reads back.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { parseGitOptions, prepareContext, type PreparedContext, type PrepareContextOptions } from '../../src/build/index.js';
import { CaissonError } from '../../src/errors.js';
import { runCaisson } from '../support/cli.js';
import { makeTar, type FixtureEntry } from '../support/tar.js';
import { missingTool, runTool } from '../support/tools.js';

let work: string;
let counter = 0;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'caisson-context-test-'));
});

after(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** A fresh scratch directory alone in its own parent, so anything written beside it shows. */
function freshScratch(): { parent: string; scratch: string } {
  counter += 1;
  const parent = join(work, `scratch-parent-${counter}`);
  const scratch = join(parent, 'scratch');
  mkdirSync(scratch, { recursive: true });
  return { parent, scratch };
}

const testEnv = (): Record<string, string | undefined> => ({ PATH: process.env['PATH'], HOME: work });

async function prepare(spec: string, extra: Partial<PrepareContextOptions> = {}): Promise<PreparedContext & { scratch: string; parent: string }> {
  const { parent, scratch } = freshScratch();
  const prepared = await prepareContext({ spec, cwd: work, scratch, stdin: async () => (async function* () {})(), env: testEnv(), ...extra });
  return { ...prepared, scratch, parent };
}

async function refused(spec: string, extra: Partial<PrepareContextOptions> = {}): Promise<{ error: CaissonError; parent: string; scratch: string }> {
  const { parent, scratch } = freshScratch();
  try {
    await prepareContext({ spec, cwd: work, scratch, stdin: async () => (async function* () {})(), env: testEnv(), ...extra });
  } catch (error) {
    assert.ok(error instanceof CaissonError, `a CaissonError, not ${String(error)}`);
    return { error, parent, scratch };
  }
  assert.fail(`${spec} should be refused`);
}

function writeArchive(name: string, data: Buffer): string {
  const path = join(work, name);
  writeFileSync(path, data);
  return path;
}

const CONTEXT_ENTRIES: readonly FixtureEntry[] = [
  { name: './', mode: 0o755 },
  { name: 'app/', mode: 0o750 },
  { name: 'app/run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o755, uid: 1234, gid: 4321 },
  { name: 'app/.wh.keep', content: 'not a whiteout in a context' },
  { name: 'app/link', kind: 'symlink', linkname: 'run.sh' },
  { name: 'app/hard', kind: 'hardlink', linkname: 'app/run.sh' },
  { name: '/abs/inside.txt', content: 'absolute names are relative' },
  { name: 'readonly/', mode: 0o555 },
  { name: 'readonly/file', content: 'x', mode: 0o444 },
];

function checkContextTree(dir: string): void {
  assert.equal(readFileSync(join(dir, 'app/run.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
  assert.equal(statSync(join(dir, 'app/run.sh')).mode & 0o7777, 0o755);
  assert.equal(statSync(join(dir, 'app')).mode & 0o7777, 0o750);
  assert.equal(statSync(join(dir, 'readonly')).mode & 0o7777, 0o555);
  assert.equal(statSync(join(dir, 'app/run.sh')).uid, process.getuid?.(), 'ownership is not applied');
  assert.equal(readFileSync(join(dir, 'app/.wh.keep'), 'utf8'), 'not a whiteout in a context');
  assert.equal(readlinkSync(join(dir, 'app/link')), 'run.sh');
  assert.equal(statSync(join(dir, 'app/hard')).ino, statSync(join(dir, 'app/run.sh')).ino);
  assert.equal(readFileSync(join(dir, 'abs/inside.txt'), 'utf8'), 'absolute names are relative');
}

describe('directory contexts', () => {
  test('a path and dir://PATH', async () => {
    mkdirSync(join(work, 'plain/sub'), { recursive: true });
    const relative = await prepare('plain');
    assert.equal(relative.dir, join(work, 'plain'));
    assert.equal(relative.description, `dir:${join(work, 'plain')}`);
    assert.equal(relative.commit, undefined);
    await relative.cleanup();
    assert.ok(existsSync(join(work, 'plain/sub')), 'cleanup leaves a directory context alone');
    const scheme = await prepare(`dir://${join(work, 'plain')}`, { subPath: 'sub' });
    assert.equal(scheme.dir, join(work, 'plain/sub'));
    assert.equal(scheme.description, `dir:${join(work, 'plain/sub')}`);
  });

  test('a missing directory names it', async () => {
    const { error } = await refused('dir://no/such/dir');
    assert.equal(error.code, 'ERR_INPUT_NOT_FOUND');
    assert.match(error.message, /no\/such\/dir/);
  });

  test('--context-sub-path stays inside the context', async () => {
    mkdirSync(join(work, 'confined/inner'), { recursive: true });
    mkdirSync(join(work, 'outside'), { recursive: true });
    symlinkSync(join(work, 'outside'), join(work, 'confined/out'));
    for (const subPath of ['../outside', 'inner/../../outside', 'out']) {
      const { error } = await refused('confined', { subPath });
      assert.equal(error.code, 'ERR_BUILD_CONTEXT', subPath);
      assert.match(error.message, /--context-sub-path .* leaves the build context/);
    }
    const missing = await refused('confined', { subPath: 'nope' });
    assert.equal(missing.error.code, 'ERR_INPUT_NOT_FOUND');
    assert.match(missing.error.message, /--context-sub-path nope/);
    assert.equal((await prepare('confined', { subPath: '/inner' })).dir, join(work, 'confined/inner'), 'an absolute sub-path is taken inside the context, as kaniko joins it');
  });

  test('schemes caisson does not fetch are a usage error', async () => {
    for (const spec of ['gs://bucket/ctx.tgz', 's3://bucket/ctx.tgz', 'https://user:sekret@example.com/ctx.tar.gz']) {
      const { error } = await refused(spec);
      assert.equal(error.code, 'ERR_USAGE', spec);
      assert.match(error.message, /not supported/);
      assert.ok(!error.message.includes('sekret'), error.message);
    }
  });
});

describe('tar contexts', () => {
  test('tar:// of a .tar.gz: modes kept, ownership not, .wh. names are files, cleanup removes it', async () => {
    const file = writeArchive('ctx.tar.gz', gzipSync(makeTar(CONTEXT_ENTRIES)));
    const prepared = await prepare(`tar://${file}`);
    assert.equal(prepared.description, `tar:${file}`);
    assert.ok(prepared.dir.startsWith(prepared.scratch));
    checkContextTree(prepared.dir);
    await prepared.cleanup();
    assert.deepEqual(readdirSync(prepared.scratch), [], 'cleanup removes the unpacked tree, read-only directories too');
  });

  test('tar:// of a zstd tar and of a plain tar, relative to cwd', async () => {
    writeArchive('ctx.tar.zst', zstdCompressSync(makeTar(CONTEXT_ENTRIES)));
    writeArchive('ctx.tar', makeTar(CONTEXT_ENTRIES));
    for (const name of ['ctx.tar.zst', 'ctx.tar']) {
      const prepared = await prepare(`tar://${name}`);
      assert.equal(prepared.description, `tar:${join(work, name)}`);
      checkContextTree(prepared.dir);
      await prepared.cleanup();
    }
  });

  test('tar://stdin, gzip or plain, with a sub-path', async () => {
    for (const data of [gzipSync(makeTar(CONTEXT_ENTRIES)), makeTar(CONTEXT_ENTRIES)]) {
      const prepared = await prepare('tar://stdin', {
        subPath: 'app',
        stdin: async () =>
          (async function* () {
            yield data.subarray(0, 3);
            yield data.subarray(3);
          })(),
      });
      assert.equal(prepared.description, 'tar:stdin (sub-path app)');
      assert.equal(readFileSync(join(prepared.dir, 'run.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
      await prepared.cleanup();
    }
    const empty = await refused('tar://stdin');
    assert.equal(empty.error.code, 'ERR_INPUT_NOT_FOUND');
    assert.match(empty.error.message, /tar:stdin: standard input is empty/);
  });

  test('hostile entries are refused and nothing is written outside the scratch directory', async () => {
    const outside = join(work, 'victim');
    mkdirSync(outside);
    const hostile: readonly (readonly FixtureEntry[])[] = [
      [{ name: 'ok.txt', content: 'fine' }, { name: '../evil', content: 'escaped' }],
      [{ name: 'a/', mode: 0o755 }, { name: 'a/../../evil', content: 'escaped' }],
      [{ name: 'link', kind: 'symlink', linkname: outside }, { name: 'link/pwned', content: 'escaped' }],
      [{ name: 'up', kind: 'symlink', linkname: '..' }, { name: 'up/evil', content: 'escaped' }],
      [{ name: 'hard', kind: 'hardlink', linkname: '../../../etc/passwd' }],
    ];
    for (const [index, entries] of hostile.entries()) {
      const file = writeArchive(`hostile-${index}.tar.gz`, gzipSync(makeTar(entries)));
      const { error, parent, scratch } = await refused(`tar://${file}`);
      assert.equal(error.code, 'ERR_BUILD_CONTEXT', `${index}: ${error.message}`);
      assert.ok(error.message.includes(file), `the message names the archive: ${error.message}`);
      assert.ok(error.hint !== undefined);
      assert.deepEqual(readdirSync(parent), ['scratch'], `${index}: nothing beside the scratch directory`);
      assert.deepEqual(readdirSync(scratch), [], `${index}: the partial unpack is removed`);
    }
    assert.deepEqual(readdirSync(outside), []);
    assert.equal(existsSync(join(work, 'evil')), false);
  });

  test('a corrupt or missing archive is an error naming it', async () => {
    const garbage = writeArchive('garbage.tar', Buffer.alloc(1024, 0x41));
    const truncated = writeArchive('truncated.tar.gz', gzipSync(makeTar(CONTEXT_ENTRIES)).subarray(0, 200));
    for (const file of [garbage, truncated]) {
      const { error } = await refused(`tar://${file}`);
      assert.equal(error.code, 'ERR_BUILD_CONTEXT', error.message);
      assert.ok(error.message.includes(file), error.message);
    }
    const missing = await refused('tar://no-such.tgz');
    assert.equal(missing.error.code, 'ERR_INPUT_NOT_FOUND');
    assert.ok(missing.error.message.includes(join(work, 'no-such.tgz')), missing.error.message);
  });
});

const gitSkip = missingTool('git', 'git');

function git(cwd: string, args: readonly string[]): string {
  return runTool('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', '-C', cwd, ...args]).trim();
}

describe('git contexts', { skip: gitSkip }, () => {
  let repo: string;
  let first: string;
  let second: string;
  let feature: string;

  before(() => {
    repo = join(work, 'repo.git');
    mkdirSync(join(repo, 'docker'), { recursive: true });
    git(repo, ['init', '-q']);
    writeFileSync(join(repo, 'docker/Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(repo, 'version.txt'), 'one\n');
    git(repo, ['add', '.']);
    git(repo, ['commit', '-q', '-m', 'first']);
    first = git(repo, ['rev-parse', 'HEAD']);
    git(repo, ['tag', '-a', '-m', 'release one', 'v1']);
    writeFileSync(join(repo, 'version.txt'), 'two\n');
    git(repo, ['commit', '-q', '-am', 'second']);
    second = git(repo, ['rev-parse', 'HEAD']);
    git(repo, ['checkout', '-q', '-b', 'feature']);
    writeFileSync(join(repo, 'docker/feature.txt'), 'feature\n');
    git(repo, ['add', '.']);
    git(repo, ['commit', '-q', '-m', 'feature']);
    feature = git(repo, ['rev-parse', 'HEAD']);
    git(repo, ['checkout', '-q', 'main']);
  });

  const url = (): string => `git+file://${repo}`;

  test('the default branch, a branch, an annotated tag, a commit, a short commit', async () => {
    const cases: readonly (readonly [string, () => string, string])[] = [
      ['', () => second, 'two\n'],
      ['#main', () => second, 'two\n'],
      ['#refs/heads/feature', () => feature, 'two\n'],
      ['#v1', () => first, 'one\n'],
      ['#FIRST', () => first, 'one\n'],
      ['#SHORT', () => first, 'one\n'],
      ['#main#FIRST', () => first, 'one\n'],
    ];
    for (const [fragment, commit, version] of cases) {
      const spec = `${url()}${fragment.replace('FIRST', first).replace('SHORT', first.slice(0, 8))}`;
      const prepared = await prepare(spec);
      assert.equal(prepared.commit, commit(), spec);
      assert.equal(prepared.description, `git:file://${repo}#${commit()}`);
      assert.equal(readFileSync(join(prepared.dir, 'version.txt'), 'utf8'), version, spec);
      assert.equal(existsSync(join(prepared.dir, '.git', 'FETCH_HEAD')), false, 'FETCH_HEAD (which names the URL) is removed');
      assert.ok(!readFileSync(join(prepared.dir, '.git', 'config'), 'utf8').includes(repo), 'the URL is not stored in .git/config');
      await prepared.cleanup();
      assert.deepEqual(readdirSync(prepared.scratch), []);
    }
  });

  test('#ref:subdir is the context, and --context-sub-path applies after it', async () => {
    const prepared = await prepare(`${url()}#feature:docker`);
    assert.equal(prepared.commit, feature);
    assert.equal(prepared.description, `git:file://${repo}#${feature}:docker`);
    assert.equal(readFileSync(join(prepared.dir, 'feature.txt'), 'utf8'), 'feature\n');
    assert.ok(existsSync(join(prepared.dir, 'Dockerfile')));
    await prepared.cleanup();
    const escape = await refused(`${url()}#main:docker`, { subPath: '../..' });
    assert.equal(escape.error.code, 'ERR_BUILD_CONTEXT');
    assert.deepEqual(readdirSync(escape.scratch), [], 'the clone is removed when the sub-path is refused');
    const subdirEscape = await refused(`${url()}#main:../..`);
    assert.equal(subdirEscape.error.code, 'ERR_BUILD_CONTEXT');
    assert.match(subdirEscape.error.message, /subdirectory "\.\.\/\.\." leaves the build context/);
  });

  test("kaniko's --git: branch= when the URL names no ref (a #ref wins); bad values are usage errors", async () => {
    const branch = await prepare(url(), { git: parseGitOptions('branch=feature,single-branch=true,recurse-submodules=false') });
    assert.equal(branch.commit, feature);
    await branch.cleanup();
    const fragment = await prepare(`${url()}#v1`, { git: parseGitOptions('branch=feature') });
    assert.equal(fragment.commit, first, 'the URL fragment wins over --git branch=');
    await fragment.cleanup();
    for (const bad of ['branch', 'depth=1', 'recurse-submodules=yes']) {
      assert.throws(() => parseGitOptions(bad), (error: unknown) => error instanceof CaissonError && error.code === 'ERR_USAGE' && error.message.startsWith('--git '));
    }
  });

  test('a missing ref or commit names the repository and the ref', async () => {
    for (const ref of ['nope', 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef']) {
      const { error, scratch } = await refused(`${url()}#${ref}`);
      assert.equal(error.code, 'ERR_INPUT_NOT_FOUND', error.message);
      assert.ok(error.message.includes(`file://${repo}`), error.message);
      assert.ok(error.message.includes(ref), error.message);
      assert.deepEqual(readdirSync(scratch), []);
    }
    const unknownRepo = await refused(`git+file://${join(work, 'no-such-repo.git')}#main`);
    assert.equal(unknownRepo.error.code, 'ERR_BUILD_CONTEXT');
    assert.match(unknownRepo.error.message, /no-such-repo\.git#main: git ls-remote failed/);
  });

  test('credentials in the URL never reach a message, and fail fast when the host is down', async () => {
    for (const spec of ['https://user:sekret@127.0.0.1:1/x.git#main', 'https://user:sekret@127.0.0.1:1/x.git']) {
      const started = Date.now();
      const { error } = await refused(spec);
      assert.ok(Date.now() - started < 30_000, 'fails fast');
      assert.equal(error.code, 'ERR_BUILD_CONTEXT');
      assert.ok(!error.message.includes('sekret') && !(error.hint ?? '').includes('sekret'), error.message);
      assert.ok(error.message.includes('https://***@127.0.0.1:1/x.git'), error.message);
    }
  });

  test('credentials go to the server as an Authorization header, not in the URL git sees', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const urls: string[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers);
      urls.push(request.url ?? '');
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const { error } = await refused(`http://user:sekret@127.0.0.1:${port}/org/x.git#main`);
      assert.ok(!error.message.includes('sekret'), error.message);
      assert.ok(seen.length > 0, 'git asked the server');
      assert.equal(seen[0]?.authorization, `Basic ${Buffer.from('user:sekret').toString('base64')}`);
      assert.ok(urls.every((path) => path.startsWith('/org/x.git/')), urls.join(', '));
      seen.length = 0;
      // The server speaks plain http: kaniko's GIT_PULL_METHOD=http makes git:// fetch over it.
      await refused(`git://127.0.0.1:${port}/org/x.git`, { env: { ...testEnv(), GIT_TOKEN: 'tok123', GIT_PULL_METHOD: 'http' } });
      assert.equal(seen.at(-1)?.authorization, `Basic ${Buffer.from('tok123:').toString('base64')}`, 'GIT_TOKEN is kaniko\'s token-as-username');
    } finally {
      server.close();
    }
  });
});

const e2eSkip = process.getuid?.() !== 0 ? 'needs uid 0: caisson build runs as root in this version' : missingTool('umoci', 'umoci');

describe('caisson build with a tar context', { skip: e2eSkip }, () => {
  let previousTmp: string | undefined;
  let tmp: string;

  before(() => {
    // The CLI makes its scratch directory under os.tmpdir(): point that at a directory the test can check is left empty.
    previousTmp = process.env['TMPDIR'];
    tmp = join(work, 'tmp');
    mkdirSync(tmp);
    process.env['TMPDIR'] = tmp;
  });

  after(() => {
    if (previousTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previousTmp;
  });

  const entries: readonly FixtureEntry[] = [
    { name: 'build/', mode: 0o755 },
    { name: 'build/Dockerfile', content: 'FROM scratch\nCOPY hello.txt /hello.txt\nCOPY tools/ /tools/\n' },
    { name: 'Dockerfile', content: 'FROM scratch\nCOPY tools/run.sh /run.sh\n' },
    { name: 'hello.txt', content: 'hello from a tarball\n' },
    { name: 'tools/', mode: 0o755 },
    { name: 'tools/run.sh', content: '#!/bin/sh\n', mode: 0o750 },
  ];

  function unpackLayout(layout: string): string {
    const bundle = `${layout}-bundle`;
    runTool('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
    return join(bundle, 'rootfs');
  }

  test('-c tar://FILE with -f inside the archive, to an OCI layout', async () => {
    const file = writeArchive('e2e.tar.gz', gzipSync(makeTar(entries)));
    const layout = join(work, 'e2e-layout');
    const result = await runCaisson(['build', '-c', `tar://${file}`, '-f', 'build/Dockerfile', '--no-push', '--oci-layout-path', layout, '--cache-dir', join(work, 'cache')], { cwd: work, env: { HOME: work } });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stderr.includes(`context: tar:${file}`), result.stderr);
    const rootfs = unpackLayout(layout);
    assert.equal(readFileSync(join(rootfs, 'hello.txt'), 'utf8'), 'hello from a tarball\n');
    assert.equal(lstatSync(join(rootfs, 'tools/run.sh')).mode & 0o7777, 0o750);
    assert.deepEqual(readdirSync(tmp), [], 'the scratch directory is removed');
    assert.equal(existsSync(join(work, 'cache', 'cache', 'files')), false, 'no file digests kept for an unpacked context, which is never built again');
  });

  test('-c tar://stdin, and a failing build still removes its scratch directory', async () => {
    const layout = join(work, 'stdin-layout');
    const result = await runCaisson(['build', '-c', 'tar://stdin', '--no-push', '--oci-layout-path', layout, '--cache-dir', join(work, 'cache')], { cwd: work, env: { HOME: work }, stdinBytes: makeTar(entries) });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stderr.includes('context: tar:stdin'), result.stderr);
    assert.equal(readFileSync(join(unpackLayout(layout), 'run.sh'), 'utf8'), '#!/bin/sh\n');
    assert.deepEqual(readdirSync(tmp), []);
    const failing = await runCaisson(['build', '-c', 'tar://stdin', '-f', 'nope/Dockerfile', '--no-push'], { cwd: work, env: { HOME: work }, stdinBytes: makeTar(entries) });
    assert.notEqual(failing.code, 0);
    assert.deepEqual(readdirSync(tmp), [], 'removed on failure too');
    const conflict = await runCaisson(['build', '-c', 'tar://stdin', '-f', '-', '--no-push'], { cwd: work, env: { HOME: work } });
    assert.equal(conflict.code, 2, conflict.stderr);
  });
});
