/**
 * ADD with BuildKit's semantics, end to end: `caisson build --no-push --oci-layout-path` on FROM
 * scratch Dockerfiles, the image read back with `umoci unpack`. Local archives (gzip, bzip2, xz,
 * zstd, found by their bytes) are unpacked with their modes, owners, links and `.wh.` names kept
 * as plain files; hostile archives are refused; `--unpack=false` copies. URLs come from a
 * loopback node:http server (mode 0600, Last-Modified, redirects, --checksum, 404, secrets kept
 * out of messages and history). Git sources come from a repository the test makes (branch, tag,
 * sha, subdirectory, --keep-git-dir, --checksum).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { decompressLayer, readTar, type TarHeader } from '../../src/fs/index.js';
import { runCaisson, type CliResult } from '../support/cli.js';
import { projectRoot } from '../support/paths.js';
import { makeTar, type FixtureEntry } from '../support/tar.js';
import { missingTool, runTool } from '../support/tools.js';

const skip =
  process.getuid?.() !== 0
    ? 'needs uid 0: umoci keeps owners only as root, and ADD sets them'
    : (missingTool('umoci', 'umoci') ?? missingTool('bzip2', 'bzip2') ?? missingTool('xz', 'xz-utils') ?? missingTool('git', 'git'));

const MTIME = 1_600_000_000;
const PAYLOAD: readonly FixtureEntry[] = [
  { name: 'app/', mode: 0o750, uid: 1234, gid: 5678, mtime: MTIME },
  { name: 'app/bin/', mode: 0o755, mtime: MTIME },
  { name: 'app/bin/tool', content: '#!/bin/sh\necho tool\n', mode: 0o755, uid: 1234, gid: 5678, mtime: MTIME },
  { name: 'app/etc/conf', content: 'conf\n', mode: 0o640, mtime: MTIME },
  { name: 'app/link', kind: 'symlink', linkname: 'bin/tool', mtime: MTIME },
  { name: 'app/hard', kind: 'hardlink', linkname: 'app/bin/tool' },
  { name: 'app/.wh.keep', content: 'not a whiteout\n', mode: 0o644 },
];

function compress(data: Buffer, program: 'bzip2' | 'xz'): Buffer {
  const result = spawnSync(program, ['-c'], { input: data });
  if (result.status !== 0) throw new Error(`${program} failed: ${result.stderr.toString()}`);
  return result.stdout;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function git(cwd: string, ...args: string[]): string {
  return runTool('git', ['-C', cwd, '-c', 'user.name=caisson', '-c', 'user.email=caisson@example.invalid', '-c', 'init.defaultBranch=main', ...args]).trim();
}

interface Built {
  readonly result: CliResult;
  readonly layout: string;
  readonly cache: string;
  /** The image's root filesystem, unpacked by umoci. */
  rootfs(): string;
  /** The image config's history `created_by` entries. */
  history(): string[];
}

describe('caisson build: ADD', { skip, concurrency: 1 }, () => {
  let work: string;
  let server: Server;
  let base: string;
  let count = 0;
  let freshCount = 0;

  async function build(options: { readonly dockerfile: string; readonly files?: Readonly<Record<string, string | Buffer>>; readonly args?: readonly string[]; readonly cache?: string }): Promise<Built> {
    count += 1;
    const dir = join(work, `build-${count}`);
    const context = join(dir, 'context');
    mkdirSync(context, { recursive: true });
    for (const [name, content] of Object.entries(options.files ?? {})) {
      mkdirSync(dirname(join(context, name)), { recursive: true });
      writeFileSync(join(context, name), content);
    }
    writeFileSync(join(dir, 'Dockerfile'), options.dockerfile);
    const layout = join(dir, 'layout');
    const cache = options.cache ?? join(dir, 'cache');
    const argv = ['build', context, '-f', join(dir, 'Dockerfile'), '--no-push', '--oci-layout-path', layout, '--cache-dir', cache, ...(options.args ?? [])];
    const result = await runCaisson(argv, { cwd: dir, env: { HOME: dir } });
    const blob = (digest: string): Buffer => readFileSync(join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
    return {
      result,
      layout,
      cache,
      rootfs: () => {
        const bundle = join(dir, 'bundle');
        if (!existsSync(bundle)) runTool('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
        return join(bundle, 'rootfs');
      },
      history: () => {
        const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
        const manifest = JSON.parse(blob(index.manifests[0]?.digest ?? '').toString('utf8')) as { config: { digest: string } };
        const config = JSON.parse(blob(manifest.config.digest).toString('utf8')) as { history: { created_by: string }[] };
        return config.history.map((entry) => entry.created_by);
      },
    };
  }

  /** The entries (name → header) of the image's `index`th layer. */
  async function layerEntries(built: Built, index: number): Promise<Map<string, TarHeader>> {
    const layout = JSON.parse(readFileSync(join(built.layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const blob = (digest: string): string => join(built.layout, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
    const manifest = JSON.parse(readFileSync(blob(layout.manifests[0]?.digest ?? ''), 'utf8')) as { layers: { digest: string }[] };
    const { chunks } = await decompressLayer({ source: createReadStream(blob(manifest.layers[index]?.digest ?? '')), what: 'layer' });
    const entries = new Map<string, TarHeader>();
    for await (const entry of readTar(chunks, 'layer')) entries.set(entry.header.name.replace(/^\.?\//, '').replace(/\/$/, ''), entry.header);
    return entries;
  }

  function ok(built: Built): void {
    assert.equal(built.result.code, 0, built.result.stderr);
  }

  function failed(built: Built, exit: number, texts: readonly string[]): void {
    assert.equal(built.result.code, exit, `exit status; stderr:\n${built.result.stderr}`);
    for (const text of texts) assert.ok(built.result.stderr.includes(text), `stderr should include ${JSON.stringify(text)}:\n${built.result.stderr}`);
    assert.equal(existsSync(join(built.layout, 'index.json')), false, 'a failed build writes no image');
    const staging = join(built.cache, 'tmp');
    assert.deepEqual(existsSync(staging) ? readdirSync(staging) : [], [], 'a failed ADD leaves nothing in the store');
  }

  function mode(path: string): string {
    return (lstatSync(path).mode & 0o7777).toString(8).padStart(4, '0');
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'caisson-add-'));
    const tgz = gzipSync(makeTar(PAYLOAD));
    server = createServer((request, response) => {
      const path = request.url ?? '/';
      if (path === '/files/data.bin') {
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'last-modified': new Date(MTIME * 1000).toUTCString() });
        response.end('downloaded\n');
      } else if (path === '/fresh.txt') {
        // Written this second: a second write in the same second would keep this Last-Modified.
        response.writeHead(200, { 'last-modified': new Date().toUTCString(), date: new Date().toUTCString() });
        response.end(request.method === 'HEAD' ? undefined : `fresh ${freshCount++}\n`);
      } else if (path === '/redirect') {
        response.writeHead(302, { location: '/files/data.bin' });
        response.end();
      } else if (path === '/auth/data.bin') {
        const wanted = `Basic ${Buffer.from('user:s3cret').toString('base64')}`;
        response.writeHead(request.headers.authorization === wanted ? 200 : 401);
        response.end(request.headers.authorization === wanted ? 'authorized\n' : '');
      } else if (path === '/archive.tar.gz') {
        response.writeHead(200);
        response.end(tgz);
      } else {
        response.writeHead(404);
        response.end('not here');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  test('local archives are unpacked whatever their compression and name; --unpack=false and non-archives are copied', async () => {
    const tar = makeTar(PAYLOAD);
    const tgz = gzipSync(tar);
    const notes = gzipSync('just text, no tar\n');
    const built = await build({
      files: { 'payload.tar.gz': tgz, 'payload.tar.bz2': compress(tar, 'bzip2'), 'payload.tar.xz': compress(tar, 'xz'), 'payload.zst': zstdCompressSync(tar), 'archive.dat': tar, 'notes.txt.gz': notes },
      dockerfile: [
        'FROM scratch',
        'ADD payload.tar.gz /gz/',
        'ADD payload.tar.bz2 /bz2',
        'ADD payload.tar.xz /xz/',
        'ADD payload.zst /zst',
        'ADD archive.dat /plain/',
        'ADD --chown=7:8 payload.tar.gz /owned/',
        'ADD --unpack=false payload.tar.gz /raw/',
        'ADD notes.txt.gz /notes/',
        '',
      ].join('\n'),
    });
    ok(built);
    const rootfs = built.rootfs();
    for (const dest of ['gz', 'bz2', 'xz', 'zst', 'plain']) {
      const app = join(rootfs, dest, 'app');
      assert.equal(mode(app), '0750', `${dest}: app/ mode`);
      assert.equal(lstatSync(app).uid, 1234, `${dest}: app/ owner`);
      assert.equal(Math.floor(lstatSync(app).mtimeMs / 1000), MTIME, `${dest}: app/ mtime`);
      const tool = join(app, 'bin', 'tool');
      assert.equal(readFileSync(tool, 'utf8'), '#!/bin/sh\necho tool\n', `${dest}: content`);
      assert.equal(mode(tool), '0755', `${dest}: tool mode`);
      assert.deepEqual([lstatSync(tool).uid, lstatSync(tool).gid], [1234, 5678], `${dest}: tool owner`);
      assert.equal(Math.floor(lstatSync(tool).mtimeMs / 1000), MTIME, `${dest}: tool mtime`);
      assert.equal(mode(join(app, 'etc', 'conf')), '0640', `${dest}: conf mode`);
      assert.equal(readlinkSync(join(app, 'link')), 'bin/tool', `${dest}: symlink kept`);
      assert.equal(readFileSync(join(app, 'hard'), 'utf8'), '#!/bin/sh\necho tool\n', `${dest}: hardlink`);
    }
    // A `.wh.` entry is written as the plain file it was; OCI readers (umoci) then take it as a
    // whiteout of the layer below, as they do with BuildKit's images.
    const layer = await layerEntries(built, 0);
    const wh = layer.get('gz/app/.wh.keep');
    assert.equal(wh?.kind, 'file', '.wh. names are plain files in the layer');
    assert.equal(wh?.size, 'not a whiteout\n'.length);
    const owned = join(rootfs, 'owned', 'app', 'bin', 'tool');
    assert.deepEqual([lstatSync(owned).uid, lstatSync(owned).gid], [7, 8], '--chown replaces the archive owners');
    assert.equal(mode(owned), '0755', '--chown keeps the archive mode');
    assert.deepEqual(readFileSync(join(rootfs, 'raw', 'payload.tar.gz')), tgz, '--unpack=false copies the archive');
    assert.deepEqual(readFileSync(join(rootfs, 'notes', 'notes.txt.gz')), notes, 'a compressed non-tar is copied as it is');
    assert.equal(built.history().filter((line) => line.startsWith('ADD ')).length, 8, 'one history entry per ADD');
  });

  test('a hostile archive with a ".." entry is refused, naming the archive and the entry', async () => {
    const built = await build({ files: { 'evil.tar': makeTar([{ name: 'ok', content: 'fine' }, { name: '../x', content: 'escaped' }]) }, dockerfile: 'FROM scratch\nADD evil.tar /d/\n' });
    failed(built, 7, ['archive evil.tar', '"../x"', 'ERR_LAYER_UNSAFE']);
  });

  test('a relative symlink climbing out of the destination is refused; absolute ones stay inside it', async () => {
    const refused = await build({ files: { 'evil.tar.gz': gzipSync(makeTar([{ name: 'up', kind: 'symlink', linkname: '../../..' }])) }, dockerfile: 'FROM scratch\nADD evil.tar.gz /d/\n' });
    failed(refused, 7, ['archive evil.tar.gz', '"up"', 'points above the destination']);
    const marker = `caisson-add-escape-${randomBytes(6).toString('hex')}`;
    const confined = await build({ files: { 'root.tar': makeTar([{ name: 'esc', kind: 'symlink', linkname: '/' }, { name: `esc/tmp/${marker}`, content: 'inside' }]) }, dockerfile: 'FROM scratch\nADD root.tar /d/\n' });
    ok(confined);
    assert.equal(existsSync(join('/tmp', marker)), false, 'nothing was written through the symlink on the host');
    assert.equal(readFileSync(join(confined.rootfs(), 'd', 'tmp', marker), 'utf8'), 'inside', 'the entry landed below the destination');
  });

  test('URLs are downloaded: mode 0600, Last-Modified, redirects, --checksum, basic auth kept out of history, --unpack', async () => {
    const auth = base.replace('http://', 'http://user:s3cret@');
    const built = await build({
      args: ['--build-arg', `URL=${base}`, '--build-arg', `AUTH=${auth}`],
      dockerfile: [
        'FROM scratch',
        'ARG URL',
        'ARG AUTH',
        'ADD ${URL}/files/data.bin /dl/',
        'ADD ${URL}/redirect /named',
        `ADD --checksum=sha256:${sha256('downloaded\n')} \${URL}/files/data.bin /checked`,
        'ADD ${AUTH}/auth/data.bin /auth',
        'ADD ${URL}/archive.tar.gz /remote/',
        'ADD --unpack=true ${URL}/archive.tar.gz /unpacked/',
        '',
      ].join('\n'),
    });
    ok(built);
    const rootfs = built.rootfs();
    const file = join(rootfs, 'dl', 'data.bin');
    assert.equal(readFileSync(file, 'utf8'), 'downloaded\n');
    assert.equal(mode(file), '0600', 'BuildKit saves downloads 0600');
    assert.equal(Math.floor(lstatSync(file).mtimeMs / 1000), MTIME, 'mtime from Last-Modified');
    assert.equal(readFileSync(join(rootfs, 'named'), 'utf8'), 'downloaded\n', 'redirect followed; the destination names the file');
    assert.equal(readFileSync(join(rootfs, 'checked'), 'utf8'), 'downloaded\n');
    assert.equal(readFileSync(join(rootfs, 'auth'), 'utf8'), 'authorized\n', 'userinfo sent as basic auth');
    assert.ok(lstatSync(join(rootfs, 'remote', 'archive.tar.gz')).isFile(), 'a remote archive is not unpacked');
    assert.equal(readFileSync(join(rootfs, 'unpacked', 'app', 'bin', 'tool'), 'utf8'), '#!/bin/sh\necho tool\n', '--unpack unpacks a remote archive');
    const history = built.history().join('\n');
    assert.ok(!history.includes('s3cret') && !`${built.result.stdout}${built.result.stderr}`.includes('s3cret'), 'the password reaches neither history nor output');
    assert.ok(history.includes('ADD http://***@127.0.0.1:'), `history shows the redacted URL:\n${history}`);
  });

  test("a Last-Modified of the last two seconds is not trusted as the URL's identity: the ADD runs again, and its new content is in the image", async () => {
    const dockerfile = 'FROM scratch\nARG URL\nADD ${URL}/fresh.txt /fresh.txt\n';
    const first = await build({ args: ['--build-arg', `URL=${base}`], dockerfile });
    ok(first);
    const second = await build({ args: ['--build-arg', `URL=${base}`], dockerfile, cache: first.cache });
    ok(second);
    assert.match(second.result.stderr, /\] not cached: .*one of the last two seconds/, second.result.stderr);
    assert.notEqual(readFileSync(join(second.rootfs(), 'fresh.txt'), 'utf8'), readFileSync(join(first.rootfs(), 'fresh.txt'), 'utf8'));
  });

  test('the caisson command (its bundle, not the compiled sources) downloads a URL too', async () => {
    const context = join(work, 'bundled-url');
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, 'Dockerfile'), `FROM scratch\nADD ${base}/files/data.bin /data.bin\n`);
    const layout = join(work, 'bundled-url-image');
    // Asynchronous: the server answering it runs in this process.
    await promisify(execFile)(process.execPath, [join(projectRoot(), 'bin', 'caisson.js'), 'build', context, '--no-push', '--oci-layout-path', layout, '--cache-dir', join(work, 'bundled-url-cache'), '-v', 'warn']);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests.length, 1);
  });

  test('a --checksum mismatch fails naming the URL and both digests, and adds nothing', async () => {
    const wrong = '0'.repeat(64);
    const built = await build({ args: ['--build-arg', `URL=${base}`], dockerfile: `FROM scratch\nARG URL\nADD --checksum=sha256:${wrong} \${URL}/files/data.bin /x\n` });
    failed(built, 6, [`${base}/files/data.bin`, `sha256:${wrong}`, `sha256:${sha256('downloaded\n')}`, 'ERR_DIGEST_MISMATCH']);
  });

  test('an HTTP error names the URL (query redacted) and the status', async () => {
    const built = await build({ args: ['--build-arg', `URL=${base}/missing?token=t0ps3cret`], dockerfile: 'FROM scratch\nARG URL\nADD ${URL} /x\n' });
    failed(built, 8, [`${base}/missing?***`, '404 Not Found']);
    assert.ok(!built.result.stderr.includes('t0ps3cret'), `the query stays out of the output:\n${built.result.stderr}`);
  });

  test('git repositories are added by branch, tag, sha and subdirectory, with and without .git', async () => {
    const repo = join(work, 'origin.git');
    mkdirSync(join(repo, 'src'), { recursive: true });
    git(work, 'init', '--quiet', repo);
    writeFileSync(join(repo, 'README'), 'one\n');
    writeFileSync(join(repo, 'src', 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'one');
    git(repo, 'tag', '-a', 'v1', '-m', 'v1');
    const first = git(repo, 'rev-parse', 'HEAD');
    writeFileSync(join(repo, 'README'), 'two\n');
    git(repo, 'commit', '--quiet', '-am', 'two');
    const plain = join(work, 'plain');
    symlinkSync(repo, plain);
    const built = await build({
      args: ['--build-arg', `REPO=file://${repo}`, '--build-arg', `PLAIN=file://${plain}`, '--build-arg', `SHA=${first}`],
      dockerfile: [
        'FROM scratch',
        'ARG REPO',
        'ARG PLAIN',
        'ARG SHA',
        'ADD ${REPO} /default',
        'ADD ${REPO}#main /branch',
        'ADD ${PLAIN}#v1 /tag',
        'ADD --checksum=${SHA} ${REPO}#${SHA} /sha',
        'ADD --keep-git-dir=true ${REPO}#main /kept',
        'ADD --chown=5:6 ${REPO}#main:src /sub/',
        '',
      ].join('\n'),
    });
    ok(built);
    const rootfs = built.rootfs();
    assert.equal(readFileSync(join(rootfs, 'default', 'README'), 'utf8'), 'two\n', 'the default branch');
    assert.equal(readFileSync(join(rootfs, 'branch', 'README'), 'utf8'), 'two\n', 'the branch');
    assert.equal(readFileSync(join(rootfs, 'tag', 'README'), 'utf8'), 'one\n', 'the tag (a file:// URL with a fragment)');
    assert.equal(readFileSync(join(rootfs, 'sha', 'README'), 'utf8'), 'one\n', 'the commit');
    assert.equal(mode(join(rootfs, 'branch', 'src', 'run.sh')), '0755', 'executable bit kept');
    for (const dest of ['default', 'branch', 'tag', 'sha']) assert.equal(existsSync(join(rootfs, dest, '.git')), false, `${dest}: .git removed`);
    assert.ok(lstatSync(join(rootfs, 'kept', '.git')).isDirectory(), '--keep-git-dir keeps .git');
    assert.equal(runTool('git', ['-C', join(rootfs, 'kept'), 'rev-parse', 'HEAD']).trim(), git(repo, 'rev-parse', 'main'), 'the kept .git is at the commit');
    const sub = join(rootfs, 'sub', 'run.sh');
    assert.equal(readFileSync(sub, 'utf8'), '#!/bin/sh\n', 'a subdirectory of the repository');
    assert.deepEqual([lstatSync(sub).uid, lstatSync(sub).gid], [5, 6], '--chown applies');
    assert.equal(existsSync(join(rootfs, 'sub', 'README')), false, 'only the subdirectory');
  });

  test('a git --checksum that is not the checked-out commit fails', async () => {
    const repo = join(work, 'origin.git');
    const head = git(repo, 'rev-parse', 'main');
    const built = await build({ args: ['--build-arg', `REPO=file://${repo}`], dockerfile: `FROM scratch\nARG REPO\nADD --checksum=${head} \${REPO}#v1 /x\n` });
    failed(built, 6, [`file://${repo}#v1`, head, 'ERR_DIGEST_MISMATCH']);
  });
});
