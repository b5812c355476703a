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

  test('chroot and container: not implemented yet, a usage error naming what they are for, whoever asks', () => {
    for (const facts of [MACHINE_ROOT, NAMESPACE_ROOT, USER]) {
      const chroot = refusal({ requested: 'chroot', ...facts });
      assert.equal(chroot.code, 'ERR_USAGE');
      assert.equal(chroot.message, '--sandbox chroot is not implemented yet');
      assert.match(chroot.hint ?? '', /CAP_SYS_CHROOT but neither CAP_SYS_ADMIN nor user namespaces/);
      const container = refusal({ requested: 'container', ...facts });
      assert.equal(container.code, 'ERR_USAGE');
      assert.equal(container.message, '--sandbox container is not implemented yet');
      assert.match(container.hint ?? '', /kaniko's model/);
    }
  });

  test("build's --sandbox offers exactly these choices", () => {
    const flag = BUILD_OPTIONS.find((option) => option.name === 'sandbox');
    assert.deepEqual(flag?.choices, SANDBOX_CHOICES);
    assert.equal(flag?.default, 'auto');
  });
});
