/**
 * `caisson build` given bad inputs, end to end:
 * - a registry refusing the push (the fault-injecting registry answers the manifest PUT with 403
 *   or 500): the build fails naming the destination, and the tag does not exist afterwards;
 * - SIGINT and SIGTERM during a long RUN, sent to the real CLI (`node bin/caisson.js`, a child
 *   process): exit 130 / 143, the RUN's processes killed, no mount, no staging left, and the cache
 *   still usable by the next build; the reader of its output going away (`| head`) stops it the
 *   same way, exit 141 as for SIGPIPE;
 * - a missing Dockerfile, an unknown --target, a refused kaniko flag, an unreadable --secret.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { EXIT_CODES } from '../../src/errors.js';
import { pushBusyboxBase } from '../support/busybox.js';
import { runCaisson } from '../support/cli.js';
import { startFaultRegistry, type FaultRegistry } from '../support/fault-registry.js';
import { projectRoot } from '../support/paths.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';

const rootSkip = process.getuid?.() !== 0 ? 'needs uid 0: COPY writes root-owned files when caisson runs in-process' : undefined;
const runSkip =
  (process.getuid?.() !== 0 ? 'needs uid 0: RUN uses overlayfs and namespaces as root in this version' : undefined) ??
  missingTool('docker-registry', 'docker-registry') ??
  missingTool('umoci', 'umoci') ??
  missingTool('skopeo', 'skopeo') ??
  (existsSync('/bin/busybox') ? undefined : 'needs /bin/busybox (Debian package busybox-static)');

/** A context with one file and a FROM scratch Dockerfile: builds without any registry. */
function writeSmallContext(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'hello.txt'), 'hello\n');
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch AS build\nCOPY hello.txt /hello.txt\n');
  return dir;
}

/** Entries left in the layer store's staging (`<cache-dir>/tmp`). */
function staging(cacheDir: string): string[] {
  return existsSync(join(cacheDir, 'tmp')) ? readdirSync(join(cacheDir, 'tmp')) : [];
}

describe('caisson build: a registry refusing the push', { skip: rootSkip, concurrency: 1 }, () => {
  let registry: FaultRegistry;
  let work: string;
  let context: string;

  before(async () => {
    registry = await startFaultRegistry();
    work = mkdtempSync(join(tmpdir(), 'caisson-push-refused-'));
    context = writeSmallContext(join(work, 'context'));
  });

  after(async () => {
    await registry?.close();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  const refusals = [
    { status: 403, code: 'ERR_REGISTRY_DENIED', attempts: 1 },
    { status: 500, code: 'ERR_REGISTRY_UNAVAILABLE', attempts: 2 },
  ] as const;
  for (const { status, code, attempts } of refusals) {
    test(`the manifest PUT answered ${status}: the build fails naming the destination, nothing is tagged`, async () => {
      const repository = `refused/status-${status}`;
      const destination = `${registry.host}/${repository}:v1`;
      registry.clearFaults();
      registry.inject({ method: 'PUT', path: new RegExp(`^/v2/${repository}/manifests/`), times: Infinity, fault: { kind: 'status', status } });
      const before = registry.requests.length;
      const cacheDir = join(work, `cache-${status}`);
      // A build's registry session serves pulls and pushes with one retry count, the larger of the
      // two flags: --image-download-retry 0 lets --push-retry 1 decide.
      const result = await runCaisson(['build', context, '-d', destination, '--cache-dir', cacheDir, '--push-retry', '1', '--image-download-retry', '0'], { cwd: work });
      assert.equal(result.code, EXIT_CODES[code], `exit status; stderr:\n${result.stderr}`);
      assert.ok(result.stderr.includes(`[${code}]`), `stderr names the error code:\n${result.stderr}`);
      assert.ok(result.stderr.includes(destination), `stderr names the destination ${destination}:\n${result.stderr}`);
      assert.equal(result.stdout, '', 'no image reference printed');
      const puts = registry.requests.slice(before).filter((request) => request.method === 'PUT' && request.path.startsWith(`/v2/${repository}/manifests/`));
      assert.equal(puts.length, attempts, `manifest PUTs (a 5xx is retried --push-retry times, a 403 is not)`);
      assert.ok(registry.requests.slice(before).some((request) => request.method === 'POST' && request.path.startsWith(`/v2/${repository}/blobs/uploads/`)), 'the blobs were uploaded first');
      assert.equal(registry.hasManifest(repository, 'v1'), false, 'the tag does not exist');
      assert.deepEqual(registry.tags(repository), [], 'no tag at all in the repository');
      assert.deepEqual(staging(cacheDir), [], 'no staging left in the cache');
    });
  }

  test('the same build pushes once the registry accepts it (the refusal was the only problem)', async () => {
    registry.clearFaults();
    const repository = 'refused/status-403';
    const result = await runCaisson(['build', context, '-d', `${registry.host}/${repository}:v1`, '--cache-dir', join(work, 'cache-403')], { cwd: work });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(registry.hasManifest(repository, 'v1'), true);
  });
});

/** Host PIDs of processes whose command line (its words, each ended by a NUL) `matches`. */
function processes(matches: (cmdline: string) => boolean): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (matches(readFileSync(`/proc/${name}/cmdline`, 'utf8'))) found.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Host PIDs of processes whose command line is exactly `sleep 1000`. */
function sleepers(): number[] {
  return processes((cmdline) => cmdline === 'sleep\u00001000\u0000');
}

/** Mount points (field 5 of mountinfo, octal escapes decoded) under any of `roots`. */
function mountsUnder(roots: readonly string[]): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => roots.some((root) => point === root || point.startsWith(`${root}/`)));
}

async function until<T>(options: { readonly what: string; readonly timeoutMs: number; readonly detail: () => string }, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}; caisson's stderr so far:\n${options.detail()}`);
    await sleep(100);
  }
}

describe('caisson build: stopped during a long RUN (SIGINT, SIGTERM, its reader gone)', { skip: runSkip, concurrency: 1 }, () => {
  let registry: RunningRegistry;
  let work: string;
  let base: string;

  before(async () => {
    registry = await startRegistry({ setup: 'plain' });
    work = mkdtempSync(join(tmpdir(), 'caisson-interrupt-'));
    base = `${registry.host}/base/busybox:1`;
    await pushBusyboxBase({ dir: join(work, 'base'), reference: base, cacheDir: join(work, 'base-cache') });
    mkdirSync(join(work, 'context'));
    writeFileSync(join(work, 'context', 'hello.txt'), 'hello\n');
    writeFileSync(join(work, 'sleep.Dockerfile'), 'ARG BASE\nFROM ${BASE}\nCOPY hello.txt /hello.txt\nRUN sleep 1000\n');
    writeFileSync(join(work, 'quick.Dockerfile'), 'ARG BASE\nFROM ${BASE}\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt > /ok\n');
    writeFileSync(join(work, 'ticking.Dockerfile'), 'ARG BASE\nFROM ${BASE}\nRUN while :; do echo caisson-tick; sleep 0.2; done\n');
  });

  after(async () => {
    await registry?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  /** `caisson build` of the context with `dockerfile` (FROM the busybox base) as a child process, its stdout and stderr piped. */
  function startBuild(options: { readonly dockerfile: string; readonly cacheDir: string; readonly temp: string }): { readonly child: ChildProcessByStdio<null, Readable, Readable>; readonly stderr: () => string; readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
    const child = spawn(process.execPath, [join(projectRoot(), 'bin', 'caisson.js'), 'build', join(work, 'context'), '-f', join(work, options.dockerfile), '--no-push', '--cache-dir', options.cacheDir, '--build-arg', `BASE=${base}`], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: work, TMPDIR: options.temp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, killedBy) => resolve({ code, signal: killedBy })));
    return { child, stderr: () => stderr, ended };
  }

  /**
   * Starts a build whose RUN is `sleep 1000`, waits for the sleep, and runs `body`; the build and
   * its sleep are killed afterwards whatever happened.
   */
  async function withSleepingBuild(name: string, body: (build: ReturnType<typeof startBuild> & { readonly cacheDir: string; readonly temp: string; readonly sleeping: readonly number[]; readonly left: () => number[] }) => Promise<void>): Promise<void> {
    const cacheDir = join(work, `cache-${name}`);
    const temp = join(work, `tmp-${name}`);
    mkdirSync(temp);
    const already = new Set(sleepers());
    const left = (): number[] => sleepers().filter((pid) => !already.has(pid));
    const started = startBuild({ dockerfile: 'sleep.Dockerfile', cacheDir, temp });
    const { child, stderr } = started;
    let sleeping: number[] = [];
    try {
      // Pulling and extracting the base comes first: minutes on a loaded machine.
      await until({ what: 'the RUN step line on stderr', timeoutMs: 300_000, detail: () => stderr() }, () => (stderr().includes('RUN sleep 1000') ? true : undefined));
      sleeping = await until({ what: 'the sleep 1000 process', timeoutMs: 60_000, detail: () => stderr() }, () => {
        const mine = left();
        return mine.length > 0 ? mine : undefined;
      });
      await body({ ...started, cacheDir, temp, sleeping, left });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      for (const pid of sleeping.filter((pid) => sleepers().includes(pid))) process.kill(pid, 'SIGKILL');
    }
  }

  const signals = [
    { signal: 'SIGINT', exit: 130 },
    { signal: 'SIGTERM', exit: 143 },
  ] as const;
  for (const { signal, exit } of signals) {
    test(`${signal}: exit ${exit}, the RUN killed, nothing mounted or staged left, the cache still usable`, async () => {
      const cacheDir = join(work, `cache-${signal}`);
      await withSleepingBuild(signal, async ({ child, stderr, ended, temp, sleeping, left }) => {
        assert.ok(child.pid !== undefined && process.kill(child.pid, signal), `sent ${signal}`);
        const end = await Promise.race([ended, sleep(60_000).then(() => undefined)]);
        assert.ok(end !== undefined, `caisson did not exit within 60 s of ${signal}; stderr:\n${stderr()}`);
        assert.deepEqual(end, { code: exit, signal: null }, `exit status; stderr:\n${stderr()}`);
        assert.ok(stderr().includes('[ERR_BUILD_INTERRUPTED]'), `stderr names ERR_BUILD_INTERRUPTED:\n${stderr()}`);
        assert.doesNotMatch(stderr(), /unshare:/, 'no complaint of the killed unshare (util-linux#2614)');
        assert.deepEqual(sleeping.filter((pid) => existsSync(`/proc/${pid}`)), [], 'the RUN command was killed');
        assert.deepEqual(left(), [], 'no sleep 1000 left');
        assert.deepEqual(mountsUnder([cacheDir, temp, work]), [], 'no mount left');
        assert.deepEqual(staging(cacheDir), [], `no staging left in ${cacheDir}/tmp`);
        // node's own compile cache (bin/caisson.js enables it) is the only thing allowed in TMPDIR.
        assert.deepEqual(readdirSync(temp).filter((name) => name !== 'node-compile-cache'), [], 'nothing left in TMPDIR');
      });

      const layout = join(work, `layout-${signal}`);
      const again = await runCaisson(['build', join(work, 'context'), '-f', join(work, 'quick.Dockerfile'), '--no-push', '--oci-layout-path', layout, '--cache-dir', cacheDir, '--build-arg', `BASE=${base}`], { cwd: work, env: { HOME: work } });
      assert.equal(again.code, 0, `a build after the interrupted one, on the same cache: ${again.stderr}`);
      const bundle = join(work, `bundle-${signal}`);
      runTool('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
      assert.equal(readFileSync(join(bundle, 'rootfs', 'ok'), 'utf8'), 'hello\n', 'the RUN of the next build ran on the cached layers');
      assert.deepEqual(staging(cacheDir), [], 'no staging left after the next build');
    });
  }
  test('SIGKILL, which caisson cannot catch: its RUN processes die with it and nothing stays mounted', async () => {
    await withSleepingBuild('SIGKILL', async ({ child, ended, cacheDir, temp, sleeping, left }) => {
      assert.ok(child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 'sent SIGKILL');
      assert.deepEqual(await ended, { code: null, signal: 'SIGKILL' });
      await until({ what: 'the RUN command gone after caisson was killed', timeoutMs: 10_000, detail: () => `still running: ${sleeping.filter((pid) => existsSync(`/proc/${pid}`)).join(' ')}` }, () =>
        (sleeping.every((pid) => !existsSync(`/proc/${pid}`)) ? true : undefined));
      assert.deepEqual(left(), [], 'no sleep 1000 left');
      assert.deepEqual(mountsUnder([cacheDir, temp, work]), [], 'no mount left');
    });
  });

  test('the reader of its output goes away during a RUN that prints (`| head`): exit 141, the RUN killed, nothing left', async () => {
    const cacheDir = join(work, 'cache-EPIPE');
    const temp = join(work, 'tmp-EPIPE');
    mkdirSync(temp);
    const ticking = (): number[] => processes((cmdline) => cmdline.includes('echo caisson-tick'));
    const { child, stderr, ended } = startBuild({ dockerfile: 'ticking.Dockerfile', cacheDir, temp });
    let shells: number[] = [];
    try {
      await until({ what: 'the RUN output on stderr', timeoutMs: 300_000, detail: () => stderr() }, () => (stderr().includes('\ncaisson-tick\n') ? true : undefined));
      shells = ticking();
      assert.ok(shells.length > 0, 'the RUN shell is running');
      // As `head` does once it has what it wants: close the reading ends.
      child.stdout.destroy();
      child.stderr.destroy();
      const end = await Promise.race([ended, sleep(60_000).then(() => undefined)]);
      assert.ok(end !== undefined, `caisson did not exit within 60 s of losing its reader; stderr:\n${stderr()}`);
      assert.deepEqual(end, { code: 141, signal: null }, `exit status (128 + SIGPIPE); stderr:\n${stderr()}`);
      assert.deepEqual(ticking(), [], 'the RUN processes were killed');
      assert.deepEqual(mountsUnder([cacheDir, temp, work]), [], 'no mount left');
      assert.deepEqual(staging(cacheDir), [], `no staging left in ${cacheDir}/tmp`);
      assert.deepEqual(readdirSync(temp).filter((name) => name !== 'node-compile-cache'), [], 'nothing left in TMPDIR');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      for (const pid of ticking()) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('caisson build: bad command lines', { concurrency: 1 }, () => {
  let work: string;
  let context: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'caisson-bad-input-'));
    context = writeSmallContext(join(work, 'context'));
  });

  after(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  async function fails(options: { readonly argv: readonly string[]; readonly exit: number; readonly stderr: readonly string[]; readonly env?: Record<string, string> }): Promise<void> {
    const cacheDir = join(work, 'cache');
    const result = await runCaisson(['build', ...options.argv, '--no-push', '--cache-dir', cacheDir], { cwd: work, env: { HOME: work, ...options.env } });
    assert.equal(result.code, options.exit, `exit status; stderr:\n${result.stderr}`);
    for (const text of options.stderr) assert.ok(result.stderr.includes(text), `stderr should include ${JSON.stringify(text)}:\n${result.stderr}`);
    assert.equal(result.stdout, '', 'nothing on stdout');
    assert.deepEqual(staging(cacheDir), [], 'no staging left');
  }

  test('a missing Dockerfile (-f): ERR_INPUT_NOT_FOUND naming the path', async () => {
    await fails({ argv: [context, '-f', 'nope/Dockerfile'], exit: EXIT_CODES.ERR_INPUT_NOT_FOUND, stderr: ['nope/Dockerfile', '[ERR_INPUT_NOT_FOUND]'] });
  });

  test('a context without a Dockerfile: ERR_INPUT_NOT_FOUND naming the path', async () => {
    const empty = join(work, 'no-dockerfile');
    mkdirSync(empty);
    await fails({ argv: [empty], exit: EXIT_CODES.ERR_INPUT_NOT_FOUND, stderr: ['no-dockerfile/Dockerfile', '[ERR_INPUT_NOT_FOUND]'] });
  });

  test('a .dockerignore that cannot be read (a directory): the build fails naming it, rather than copy what it leaves out', async () => {
    const ignoring = writeSmallContext(join(work, 'unreadable-ignore'));
    mkdirSync(join(ignoring, '.dockerignore'));
    await fails({ argv: [ignoring], exit: EXIT_CODES.ERR_BUILD_CONTEXT, stderr: [`${join(ignoring, '.dockerignore')}: cannot read it (EISDIR)`, 'Make it a readable file, or remove it', '[ERR_BUILD_CONTEXT]'] });
  });

  test('COPY --link --chown by name: refused as BuildKit refuses it (a linked layer has no /etc/passwd), naming the line, with numeric ids as the hint', async () => {
    const linked = writeSmallContext(join(work, 'link-chown'));
    writeFileSync(join(linked, 'Dockerfile'), 'FROM scratch\nCOPY --link --chown=app:staff hello.txt /hello.txt\n');
    await fails({ argv: [linked], exit: EXIT_CODES.ERR_DOCKERFILE_INSTRUCTION, stderr: ['Dockerfile:2', 'COPY --link --chown=app:staff: a user or group by name cannot be looked up in a linked layer', 'Give numeric ids (--chown=1000:1000), or drop --link.'] });
  });

  test('an unknown --target: the stage is named, with a did-you-mean', async () => {
    await fails({ argv: [context, '--target', 'biuld'], exit: EXIT_CODES.ERR_DOCKERFILE_STAGE, stderr: ['"biuld"', 'did you mean build?', '[ERR_DOCKERFILE_STAGE]'] });
  });

  test('a kaniko flag caisson refuses (--use-new-run): exit 2 saying why', async () => {
    await fails({ argv: [context, '--use-new-run'], exit: EXIT_CODES.ERR_USAGE, stderr: ['--use-new-run is not supported', 'overlay snapshots', '[ERR_USAGE]'] });
    assert.equal(EXIT_CODES.ERR_USAGE, 2);
  });

  test('bad cache flags: --cache with no repository, a tagged --cache-repo, one that is no reference, a bad --cache-ttl', async () => {
    await fails({ argv: [context, '--cache'], exit: EXIT_CODES.ERR_USAGE, stderr: ['--cache needs a cache repository', 'Give --cache-repo REF', '[ERR_USAGE]'] });
    await fails({ argv: [context, '--cache', '--cache-repo', '127.0.0.1:5999/app/cache:v1'], exit: EXIT_CODES.ERR_USAGE, stderr: ['--cache-repo 127.0.0.1:5999/app/cache:v1: give a repository, without a tag or digest', '[ERR_USAGE]'] });
    await fails({ argv: [context, '--cache', '--cache-repo', 'docker://127.0.0.1:5999/app/cache:v1'], exit: EXIT_CODES.ERR_USAGE, stderr: ['--cache-repo docker://127.0.0.1:5999/app/cache:v1: give a repository, without a tag or digest', '[ERR_USAGE]'] });
    await fails({ argv: [context, '--cache', '--cache-repo', 'Bad Ref'], exit: EXIT_CODES.ERR_USAGE, stderr: ['--cache-repo Bad Ref: ', 'Give a repository, e.g. --cache-repo registry.example.com/app/cache', '[ERR_USAGE]'] });
    await fails({ argv: [context, '--cache-ttl', 'forever'], exit: EXIT_CODES.ERR_USAGE, stderr: ['--cache-ttl "forever" is not a duration', '[ERR_USAGE]'] });
  });

  test('--secret with a file that does not exist: named, before anything is built', async () => {
    await fails({ argv: [context, '--secret', 'id=token,src=missing-secret.txt'], exit: EXIT_CODES.ERR_INPUT_NOT_FOUND, stderr: ['--secret id=token', 'missing-secret.txt', '[ERR_INPUT_NOT_FOUND]'] });
  });

  test('--secret naming an unset environment variable: a usage error', async () => {
    await fails({ argv: [context, '--secret', 'id=token,env=CAISSON_TEST_UNSET_SECRET'], exit: EXIT_CODES.ERR_USAGE, stderr: ['--secret id=token', 'CAISSON_TEST_UNSET_SECRET', '[ERR_USAGE]'] });
  });
});
