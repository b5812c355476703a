/**
 * caisson builds its own image from the repository's Dockerfile, offline: the test makes a "node
 * base" from this machine (the pinned Node 24 binary, its libraries, busybox as sh, util-linux and
 * attr with theirs), and the named contexts the Dockerfile documents stand in for its network
 * stages (`build` ← the already compiled checkout, `runtime` ← the node base). The image is read
 * back with skopeo and umoci: its ENTRYPOINT starts caisson in a chroot of the unpacked root, and
 * node's loader and libraries come from /caisson alone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUSYBOX, PASSWD, pushBusyboxBase, writeBusyboxContext } from '../support/busybox.js';
import { runCaisson } from '../support/cli.js';
import { projectRoot } from '../support/paths.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';

/** What the Dockerfile's runtime stage takes from its base besides node and sh, into /caisson/tools/bin. */
const TOOLS = ['unshare', 'setpriv', 'mount', 'umount', 'getfattr', 'setfattr', 'env', 'cat', 'tr', 'hostname', 'mknod', 'cp'];
/** What assemble.sh itself needs from the base. */
const ASSEMBLER = ['patchelf'];

const userns = spawnSync('unshare', ['--user', '--map-root-user', 'true']).status === 0;
const CHROOT = spawnSync('sh', ['-c', 'command -v chroot'], { encoding: 'utf8' }).stdout.trim();

const skip =
  process.getuid?.() !== 0
    ? 'needs uid 0: RUN in the sandbox and chroot'
    : (missingTool('docker-registry', 'docker-registry') ?? missingTool('umoci', 'umoci') ?? missingTool('skopeo', 'skopeo') ?? missingTool('getfattr', 'attr') ?? missingTool('patchelf', 'patchelf') ?? (existsSync(BUSYBOX) ? undefined : 'needs busybox-static'));

interface ImageConfig {
  readonly config: { readonly User?: string; readonly Entrypoint?: readonly string[]; readonly WorkingDir?: string; readonly Env?: readonly string[] };
}

/** The absolute paths `ldd` lists for `file` (the loader included). */
function sharedLibraries(file: string): string[] {
  const lines = runTool('ldd', [file]).split('\n');
  return lines.flatMap((line) => {
    const resolved = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)/.exec(line);
    return resolved?.[1] === undefined ? [] : [resolved[1]];
  });
}

/** Copies `file` to the same path under `root`, following links. */
function copyInto(root: string, file: string, target = file): void {
  mkdirSync(dirname(join(root, target)), { recursive: true });
  copyFileSync(file, join(root, target));
  chmodSync(join(root, target), statSync(file).mode & 0o755);
}

/** A Debian-like node image's root: busybox, node in /usr/local/bin, the tools in /usr/bin. */
function writeNodeBaseContext(dir: string): void {
  writeBusyboxContext(dir);
  const root = join(dir, 'rootfs');
  const node = join(projectRoot(), 'node_modules', 'node', 'bin', 'node');
  copyInto(root, node, '/usr/local/bin/node');
  const programs = [node];
  for (const tool of [...TOOLS, ...ASSEMBLER]) {
    const path = runTool('sh', ['-c', `command -v ${tool}`]).trim();
    copyInto(root, path, `/usr/bin/${tool}`);
    programs.push(path);
  }
  for (const library of new Set(programs.flatMap(sharedLibraries))) copyInto(root, library);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin:/usr/bin:/bin\nCMD ["node"]\n');
}

/** The Dockerfile's `build` stage, done already: DIR/src as `npm ci && npm run build && npm prune --omit=dev` leaves it. */
function writePrebuilt(dir: string): void {
  const repo = projectRoot();
  const src = join(dir, 'src');
  mkdirSync(src, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(repo, file), join(src, file));
  cpSync(join(repo, 'bin'), join(src, 'bin'), { recursive: true });
  cpSync(join(repo, 'dist', 'src'), join(src, 'dist', 'src'), { recursive: true });
  cpSync(join(repo, 'dist', 'bundle'), join(src, 'dist', 'bundle'), { recursive: true });
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path.startsWith('node_modules/') && entry.dev !== true) cpSync(join(repo, path), join(src, path), { recursive: true });
  }
}

describe("caisson's own image", { skip }, () => {
  let registry: RunningRegistry;
  let work: string;
  let rootfs: string;
  let config: ImageConfig;

  before(async () => {
    registry = await startRegistry({ setup: 'plain' });
    work = mkdtempSync(join(tmpdir(), 'caisson-own-image-'));
    const cacheDir = join(work, 'cache');
    const nodeBase = `${registry.host}/test/node:24`;
    writeNodeBaseContext(join(work, 'node-base'));
    const base = await runCaisson(['build', join(work, 'node-base'), '-d', nodeBase, '--cache-dir', cacheDir, '-v', 'warn'], { cwd: work });
    assert.equal(base.code, 0, base.stderr);
    writePrebuilt(join(work, 'prebuilt'));
    const image = `${registry.host}/test/caisson:dev`;
    const built = await runCaisson(
      ['build', projectRoot(), '-d', image, '--cache-dir', cacheDir, '-v', 'warn', '--build-arg', `NODE_IMAGE=${nodeBase}`, '--build-context', `build=${join(work, 'prebuilt')}`, '--build-context', `runtime=docker-image://${nodeBase}`],
      { cwd: work },
    );
    assert.equal(built.code, 0, built.stderr);
    const layout = join(work, 'oci');
    runTool('skopeo', ['copy', '--src-tls-verify=false', `docker://${image}`, `oci:${layout}:dev`]);
    runTool('umoci', ['unpack', '--image', `${layout}:dev`, join(work, 'bundle')]);
    rootfs = join(work, 'bundle', 'rootfs');
    config = JSON.parse(runTool('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', `docker://${image}`])) as ImageConfig;
  });

  after(async () => {
    await registry?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  test('the config: non-root, the loader as ENTRYPOINT, /workspace, the CA bundle and the cache directory in the environment', () => {
    assert.equal(config.config.User, '65532:65532');
    assert.deepEqual(config.config.Entrypoint, ['/caisson/lib/ld.so', '--library-path', '/caisson/lib', '/caisson/node/bin/node', '/caisson/app/bin/caisson.js']);
    assert.equal(config.config.WorkingDir, '/workspace');
    assert.ok(config.config.Env?.includes('NODE_EXTRA_CA_CERTS=/caisson/certs/ca-certificates.crt'));
    assert.ok(config.config.Env?.includes('CAISSON_CACHE_DIR=/cache'), "kaniko's default --cache-dir");
    assert.match(config.config.Env?.find((entry) => entry.startsWith('PATH=')) ?? '', /^PATH=\/caisson\/tools\/bin:/);
  });

  test('the root: /caisson with node, its libraries, the app, tools and certificates; nonroot home and /cache, /tmp, /bin/sh', () => {
    for (const library of ['libc.so.6', 'libstdc++.so.6', 'libgcc_s.so.1', 'libm.so.6', 'ld-linux-x86-64.so.2']) assert.ok(existsSync(join(rootfs, 'caisson', 'lib', library)), library);
    assert.equal(readlinkSync(join(rootfs, 'caisson', 'lib', 'ld.so')), 'ld-linux-x86-64.so.2');
    assert.match(readFileSync(join(rootfs, 'caisson', 'certs', 'ca-certificates.crt'), 'utf8'), /^-----BEGIN CERTIFICATE-----/);
    assert.ok(existsSync(join(rootfs, 'caisson', 'app', 'node_modules', 'undici', 'package.json')));
    assert.ok(!existsSync(join(rootfs, 'caisson', 'app', 'node_modules', 'typescript')), 'no devDependencies');
    for (const tool of ['sh', ...TOOLS]) assert.ok(existsSync(join(rootfs, 'caisson', 'tools', 'bin', tool)), tool);
    assert.equal(readlinkSync(join(rootfs, 'bin', 'sh')), '/caisson/tools/bin/sh');
    assert.equal(lstatSync(join(rootfs, 'tmp')).mode & 0o7777, 0o1777);
    assert.equal(lstatSync(join(rootfs, 'home', 'nonroot')).uid, 65532);
    assert.equal(lstatSync(join(rootfs, 'workspace')).uid, 65532);
    assert.equal(lstatSync(join(rootfs, 'cache')).uid, 65532);
    assert.equal(lstatSync(join(rootfs, 'home')).uid, 0);
    assert.match(readFileSync(join(rootfs, 'etc', 'passwd'), 'utf8'), /^nonroot:x:65532:65532:/m);
  });

  test('the ENTRYPOINT runs caisson in a chroot of the image, as its user', () => {
    const entrypoint = config.config.Entrypoint ?? [];
    const result = spawnSync(CHROOT, ['--userspec=65532:65532', rootfs, ...entrypoint, '--version'], { encoding: 'utf8', env: { PATH: '/caisson/tools/bin', HOME: '/home/nonroot' } });
    assert.equal(result.status, 0, result.stderr);
    const version = (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
    assert.equal(result.stdout.trim(), version);
  });

  test("node starts from the host with only the image's loader and libraries", () => {
    const lib = join(rootfs, 'caisson', 'lib');
    const result = spawnSync(join(lib, 'ld.so'), ['--library-path', lib, join(rootfs, 'caisson', 'node', 'bin', 'node'), '-p', 'process.versions.node'], { encoding: 'utf8', env: {} });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^24\./);
    const listed = spawnSync(join(lib, 'ld.so'), ['--library-path', lib, '--list', join(rootfs, 'caisson', 'node', 'bin', 'node')], { encoding: 'utf8' });
    for (const line of listed.stdout.split('\n').filter((text) => text.includes('=>'))) assert.ok(line.includes(lib), line);
  });

  test("the tools start in the image's root, through the links to /caisson/lib", () => {
    const result = spawnSync(CHROOT, [rootfs, '/caisson/tools/bin/unshare', '--version'], { encoding: 'utf8', env: {} });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /util-linux/);
  });

  test('as a regular user, the image\'s caisson re-runs `build` in a user namespace through its own loader', { skip: userns ? false : 'needs user namespaces' }, () => {
    const caisson = join(rootfs, 'caisson');
    const run = join(work, 'as-nobody');
    mkdirSync(join(run, 'context'), { recursive: true });
    writeFileSync(join(run, 'context', 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    writeFileSync(join(run, 'context', 'hello.txt'), 'hello\n');
    for (const dir of [work, join(work, 'bundle')]) chmodSync(dir, 0o755);
    runTool('chown', ['-R', '65534:65534', run]);
    const result = spawnSync(
      'setpriv',
      ['--reuid', '65534', '--regid', '65534', '--clear-groups', join(caisson, 'lib', 'ld.so'), '--library-path', join(caisson, 'lib'), join(caisson, 'node', 'bin', 'node'), join(caisson, 'app', 'bin', 'caisson.js'), 'build', join(run, 'context'), '--oci-layout-path', join(run, 'out'), '-v', 'warn'],
      { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', HOME: run }, timeout: 120_000 },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.ok(existsSync(join(run, 'out', 'index.json')));
  });

  /**
   * The image's caisson as root in a throwaway root: the unpacked image itself, entered with new
   * mount and pid namespaces (util-linux unshare), a fresh /proc, the host's /dev bound in, then
   * chroot. Container mode replaces that root, never this machine's.
   */
  function inImageRoot(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
    for (const dir of ['proc', 'dev']) mkdirSync(join(rootfs, dir), { recursive: true });
    const script = 'set -e; root=$1; shift; mount -t proc proc "$root/proc"; mount --rbind /dev "$root/dev"; exec "$0" "$root" "$@"';
    const entrypoint = config.config.Entrypoint ?? [];
    return spawnSync('unshare', ['--mount', '--pid', '--fork', '--propagation', 'private', '--', 'sh', '-c', script, CHROOT, rootfs, ...entrypoint, ...args], {
      encoding: 'utf8',
      env: { PATH: '/caisson/tools/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/workspace/home' },
      timeout: 180_000,
    });
  }

  test('--sandbox container: refused outside a container, then builds in the root it runs in (kaniko\'s model)', async () => {
    const base = `${registry.host}/test/busybox:container`;
    await pushBusyboxBase({ dir: join(work, 'busybox'), reference: base, cacheDir: join(work, 'cache') });
    const source = join(rootfs, 'workspace', 'source');
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'hello.txt'), 'hello\n');
    writeFileSync(join(source, 'Dockerfile'), [
      `FROM ${base} AS one`,
      'RUN echo one > /one && test ! -e /home/nonroot',
      `FROM ${base}`,
      'RUN test ! -e /one && test -x /caisson/node/bin/node && echo built > /built.txt && rm /etc/group && mkdir /made',
      'COPY hello.txt /hello.txt',
      'COPY --from=one /one /one',
      'RUN cat /hello.txt /one > /copied.txt && rm /built.txt',
      '',
    ].join('\n'));
    const build = ['build', '--sandbox', 'container', '-c', '/workspace/source', '--cache-dir', '/workspace/cache', '--oci-layout-path', '/workspace/out', '--insecure-registry', registry.host];

    const refused = inImageRoot(build);
    assert.equal(refused.status, 8, refused.stderr);
    assert.match(refused.stderr, /--sandbox container would overwrite this machine's root filesystem: caisson does not seem to run in a container/);
    assert.match(refused.stderr, /--force/);
    assert.ok(existsSync(join(rootfs, 'home', 'nonroot')), 'nothing was touched');

    writeFileSync(join(rootfs, '.dockerenv'), '');
    const built = inImageRoot(build);
    assert.equal(built.status, 0, built.stderr);
    assert.match(built.stderr, /sandbox: container \(as requested, in a container \(\/\.dockerenv\)/);
    // The root is the last RUN's: the base's files, caisson's own kept.
    assert.equal(readFileSync(join(rootfs, 'etc', 'passwd'), 'utf8'), PASSWD);
    assert.ok(!existsSync(join(rootfs, 'home', 'nonroot')));
    assert.equal(readFileSync(join(rootfs, 'copied.txt'), 'utf8'), 'hello\none\n');
    assert.ok(existsSync(join(rootfs, 'caisson', 'app', 'bin', 'caisson.js')));

    // Read back by umoci: the steps' changes, and nothing of caisson, /workspace, /proc or /dev.
    const unpacked = join(work, 'container-bundle');
    runTool('umoci', ['unpack', '--image', `${join(rootfs, 'workspace', 'out')}:latest`, unpacked]);
    const image = join(unpacked, 'rootfs');
    assert.equal(readFileSync(join(image, 'copied.txt'), 'utf8'), 'hello\none\n');
    assert.ok(existsSync(join(image, 'made')));
    assert.ok(!existsSync(join(image, 'built.txt')));
    assert.ok(!existsSync(join(image, 'etc', 'group')));
    assert.equal(readFileSync(join(image, 'etc', 'passwd'), 'utf8'), PASSWD);
    for (const absent of ['caisson', 'workspace', 'proc', 'dev', '.dockerenv', 'home']) assert.ok(!existsSync(join(image, absent)), absent);
  });

  // Last: it moves /caisson out of the unpacked root.
  test('container mode\'s view: caisson runs in a root that holds only /caisson', () => {
    const bare = join(work, 'bare');
    mkdirSync(bare);
    renameSync(join(rootfs, 'caisson'), join(bare, 'caisson'));
    const entrypoint = config.config.Entrypoint ?? [];
    const result = spawnSync(CHROOT, ['--userspec=65532:65532', bare, ...entrypoint, '--version'], { encoding: 'utf8', env: {} });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^\d+\.\d+\.\d+/);
    // The tools load through /caisson's loader (patched by assemble.sh), with no /lib at all.
    for (const tool of ['setpriv', 'unshare', 'env', 'getfattr', 'mknod']) {
      const started = spawnSync(CHROOT, [bare, `/caisson/tools/bin/${tool}`, '--version'], { encoding: 'utf8', env: {} });
      assert.equal(started.status, 0, `${tool}: ${started.stderr}`);
    }
  });
});
