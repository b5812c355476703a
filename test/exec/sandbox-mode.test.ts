// --sandbox's resolution: every choice as root of the machine, as uid 0 of a user namespace and as
// a regular user.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUILD_OPTIONS } from '../../src/cli/build-flags.js';
import { CaissonError } from '../../src/errors.js';
import { resolveSandboxMode, SANDBOX_CHOICES, type SandboxFacts } from '../../src/exec/sandbox-mode.js';

const MACHINE_ROOT = { uid: 0, userNamespace: false };
const NAMESPACE_ROOT = { uid: 0, userNamespace: true };
const USER = { uid: 1000, userNamespace: false };

function refusal(facts: SandboxFacts): CaissonError {
  try {
    resolveSandboxMode(facts);
  } catch (error) {
    assert.ok(error instanceof CaissonError);
    return error;
  }
  assert.fail(`--sandbox ${facts.requested} was accepted`);
}

describe('resolveSandboxMode', () => {
  test('auto: namespaces as root of the machine, rootless otherwise (re-run only outside a user namespace)', () => {
    assert.deepEqual(resolveSandboxMode({ requested: 'auto', ...MACHINE_ROOT }), { mode: 'namespaces', reason: 'uid 0: mount, pid, ipc, uts namespaces and overlayfs', reexec: false });
    const user = resolveSandboxMode({ requested: 'auto', ...USER });
    assert.equal(user.mode, 'rootless');
    assert.equal(user.reexec, true);
    assert.match(user.reason, /^uid 1000, re-run in a user namespace: the caller mapped to root/);
    const inside = resolveSandboxMode({ requested: 'auto', ...NAMESPACE_ROOT });
    assert.equal(inside.mode, 'rootless');
    assert.equal(inside.reexec, false);
    assert.match(inside.reason, /^uid 0 of a user namespace: /);
  });

  test('namespaces: root of the machine only, else ERR_SANDBOX with a hint', () => {
    assert.equal(resolveSandboxMode({ requested: 'namespaces', ...MACHINE_ROOT }).mode, 'namespaces');
    for (const facts of [USER, NAMESPACE_ROOT]) {
      const error = refusal({ requested: 'namespaces', ...facts });
      assert.equal(error.code, 'ERR_SANDBOX');
      assert.match(error.message, /--sandbox namespaces needs uid 0 of the machine with CAP_SYS_ADMIN; this is uid \d+/);
      assert.match(error.hint ?? '', /--sandbox rootless/);
    }
  });

  test('rootless: everywhere, re-run in a user namespace unless already in one (root of the machine too)', () => {
    for (const [facts, reexec] of [[MACHINE_ROOT, true], [USER, true], [NAMESPACE_ROOT, false]] as const) {
      const decision = resolveSandboxMode({ requested: 'rootless', ...facts });
      assert.equal(decision.mode, 'rootless');
      assert.equal(decision.reexec, reexec);
      assert.match(decision.reason, /^as requested, uid /);
    }
  });

  test('auto without CAP_SYS_ADMIN: rootless where user namespaces can be made, else chroot, else container in caisson\'s image', () => {
    const bare = { ...MACHINE_ROOT, capabilities: { sysAdmin: false, sysChroot: true } };
    const withUserns = resolveSandboxMode({ requested: 'auto', ...bare, canCreateUserNamespace: () => true });
    assert.equal(withUserns.mode, 'rootless');
    assert.match(withUserns.reason, /^uid 0 without CAP_SYS_ADMIN; uid 0, re-run in a user namespace/);
    const noUserns = { ...bare, canCreateUserNamespace: () => false };
    const chroot = resolveSandboxMode({ requested: 'auto', ...noUserns });
    assert.deepEqual([chroot.mode, chroot.reexec], ['chroot', false]);
    assert.match(chroot.reason, /no user namespaces, CAP_SYS_CHROOT: RUN chroot\(2\)ed/);
    const nothing = { ...noUserns, capabilities: { sysAdmin: false, sysChroot: false } };
    const container = resolveSandboxMode({ requested: 'auto', ...nothing, container: () => '/.dockerenv', installedAt: '/caisson/app' });
    assert.equal(container.mode, 'container');
    assert.match(container.reason, /in a container \(\/\.dockerenv\)/);
    // Outside caisson's image, or outside a container, auto never picks container mode (not even with --force).
    for (const facts of [{ ...nothing, container: () => '/.dockerenv', installedAt: '/work/caisson' }, { ...nothing, installedAt: '/caisson/app', force: true }]) {
      const error = refusal({ requested: 'auto', ...facts });
      assert.equal(error.code, 'ERR_SANDBOX');
      assert.match(error.message, /no RUN sandbox is available to uid 0: no CAP_SYS_ADMIN, no user namespaces, no CAP_SYS_CHROOT/);
    }
  });

  test('namespaces: refused to root without CAP_SYS_ADMIN', () => {
    const error = refusal({ requested: 'namespaces', ...MACHINE_ROOT, capabilities: { sysAdmin: false, sysChroot: true } });
    assert.match(error.message, /this is uid 0 without CAP_SYS_ADMIN$/);
  });

  test('chroot: uid 0 with CAP_SYS_CHROOT (of the machine or a user namespace), else ERR_SANDBOX', () => {
    for (const facts of [MACHINE_ROOT, NAMESPACE_ROOT]) {
      const decision = resolveSandboxMode({ requested: 'chroot', ...facts, capabilities: { sysAdmin: false, sysChroot: true } });
      assert.deepEqual([decision.mode, decision.reexec], ['chroot', false]);
    }
    assert.match(refusal({ requested: 'chroot', ...USER }).message, /--sandbox chroot needs uid 0 with CAP_SYS_CHROOT; this is uid 1000$/);
    assert.match(refusal({ requested: 'chroot', ...MACHINE_ROOT, capabilities: { sysAdmin: true, sysChroot: false } }).message, /this is uid 0 without CAP_SYS_CHROOT$/);
  });

  test('container: uid 0, caisson under /caisson, in a container or --force; each refusal says which', () => {
    const image = { ...MACHINE_ROOT, installedAt: '/caisson/app' };
    assert.equal(resolveSandboxMode({ requested: 'container', ...image, container: () => '$KUBERNETES_SERVICE_HOST' }).mode, 'container');
    const forced = resolveSandboxMode({ requested: 'container', ...image, force: true });
    assert.match(forced.reason, /not recognized as a container, --force given/);
    assert.match(refusal({ requested: 'container', ...image, uid: 1000, container: () => '/.dockerenv' }).message, /needs uid 0 .*this is uid 1000/);
    const elsewhere = refusal({ requested: 'container', ...MACHINE_ROOT, installedAt: '/work/main', container: () => '/.dockerenv', force: true });
    assert.match(elsewhere.message, /caisson must run from its own image \(installed under \/caisson\); this caisson runs from \/work\/main/);
    const outside = refusal({ requested: 'container', ...image });
    assert.match(outside.message, /would overwrite this machine's root filesystem/);
    assert.match(outside.hint ?? '', /--force/);
  });

  test("build's --sandbox offers exactly these choices", () => {
    const flag = BUILD_OPTIONS.find((option) => option.name === 'sandbox');
    assert.deepEqual(flag?.choices, SANDBOX_CHOICES);
    assert.equal(flag?.default, 'auto');
  });
});
