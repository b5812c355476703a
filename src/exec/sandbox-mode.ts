/**
 * `--sandbox`: which RUN sandbox a build uses, decided once from the flag and a few facts about
 * the process, with the reason the build logs. Pure: the caller gathers the facts (bin/caisson.js
 * through the CLI, which re-runs the build in a user namespace when `reexec` says so).
 *
 * - `namespaces`: uid 0 of the machine: mount, pid, ipc, uts (and net) namespaces and overlayfs.
 * - `rootless`: a user namespace mapping the caller to root; RUN nests its namespaces in it and
 *   mounts overlay with `userxattr`. Also accepted as root of the machine (the build is re-run in
 *   a user namespace all the same), for pods that run as root without CAP_SYS_ADMIN.
 * - `chroot`, `container`: planned (issue 8), refused until they exist: never a silent fallback.
 */
import { CaissonError } from '../errors.js';

/** What `--sandbox` accepts. */
export const SANDBOX_CHOICES = ['auto', 'namespaces', 'rootless', 'chroot', 'container'] as const;

export type SandboxChoice = (typeof SANDBOX_CHOICES)[number];

/** The sandboxes caisson has today. */
export type SandboxMode = 'namespaces' | 'rootless';

/** What the decision depends on. */
export interface SandboxFacts {
  readonly requested: SandboxChoice;
  /** The process's uid (in its own user namespace). */
  readonly uid: number;
  /** The process is in a user namespace other than the machine's (its uid map is not the identity). */
  readonly userNamespace: boolean;
}

export interface SandboxDecision {
  readonly mode: SandboxMode;
  /** Why, for the log: `sandbox: <mode> (<reason>)`. */
  readonly reason: string;
  /** The build must be re-run in a new user namespace first (bin/caisson.js does it with unshare). */
  readonly reexec: boolean;
}

const NAMESPACES_ISOLATION = 'mount, pid, ipc, uts namespaces and overlayfs';
const ROOTLESS_ISOLATION = 'the caller mapped to root; nested mount, pid, ipc, uts namespaces and overlayfs with userxattr';

function rootless(facts: SandboxFacts, why: string): SandboxDecision {
  const where = facts.userNamespace ? `uid ${facts.uid} of a user namespace` : `uid ${facts.uid}, re-run in a user namespace`;
  return { mode: 'rootless', reason: `${why}${where}: ${ROOTLESS_ISOLATION}`, reexec: !facts.userNamespace };
}

/** The sandbox `facts.requested` means here, or the CaissonError saying why it cannot be had. */
export function resolveSandboxMode(facts: SandboxFacts): SandboxDecision {
  const machineRoot = facts.uid === 0 && !facts.userNamespace;
  switch (facts.requested) {
    case 'auto':
      return machineRoot ? { mode: 'namespaces', reason: `uid 0: ${NAMESPACES_ISOLATION}`, reexec: false } : rootless(facts, '');
    case 'namespaces':
      if (machineRoot) return { mode: 'namespaces', reason: `uid 0, as requested: ${NAMESPACES_ISOLATION}`, reexec: false };
      throw new CaissonError({
        code: 'ERR_SANDBOX',
        message: `--sandbox namespaces needs uid 0 of the machine with CAP_SYS_ADMIN; this is uid ${facts.uid}${facts.userNamespace ? ' of a user namespace' : ''}`,
        hint: 'Run caisson as root, or use --sandbox rootless (or auto) to build in a user namespace.',
      });
    case 'rootless':
      return rootless(facts, 'as requested, ');
    case 'chroot':
      throw new CaissonError({
        code: 'ERR_USAGE',
        message: '--sandbox chroot is not implemented yet',
        hint: 'It is planned for pods with CAP_SYS_CHROOT but neither CAP_SYS_ADMIN nor user namespaces. Use --sandbox auto, namespaces (root) or rootless (user namespaces).',
      });
    case 'container':
      throw new CaissonError({
        code: 'ERR_USAGE',
        message: '--sandbox container is not implemented yet',
        hint: "It is planned for pods with neither privileges nor user namespaces (kaniko's model: RUN in the build's own container). Use --sandbox auto, namespaces (root) or rootless (user namespaces).",
      });
  }
}
