/**
 * `caisson build --sandbox`: the facts about this process (uid, user namespace, capabilities,
 * whether user namespaces can be made, whether this is a container, where caisson is installed)
 * given to exec/sandbox-mode.ts's resolution. The build asks once it knows it builds (not for a
 * rebuild answered from its build record), logs the answer, and when it says so has itself re-run
 * in a user namespace (`reexecInUserNamespace`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolveSandboxMode, type SandboxChoice, type SandboxDecision, type SandboxFacts } from '../exec/index.js';
import { initialUserNamespace } from '../fs/index.js';
import type { ParsedArgs } from './spec.js';

const CAP_SYS_CHROOT = 18n;
const CAP_SYS_ADMIN = 21n;

/** The effective capabilities that decide between sandboxes, from /proc/self/status. */
function capabilities(): NonNullable<SandboxFacts['capabilities']> {
  const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  const effective = BigInt(`0x${line?.[1] ?? '0'}`);
  return { sysAdmin: ((effective >> CAP_SYS_ADMIN) & 1n) === 1n, sysChroot: ((effective >> CAP_SYS_CHROOT) & 1n) === 1n };
}

/** Why this process looks like it runs in a container, or undefined. */
export function containerEvidence(env: Readonly<Record<string, string | undefined>>): string | undefined {
  for (const marker of ['/.dockerenv', '/run/.containerenv']) if (existsSync(marker)) return marker;
  if ((env['container'] ?? '') !== '') return `$container=${env['container'] ?? ''}`;
  if ((env['KUBERNETES_SERVICE_HOST'] ?? '') !== '') return '$KUBERNETES_SERVICE_HOST';
  try {
    const runtime = /\b(docker|kubepods|containerd|libpod|lxc)\b/.exec(readFileSync('/proc/1/cgroup', 'utf8'));
    if (runtime !== null) return `/proc/1/cgroup names ${runtime[1] ?? ''}`;
  } catch {
    // No /proc: nothing more to tell.
  }
  return undefined;
}

/** The package root caisson runs from (dist/src/cli/ is three levels down). */
function installedAt(): string {
  return fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');
}

/** The sandbox `--sandbox` means for this process; throws the CaissonError when it cannot be had. */
export function sandboxDecision(args: ParsedArgs, env: Readonly<Record<string, string | undefined>> = process.env): SandboxDecision {
  return resolveSandboxMode({
    requested: (args.string('sandbox') ?? 'auto') as SandboxChoice,
    uid: process.getuid?.() ?? 0,
    userNamespace: !initialUserNamespace(),
    capabilities: capabilities(),
    canCreateUserNamespace: () => process.getBuiltinModule('node:child_process').spawnSync('unshare', ['--user', '--map-root-user', 'true'], { stdio: 'ignore' }).status === 0,
    container: () => containerEvidence(env),
    installedAt: installedAt(),
    force: args.bool('force'),
  });
}
