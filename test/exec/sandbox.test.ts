// The RUN sandbox on busybox root filesystems made by the test: overlay and directory rootfs,
// exit statuses, exact environment, working directory, user switch, namespaces, /dev /proc /sys
// and /etc files, extra mounts, abort. After every test no mount is left under the test's
// directory and no process the test started is alive; the upperdir holds only the command's work.
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { runInSandbox, type RunInSandboxOptions, type SandboxResult, type SandboxUser } from '../../src/exec/index.js';
import { busyboxRootfs, listTree, mountsUnder, processesWith, sandboxSkip } from './fixtures.js';

const skip = sandboxSkip();
const ROOT: SandboxUser = { uid: 0, gid: 0, additionalGids: [] };
/** sleep durations no other process on the machine uses: how the test finds its own processes. */
const SLEEP = 900_000 + (process.pid % 90_000) * 10;

let base = '';
let lower = '';
let counter = 0;

before(() => {
  if (skip !== undefined) return;
  base = mkdtempSync(join(tmpdir(), 'caisson-sandbox-test-'));
  lower = busyboxRootfs(join(base, 'lower'));
});
after(() => {
  if (base !== '') rmSync(base, { recursive: true, force: true });
});
afterEach(() => {
  if (skip !== undefined) return;
  assert.deepEqual(mountsUnder(base), [], 'no mount is left under the test directory');
  for (let i = 0; i < 10; i += 1) assert.deepEqual(processesWith(`sleep ${SLEEP + i}`), [], 'no process the test started is left');
});

interface Step {
  readonly upper: string;
  readonly work: string;
  readonly scratch: string;
}

function freshStep(): Step {
  counter += 1;
  const dir = join(base, `step-${counter}`);
  const step = { upper: join(dir, 'upper'), work: join(dir, 'work'), scratch: join(dir, 'scratch') };
  for (const path of Object.values(step)) mkdirSync(path, { recursive: true });
  return step;
}

interface Ran {
  readonly result: SandboxResult;
  readonly stdout: string;
  readonly stderr: string;
  readonly step: Step;
}

async function run(overrides: Partial<RunInSandboxOptions> & { readonly argv: readonly string[] }, step = freshStep()): Promise<Ran> {
  const output = { stdout: '', stderr: '' };
  const result = await runInSandbox({
    rootfs: { kind: 'overlay', lowers: [lower], upper: step.upper, work: step.work },
    env: ['PATH=/bin', 'HOME=/root'],
    cwd: '/',
    user: ROOT,
    network: 'default',
    scratch: step.scratch,
    onOutput: (chunk, stream) => {
      output[stream] += chunk.toString('utf8');
    },
    ...overrides,
  });
  return { result, ...output, step };
}

function sh(script: string): readonly string[] {
  return ['sh', '-c', script];
}

function isCode(code: string, pattern?: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof CaissonError, String(error));
    assert.equal(error.code, code);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  };
}

describe('runInSandbox', { skip }, () => {
  test('the upperdir holds what the command wrote and nothing else: no /proc, /dev, /sys or /etc stubs', async () => {
    const ran = await run({ argv: sh('mkdir -p /var/lib && echo data > /var/lib/out.txt && test -c /dev/null && echo written') });
    assert.deepEqual(ran.result, { exitCode: 0 });
    assert.equal(ran.stdout, 'written\n');
    assert.deepEqual(listTree(ran.step.upper), ['var', 'var/lib', 'var/lib/out.txt']);
    assert.equal(readFileSync(join(ran.step.upper, 'var/lib/out.txt'), 'utf8'), 'data\n');
  });

  test('stubs made in lower-only directories go with the copy-ups they caused; the upper root keeps its times', async () => {
    const layer = busyboxRootfs(join(base, 'lower-etc'), { etc: { passwd: 'root:x:0:0:root:/root:/bin/sh\n' } });
    mkdirSync(join(layer, 'usr/share'), { recursive: true });
    mkdirSync(join(layer, 'run'));
    symlinkSync('../run/systemd/resolve/stub-resolv.conf', join(layer, 'etc/resolv.conf'));
    const step = freshStep();
    // Whole seconds, as extracted layers have: stub cleaning restores times to the microsecond.
    utimesSync(step.upper, 1_600_000_000, 1_600_000_000);
    const before = statSync(step.upper);
    const ran = await run(
      {
        rootfs: { kind: 'overlay', lowers: [layer], upper: step.upper, work: step.work },
        mounts: [{ kind: 'tmpfs', target: '/usr/share/cache/deep' }],
        argv: sh('test -d /usr/share/cache/deep && test -s /etc/resolv.conf -o ! -s /proc/self/status && cat /etc/passwd'),
      },
      step,
    );
    assert.deepEqual(ran.result, { exitCode: 0 }, ran.stderr);
    assert.equal(ran.stdout, 'root:x:0:0:root:/root:/bin/sh\n');
    assert.deepEqual(listTree(step.upper), []);
    assert.equal(statSync(step.upper).mtimeMs, before.mtimeMs);
  });

  test('exit statuses: the command’s own; 127 with a message when it is not in the rootfs', async () => {
    assert.deepEqual((await run({ argv: sh('exit 3') })).result, { exitCode: 3 });
    const missing = await run({ argv: ['no-such-command', 'x'] });
    assert.deepEqual(missing.result, { exitCode: 127 });
    assert.match(missing.stderr, /exec: "no-such-command": executable file not found in \$PATH/);
    assert.deepEqual(listTree(missing.step.upper), []);
    const absolute = await run({ argv: ['/opt/tool'] });
    assert.deepEqual(absolute.result, { exitCode: 127 });
    assert.match(absolute.stderr, /\/opt\/tool/);
  });

  test('the environment is exactly the given one, and argv reaches the command word for word', async () => {
    const env = ['PATH=/bin', 'A=1', 'B=two words', 'EMPTY=', 'QUOTE="$x" \\n'];
    const ran = await run({ env, argv: ['env'] });
    assert.deepEqual(ran.result, { exitCode: 0 });
    assert.deepEqual(ran.stdout.split('\n').filter((line) => line !== ''), env);
    const echoed = await run({ argv: ['echo', 'a  b', '$HOME', '*'] });
    assert.equal(echoed.stdout, 'a  b $HOME *\n');
  });

  test('secret variables join the exact environment, and no command line of the host ever holds them', async () => {
    const marker = `visible-${process.pid}-${Date.now()}`;
    const secret = `s3cret ${process.pid} "$x" \n second line\n`;
    const env = ['PATH=/bin', `MARKER=${marker}`, 'TOKEN=overridden by the secret'];
    // Every command line on the host, read over and over while the sandbox sets up and runs.
    const seen = { marker: false, secret: false };
    let polling = true;
    const poll = (): void => {
      for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
        let cmdline = '';
        try {
          cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
        } catch {
          continue;
        }
        if (cmdline.includes(marker)) seen.marker = true;
        if (cmdline.includes('s3cret')) seen.secret = true;
      }
      if (polling) setImmediate(poll);
    };
    setImmediate(poll);
    const ran = await run({ env, secretEnv: new Map([['TOKEN', Buffer.from(secret)], ['OTHER', Buffer.from('2')]]), argv: ['env'] }).finally(() => {
      polling = false;
    });
    assert.deepEqual(ran.result, { exitCode: 0 }, ran.stderr);
    assert.ok(ran.stdout.includes(`TOKEN=${secret}\n`), 'the value arrives byte for byte, trailing newline included');
    const rest = ran.stdout.replace(`TOKEN=${secret}\n`, '').split('\n').filter((line) => line !== '').sort();
    assert.deepEqual(rest, [`MARKER=${marker}`, 'OTHER=2', 'PATH=/bin'], 'nothing of the set-up shell leaks into the environment');
    assert.ok(seen.marker, 'the poller saw an ordinary variable on a command line (so it was looking)');
    assert.equal(seen.secret, false, 'no command line held the secret');
    await assert.rejects(run({ secretEnv: new Map([['BAD-NAME', Buffer.from('x')]]), argv: ['true'] }), isCode('ERR_SANDBOX', /BAD-NAME/));
    await assert.rejects(run({ secretEnv: new Map([['NUL', Buffer.from('a\0b')]]), argv: ['true'] }), isCode('ERR_SANDBOX', /NUL byte/));
  });

  test('120 lowers with long paths holding commas and colons: each is seen, the topmost wins', async () => {
    // 120 paths of some 190 bytes are 23 KiB of mount data, far over mount's one page.
    const lowers = [lower];
    const deep = join(base, 'many-lowers', `${'long-directory-name,with:odd=characters-'.repeat(3)}x`);
    for (let i = 1; i < 120; i += 1) {
      const layer = join(deep, `layer-${String(i).padStart(3, '0')}`);
      mkdirSync(join(layer, 'layers'), { recursive: true });
      writeFileSync(join(layer, 'layers', `from-${i}`), `${i}\n`);
      writeFileSync(join(layer, 'top'), `${i}\n`);
      lowers.push(layer);
    }
    const step = freshStep();
    const ran = await run({ rootfs: { kind: 'overlay', lowers, upper: step.upper, work: step.work }, argv: sh('ls /layers | wc -l; cat /top /layers/from-1') }, step);
    assert.deepEqual(ran.result, { exitCode: 0 }, ran.stderr);
    assert.deepEqual(ran.stdout.split('\n').map((line) => line.trim()), ['119', '119', '1', '']);
  });

  test('the user switch: uid, gid, supplementary groups; the missing working directory is made for the user and kept', async () => {
    const ran = await run({
      user: { uid: 1000, gid: 1001, additionalGids: [2000, 3000] },
      cwd: '/work/dir',
      argv: sh('id -u; id -g; id -G; pwd; touch mine && stat -c %u:%g mine; grep Cap[EP] /proc/self/status'),
    });
    assert.deepEqual(ran.result, { exitCode: 0 }, ran.stderr);
    const [uid, gid, groups, cwd, owner, capPrm, capEff] = ran.stdout.split('\n');
    assert.deepEqual([uid, gid, groups, cwd, owner], ['1000', '1001', '1001 2000 3000', '/work/dir', '1000:1001']);
    assert.match(capEff ?? '', /CapEff:\s+0+$/);
    assert.match(capPrm ?? '', /CapPrm:\s+0+$/);
    assert.deepEqual(listTree(ran.step.upper), ['work', 'work/dir', 'work/dir/mine']);
    const made = lstatSync(join(ran.step.upper, 'work/dir'));
    assert.deepEqual([made.uid, made.gid, made.mode & 0o7777], [1000, 1001, 0o755]);
  });

  test('root keeps Docker’s default capabilities only', async () => {
    const ran = await run({ argv: sh('grep CapBnd /proc/self/status') });
    assert.match(ran.stdout, /CapBnd:\s+00000000a80425fb/);
  });

  test('namespaces: pid 1, hostname, network none has only loopback, /dev /proc /sys and the /etc files', async () => {
    const ran = await run({
      network: 'none',
      argv: sh('echo $$; hostname; cat /etc/hostname; cat /etc/hosts; grep -c : /proc/net/dev; grep -o "^ *lo:" /proc/net/dev; echo x > /dev/null && echo null-ok; test -d /proc/self/fd && echo proc-ok; ls /sys | grep -c . ; test -c /dev/pts/ptmx && echo pts-ok; touch /etc/hosts || echo hosts-ro'),
    });
    assert.deepEqual(ran.result, { exitCode: 0 }, ran.stderr);
    const lines = ran.stdout.split('\n');
    assert.equal(lines[0], '1');
    assert.equal(lines[1], 'buildkitsandbox');
    assert.equal(lines[2], 'buildkitsandbox');
    assert.equal(lines.slice(3, 5).join('\n'), '127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback');
    assert.equal(lines[5], '1', 'one interface');
    assert.match(lines[6] ?? '', /^ *lo:$/);
    assert.deepEqual([lines[7], lines[8]], ['null-ok', 'proc-ok']);
    assert.ok(Number(lines[9]) > 0, '/sys is mounted');
    assert.deepEqual([lines[10], lines[11]], ['pts-ok', 'hosts-ro']);
    assert.deepEqual(listTree(ran.step.upper), []);
  });

  test('a custom hostname; stdin is /dev/null and the set-up’s pipes are not inherited', async () => {
    const ran = await run({ hostname: 'box', argv: sh('hostname; grep -c box /etc/hosts; cat; echo eof; readlink /proc/$$/fd/0; test -e /proc/$$/fd/3 || echo no-fd3') });
    assert.equal(ran.stdout, 'box\n1\neof\n/dev/null\nno-fd3\n');
  });

  test('extra mounts: read-only and read-write binds of directories and a file, a tmpfs; their stubs are cleaned', async () => {
    const source = join(base, 'bind-source');
    mkdirSync(source);
    writeFileSync(join(source, 'in.txt'), 'from host\n');
    writeFileSync(join(base, 'secret.txt'), 's3cret\n');
    const ran = await run({
      mounts: [
        { kind: 'bind', source, target: '/mnt/ro', readOnly: true },
        { kind: 'bind', source, target: '/mnt/rw', readOnly: false },
        { kind: 'bind', source: join(base, 'secret.txt'), target: '/run/secrets/token', readOnly: true },
        { kind: 'tmpfs', target: '/tmp/scratch', sizeBytes: 1 << 20 },
      ],
      argv: sh('cat /mnt/ro/in.txt; touch /mnt/ro/no 2>/dev/null || echo ro-refused; touch /mnt/rw/yes && echo rw-ok; cat /run/secrets/token; echo t > /tmp/scratch/t && echo tmpfs-ok'),
    });
    assert.deepEqual(ran.result, { exitCode: 0 }, ran.stderr);
    assert.equal(ran.stdout, 'from host\nro-refused\nrw-ok\ns3cret\ntmpfs-ok\n');
    assert.ok(statSync(join(source, 'yes')).isFile());
    assert.deepEqual(listTree(ran.step.upper), []);
  });

  test('background processes die with the command', async () => {
    const ran = await run({ argv: sh(`sleep ${SLEEP} >/dev/null 2>&1 & echo started`) });
    assert.deepEqual(ran.result, { exitCode: 0 });
    assert.equal(ran.stdout, 'started\n');
    assert.deepEqual(processesWith(`sleep ${SLEEP}`), []);
  });

  test('abort: the whole tree is killed, stubs cleaned, and it rejects with ERR_BUILD_INTERRUPTED', async () => {
    const controller = new AbortController();
    const step = freshStep();
    const running = run({ signal: controller.signal, argv: sh(`sleep ${SLEEP + 1} & sleep ${SLEEP + 2}`) }, step);
    const deadline = Date.now() + 120_000;
    while (processesWith(`sleep ${SLEEP + 2}`).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const aborted = Date.now();
    controller.abort();
    await assert.rejects(running, isCode('ERR_BUILD_INTERRUPTED'));
    assert.ok(Date.now() - aborted < 30_000, 'rejects soon after the abort');
    assert.deepEqual(processesWith(`sleep ${SLEEP + 1}`), []);
    assert.deepEqual(listTree(step.upper), []);
    await assert.rejects(run({ signal: AbortSignal.abort(), argv: ['true'] }), isCode('ERR_BUILD_INTERRUPTED'));
  });

  test('abort during the set-up: nothing is left either', async () => {
    const controller = new AbortController();
    const step = freshStep();
    const running = run({ signal: controller.signal, argv: ['sleep', String(SLEEP + 3)] }, step);
    setImmediate(() => controller.abort());
    await assert.rejects(running, isCode('ERR_BUILD_INTERRUPTED'));
    assert.deepEqual(listTree(step.upper), []);
  });

  test('a directory rootfs is changed in place, without stubs, its root keeping its times', async () => {
    const dir = busyboxRootfs(join(base, 'directory-rootfs'));
    utimesSync(dir, 1_600_000_000, 1_600_000_000);
    const before = listTree(dir);
    const rootTimes = statSync(dir);
    const quiet = await run({ rootfs: { kind: 'directory', path: dir }, argv: sh('test -d /proc/1 && test -c /dev/zero') });
    assert.deepEqual(quiet.result, { exitCode: 0 });
    assert.deepEqual(listTree(dir), before);
    assert.equal(statSync(dir).mtimeMs, rootTimes.mtimeMs);
    const ran = await run({ rootfs: { kind: 'directory', path: dir }, argv: sh('echo hi > /hello') });
    assert.deepEqual(ran.result, { exitCode: 0 });
    assert.deepEqual(listTree(dir), [...before, 'hello'].sort());
  });

  test('a set-up failure is ERR_SANDBOX naming what failed, never an exit status', async () => {
    const step = freshStep();
    await assert.rejects(
      run({ rootfs: { kind: 'overlay', lowers: [join(base, 'no-such-lower')], upper: step.upper, work: step.work }, argv: ['true'] }, step),
      isCode('ERR_SANDBOX', /mount the overlay rootfs/),
    );
    await assert.rejects(run({ mounts: [{ kind: 'bind', source: join(base, 'missing'), target: '/x', readOnly: true }], argv: ['true'] }), isCode('ERR_SANDBOX', /bind source/));
    await assert.rejects(run({ env: ['NOEQUALS'], argv: ['true'] }), isCode('ERR_SANDBOX', /KEY=VALUE/));
  });
});
