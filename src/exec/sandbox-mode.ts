/**
 * `--sandbox`: which RUN sandbox a build uses, decided once from the flag and a few facts about
 * the process, with the reason the build logs. Pure: the caller gathers the facts (bin/caisson.js
 * through the CLI, which re-runs the build in a user namespace when `reexec` says so).
 *
 * - `namespaces`: uid 0 of the machine with CAP_SYS_ADMIN: mount, pid, ipc, uts (and net)
 *   namespaces and overlayfs.
 * - `rootless`: a user namespace mapping the caller to root; RUN nests its namespaces in it and
 *   mounts overlay with `userxattr`. Also accepted as root of the machine (the build is re-run in
 *   a user namespace all the same), for pods that run as root without CAP_SYS_ADMIN.
 * - `chroot`: uid 0 with CAP_SYS_CHROOT and nothing more: each stage's root is a plain directory
 *   under the cache directory, RUN is chroot(2)ed into it, snapshots walk it.
 * - `container`: kaniko's model, for pods with neither: the pod's own root is the build's root.
 *   Only from caisson's image (caisson under /caisson, which the build never touches) and only in
 *   a container, unless `--force`.
 */
import { CaissonError } from '../errors.js';

/** What `--sandbox` accepts. */
export const SANDBOX_CHOICES = ['auto', 'namespaces', 'rootless', 'chroot', 'container'] as const;

export type SandboxChoice = (typeof SANDBOX_CHOICES)[number];

/** The sandboxes caisson has. */
export type SandboxMode = Exclude<SandboxChoice, 'auto'>;

/** Where caisson's image installs caisson; container mode runs only from there. */
export const IMAGE_INSTALL_ROOT = '/caisson';

/** What the decision depends on. */
export interface SandboxFacts {
  readonly requested: SandboxChoice;
  /** The process's uid (in its own user namespace). */
  readonly uid: number;
  /** The process is in a user namespace other than the machine's (its uid map is not the identity). */
  readonly userNamespace: boolean;
  /** Effective capabilities that matter (default: all, as uid 0 of the machine usually has). */
  readonly capabilities?: { readonly sysAdmin: boolean; readonly sysChroot: boolean };
  /** Whether util-linux unshare can make a user namespace here (asked only when needed; default yes). */
  readonly canCreateUserNamespace?: () => boolean;
  /** Why this looks like a container (`/.dockerenv`, …), or undefined when it does not (asked only for container mode). */
  readonly container?: () => string | undefined;
  /** The directory caisson runs from (its package root). */
  readonly installedAt?: string;
  /** `--force`: container mode outside a container. */
  readonly force?: boolean;
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
const CHROOT_ISOLATION = 'RUN chroot(2)ed into a directory root, no namespaces, walk snapshots';
const CONTAINER_ISOLATION = "RUN in this container's own root filesystem, no isolation from caisson (kaniko's model), walk snapshots";

function unavailable(message: string, hint: string): CaissonError {
  return new CaissonError({ code: 'ERR_SANDBOX', message, hint });
}

function rootless(facts: SandboxFacts, why: string): SandboxDecision {
  const where = facts.userNamespace ? `uid ${facts.uid} of a user namespace` : `uid ${facts.uid}, re-run in a user namespace`;
  return { mode: 'rootless', reason: `${why}${where}: ${ROOTLESS_ISOLATION}`, reexec: !facts.userNamespace };
}

function installedInImage(facts: SandboxFacts): boolean {
  const at = facts.installedAt ?? '';
  return at === IMAGE_INSTALL_ROOT || at.startsWith(`${IMAGE_INSTALL_ROOT}/`);
}

/** Why container mode cannot be had here, or undefined when it can. */
function containerRefusal(facts: SandboxFacts, evidence: string | undefined): CaissonError | undefined {
  if (facts.uid !== 0) {
    return unavailable(`--sandbox container needs uid 0 (the build writes the whole root filesystem); this is uid ${facts.uid}`, 'Run the step as root (securityContext runAsUser: 0), or use --sandbox rootless where user namespaces are allowed.');
  }
  if (!installedInImage(facts)) {
    return unavailable(
      `--sandbox container replaces the root filesystem, so caisson must run from its own image (installed under ${IMAGE_INSTALL_ROOT}); this caisson runs from ${facts.installedAt ?? 'an unknown directory'}`,
      'Run the build in caisson\'s image (the repository\'s Dockerfile), or use --sandbox namespaces, rootless or chroot, which build in a directory of their own.',
    );
  }
  if (evidence === undefined && facts.force !== true) {
    return unavailable(
      '--sandbox container would overwrite this machine\'s root filesystem: caisson does not seem to run in a container (no /.dockerenv, /run/.containerenv, $container, $KUBERNETES_SERVICE_HOST or container cgroup)',
      'Run it in a container; if this is one that caisson does not recognize, add --force.',
    );
  }
  return undefined;
}

function containerDecision(why: string, evidence: string | undefined): SandboxDecision {
  const where = evidence === undefined ? 'not recognized as a container, --force given' : `in a container (${evidence})`;
  return { mode: 'container', reason: `${why}${where}: ${CONTAINER_ISOLATION}`, reexec: false };
}

/** The sandbox `facts.requested` means here, or the CaissonError saying why it cannot be had. */
export function resolveSandboxMode(facts: SandboxFacts): SandboxDecision {
  const capabilities = facts.capabilities ?? { sysAdmin: true, sysChroot: true };
  const machineRoot = facts.uid === 0 && !facts.userNamespace;
  const canUserNamespace = (): boolean => facts.canCreateUserNamespace?.() ?? true;
  switch (facts.requested) {
    case 'auto': {
      if (machineRoot && capabilities.sysAdmin) return { mode: 'namespaces', reason: `uid 0: ${NAMESPACES_ISOLATION}`, reexec: false };
      const lacking = machineRoot ? 'uid 0 without CAP_SYS_ADMIN; ' : '';
      if (facts.userNamespace || canUserNamespace()) return rootless(facts, lacking);
      const noUserNamespace = `${lacking}no user namespaces`;
      if (facts.uid === 0 && capabilities.sysChroot) return { mode: 'chroot', reason: `${noUserNamespace}, CAP_SYS_CHROOT: ${CHROOT_ISOLATION}`, reexec: false };
      const evidence = facts.container?.();
      if (containerRefusal({ ...facts, force: false }, evidence) === undefined) return containerDecision(`${noUserNamespace}, no CAP_SYS_CHROOT; `, evidence);
      throw unavailable(
        `no RUN sandbox is available to uid ${facts.uid}: no CAP_SYS_ADMIN, no user namespaces${facts.uid === 0 ? ', no CAP_SYS_CHROOT, and not caisson\'s image in a container' : ''}`,
        'Allow user namespaces (the rootless sandbox), run as root with CAP_SYS_CHROOT (--sandbox chroot), or run caisson\'s image as root in a container (--sandbox container). A Dockerfile without RUN builds with any of them.',
      );
    }
    case 'namespaces':
      if (machineRoot && capabilities.sysAdmin) return { mode: 'namespaces', reason: `uid 0, as requested: ${NAMESPACES_ISOLATION}`, reexec: false };
      throw unavailable(
        `--sandbox namespaces needs uid 0 of the machine with CAP_SYS_ADMIN; this is uid ${facts.uid}${facts.userNamespace ? ' of a user namespace' : ''}${machineRoot ? ' without CAP_SYS_ADMIN' : ''}`,
        'Run caisson as root, or use --sandbox rootless (or auto) to build in a user namespace.',
      );
    case 'rootless':
      return rootless(facts, 'as requested, ');
    case 'chroot':
      if (facts.uid === 0 && capabilities.sysChroot) return { mode: 'chroot', reason: `as requested, uid 0 with CAP_SYS_CHROOT: ${CHROOT_ISOLATION}`, reexec: false };
      throw unavailable(
        `--sandbox chroot needs uid 0 with CAP_SYS_CHROOT; this is uid ${facts.uid}${facts.uid === 0 ? ' without CAP_SYS_CHROOT' : ''}`,
        'Run the step as root with CAP_SYS_CHROOT (in Docker\'s and containerd\'s default set), or use --sandbox rootless where user namespaces are allowed.',
      );
    case 'container': {
      const evidence = facts.container?.();
      const refused = containerRefusal(facts, evidence);
      if (refused !== undefined) throw refused;
      return containerDecision('as requested, ', evidence);
    }
  }
}
