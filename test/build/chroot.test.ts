// --sandbox chroot through the real bin/caisson.js, as root without CAP_SYS_ADMIN (dropped from the
// bounding set with util-linux setpriv, so nothing can be mounted): RUN is chroot(2)ed into a
// directory root, the walk snapshotter makes its layers, read back with umoci; what the chroot
// cannot do (RUN --mount, --network=none) is refused with file:line; the command's process group
// is killed when it ends; nothing is left behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUSYBOX, writeBusyboxContext } from '../support/busybox.js';
import { projectRoot } from '../support/paths.js';
import { missingTool, runTool } from '../support/tools.js';

const skip = process.getuid?.() !== 0 ? 'needs uid 0: the chroot sandbox runs as root' : (missingTool('umoci', 'umoci') ?? missingTool('setpriv', 'util-linux') ?? (existsSync(BUSYBOX) ? undefined : 'needs busybox-static'));

let work = '';

/** caisson build as root without CAP_SYS_ADMIN. */
function build(dockerfile: string, extra: readonly string[] = []): { status: number | null; stderr: string; layout: string } {
  const context = mkdtempSync(join(work, 'context-'));
  writeBusyboxContext(context);
  writeFileSync(join(context, 'Dockerfile'), dockerfile);
  const layout = join(context, 'out');
  const command = [process.execPath, join(projectRoot(), 'bin', 'caisson.js'), 'build', context, '--sandbox', 'chroot', '--cache-dir', join(work, 'cache'), '--oci-layout-path', layout, ...extra];
  const result = spawnSync('setpriv', ['--bounding-set=-sys_admin', '--', ...command], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stderr: result.stderr, layout };
}

function unpack(layout: string): string {
  const bundle = mkdtempSync(join(work, 'bundle-'));
  rmSync(bundle, { recursive: true });
  runTool('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
  return join(bundle, 'rootfs');
}

describe('caisson build --sandbox chroot', { skip }, () => {
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'caisson-chroot-'));
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  test('RUN as root and as USER in a chroot without CAP_SYS_ADMIN; layers from the walk, read back with umoci', () => {
    const mounts = readFileSync('/proc/mounts', 'utf8');
    const result = build([
      'FROM scratch',
      'COPY rootfs/ /',
      'RUN echo one > /one && mkdir -p /var/lib/x && rm /etc/group && ln -s /one /link && cat /etc/hosts > /hosts-seen && test -c /dev/null',
      'RUN mount -t tmpfs tmpfs /mnt 2>/dev/null || echo refused > /no-mount',
      'USER app',
      'WORKDIR /home/app',
      'RUN id -u > mine && echo ok',
      'USER root',
      'RUN rm /one && chmod 0700 /var/lib/x',
      'RUN sleep 312 & echo started',
      '',
    ].join('\n'));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /sandbox: chroot \(as requested, uid 0 with CAP_SYS_CHROOT/);
    const rootfs = unpack(result.layout);
    assert.ok(!existsSync(join(rootfs, 'one')));
    assert.equal(readlinkSync(join(rootfs, 'link')), '/one');
    assert.ok(!existsSync(join(rootfs, 'etc', 'group')));
    assert.equal(lstatSync(join(rootfs, 'var', 'lib', 'x')).mode & 0o777, 0o700);
    assert.match(readFileSync(join(rootfs, 'hosts-seen'), 'utf8'), /buildkitsandbox/);
    assert.equal(readFileSync(join(rootfs, 'no-mount'), 'utf8'), 'refused\n');
    assert.equal(readFileSync(join(rootfs, 'home', 'app', 'mine'), 'utf8'), '1000\n');
    assert.equal(lstatSync(join(rootfs, 'home', 'app', 'mine')).uid, 1000);
    // What the chroot is given is never captured.
    for (const absent of ['dev', 'etc/hosts', 'etc/resolv.conf', 'etc/hostname']) assert.ok(!existsSync(join(rootfs, absent)), absent);
    // The background sleep died with the command's process group; no mount, no scratch left.
    assert.equal(spawnSync('pgrep', ['-f', 'sleep 312']).status, 1, 'sleep 312 still runs');
    assert.equal(readFileSync('/proc/mounts', 'utf8'), mounts);
    assert.deepEqual(readdirSync(join(work, 'cache', 'tmp')), []);
  });

  test('a failing RUN exits with its status and file:line; a later build does not see its half-done changes', () => {
    const failed = build('FROM scratch\nCOPY rootfs/ /\nRUN echo half > /half && exit 3\n');
    assert.equal(failed.status, 3, failed.stderr);
    assert.match(failed.stderr, /Dockerfile:3: RUN echo half > \/half && exit 3 failed with exit status 3/);
    const again = build('FROM scratch\nCOPY rootfs/ /\nRUN test ! -e /half && echo clean > /clean\n');
    assert.equal(again.status, 0, again.stderr);
    assert.equal(readFileSync(join(unpack(again.layout), 'clean'), 'utf8'), 'clean\n');
  });

  test('RUN --mount and --network=none need a mount namespace: refused with file:line and the sandboxes that have them', () => {
    for (const [line, what] of [['RUN --mount=type=cache,target=/var/cache/apt true', 'RUN --mount=type=cache'], ['RUN --network=none true', 'RUN --network=none']] as const) {
      const result = build(`FROM scratch\nCOPY rootfs/ /\n${line}\n`);
      assert.equal(result.status, 8, result.stderr);
      assert.match(result.stderr, new RegExp(`Dockerfile:3: ${what.replace(/[-=]/g, '\\$&')}.* needs a mount namespace, which --sandbox chroot does not have`));
      assert.match(result.stderr, /--sandbox namespaces .* or rootless/);
    }
  });
});
