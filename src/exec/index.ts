/**
 * exec: running a Dockerfile RUN command. `runInSandbox` runs one command in a namespace sandbox
 * (util-linux unshare: new mount, pid, ipc, uts and, for network none, net namespaces; a user
 * namespace when caisson is not root of the machine) on an overlay or directory rootfs, with
 * /proc, a minimal /dev, /sys, generated /etc/hosts, resolv.conf and hostname, RUN --mount
 * extras, chroot and the USER's credentials; it resolves with the command's exit status, cleans
 * the mount stubs out of the rootfs and leaves no process or mount behind. `resolveUser` turns a
 * USER spec into ids with BuildKit's semantics; `lookupId` finds a name's id in passwd or group
 * text. `resolveSandboxMode` turns `--sandbox` and the process's uid and user namespace into the
 * sandbox a build uses (or the error saying why it cannot be had).
 *
 * `runDirect` runs one command without namespaces (chroot(2) into a directory root, or in place
 * in container mode) as the leader of a process group that is killed when it ends.
 *
 * Exports: runInSandbox, runDirect, CHROOT_UNCAPTURED, SECRET_ENV_NAME, IMAGE_INSTALL_ROOT, resolveUser, lookupId, resolveSandboxMode and their option/result types.
 * May import: ../errors.js, ../log.js.
 */
export { runInSandbox } from './sandbox.js';
export { CHROOT_UNCAPTURED, runDirect, type RunDirectOptions } from './direct.js';
export { SECRET_ENV_NAME } from './run-checks.js';
export { IMAGE_INSTALL_ROOT, resolveSandboxMode, SANDBOX_CHOICES, type SandboxChoice, type SandboxDecision, type SandboxFacts, type SandboxMode } from './sandbox-mode.js';
export { lookupId, resolveUser, type ResolveUserOptions } from './user.js';
export type { RunInSandboxOptions, SandboxMount, SandboxResult, SandboxRootfs, SandboxUser } from './types.js';
