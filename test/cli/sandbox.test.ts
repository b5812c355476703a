// caisson build --sandbox through the real bin/caisson.js: container mode is refused outside caisson's image,
// namespaces is refused to a regular user (dropped to with util-linux setpriv, so that needs root),
// the chosen mode is logged once, and rootless is honoured as root too (the build re-run in a user
// namespace).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxRootfs } from '../exec/fixtures.js';
import { projectRoot } from '../support/paths.js';

const NOBODY = '65534';
const root = process.getuid?.() === 0;
const userns = spawnSync('unshare', ['--user', '--map-root-user', 'true']).status === 0;

let work = '';
before(() => {
  work = mkdtempSync(join(tmpdir(), 'caisson-sandbox-'));
  chmodSync(work, 0o777);
  writeFileSync(join(work, 'Dockerfile'), 'FROM scratch\nCOPY Dockerfile /\n');
});
after(() => {
  rmSync(work, { recursive: true, force: true });
});

function caisson(args: readonly string[], as?: string): { status: number | null; stderr: string } {
  const command = [process.execPath, join(projectRoot(), 'bin', 'caisson.js'), 'build', work, '--no-push', '--cache-dir', join(work, `cache-${as ?? 'self'}`), ...args];
  const result = as === undefined
    ? spawnSync(command[0] as string, command.slice(1), { encoding: 'utf8', timeout: 120_000 })
    : spawnSync('setpriv', ['--reuid', as, '--regid', as, '--clear-groups', 'env', `HOME=${work}`, `PATH=${process.env['PATH'] ?? ''}`, ...command], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stderr: result.stderr };
}

describe('caisson build --sandbox', () => {
  test('--sandbox container from a checkout (not caisson\'s image): refused before anything, exit 8', () => {
    const result = caisson(['--sandbox', 'container', '--force']);
    assert.equal(result.status, 8, result.stderr);
    assert.match(result.stderr, /caisson must run from its own image \(installed under \/caisson\); this caisson runs from /);
  });

  test('an unknown mode is a usage error', () => {
    const result = caisson(['--sandbox', 'vm']);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /auto, namespaces, rootless, chroot, container|auto\|namespaces/);
  });

  test('--sandbox namespaces as a regular user: refused, with a hint', { skip: root ? false : 'needs uid 0 to drop to an unprivileged user with setpriv' }, () => {
    const result = caisson(['--sandbox', 'namespaces'], NOBODY);
    assert.equal(result.status, 8, result.stderr);
    assert.match(result.stderr, /--sandbox namespaces needs uid 0 of the machine with CAP_SYS_ADMIN; this is uid 65534/);
    assert.match(result.stderr, /--sandbox rootless/);
  });

  test('a build as root logs the sandbox once: namespaces', { skip: root ? false : 'needs uid 0' }, () => {
    for (const args of [[], ['--sandbox', 'namespaces']]) {
      const result = caisson(args);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr.match(/sandbox: /g)?.length, 1, result.stderr);
      assert.match(result.stderr, /sandbox: namespaces \(uid 0(, as requested)?: mount, pid, ipc, uts namespaces and overlayfs\)/);
    }
  });

  test('a regular user builds rootless, and so does root when asked', { skip: !root ? 'needs uid 0 (setpriv)' : !userns ? 'needs user namespaces' : false }, () => {
    const user = caisson([], NOBODY);
    assert.equal(user.status, 0, user.stderr);
    assert.match(user.stderr, /sandbox: rootless \(uid 0 of a user namespace: the caller mapped to root/);
    const asked = caisson(['--sandbox', 'rootless']);
    assert.equal(asked.status, 0, asked.stderr);
    assert.match(asked.stderr, /sandbox: rootless \(as requested, uid 0 of a user namespace: /);
  });

  test('RUN under --sandbox rootless as root: overlay with userxattr in the user namespace', { skip: !root ? 'needs uid 0' : !userns ? 'needs user namespaces' : false }, () => {
    const base = busyboxRootfs(join(work, 'base-rootfs'), { etc: { gone: 'deleted by RUN\n' } });
    const context = join(work, 'run-context');
    mkdirSync(context);
    writeFileSync(join(context, 'Dockerfile'), 'FROM base\nRUN echo "made by $(id -u)" > /made && rm /etc/gone\n');
    const result = caisson(['--sandbox', 'rootless', '--build-context', `base=${base}`, '-f', join(context, 'Dockerfile')]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /sandbox: rootless/);
  });
});
