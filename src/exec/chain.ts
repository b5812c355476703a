/**
 * The words that start a RUN command, in every sandbox: env(1) with exactly the command's
 * environment; as root, setpriv (supplementary groups, gid, Docker's default capability bounding
 * set); then either util-linux `unshare --root --wd` (chroot(2), chdir, and the uid) or, for a
 * command run in place, setpriv's uid too.
 */
import type { HostTools } from './host.js';
import type { SandboxUser } from './types.js';

/** Docker's (and BuildKit's) default capabilities for a container process. */
const DEFAULT_CAPABILITIES = [
  'chown', 'dac_override', 'fsetid', 'fowner', 'mknod', 'net_raw', 'setgid', 'setuid',
  'setfcap', 'setpcap', 'net_bind_service', 'sys_chroot', 'kill', 'audit_write',
];

export interface CommandPrefixOptions {
  readonly tools: HostTools;
  /** `KEY=VALUE` entries: the command's whole environment. */
  readonly env: readonly string[];
  readonly user: SandboxUser;
  /** uid 0 of the machine (any USER can be had); otherwise the user switch is left out. */
  readonly rootful: boolean;
  /** chroot into `root` and chdir to `cwd` (absolute inside it); undefined runs in place. */
  readonly chroot: { readonly root: string; readonly cwd: string } | undefined;
}

/** The words before the command's argv. */
export function commandPrefix(options: CommandPrefixOptions): string[] {
  const { tools, user, chroot } = options;
  const words = [tools.env, '-i', '--', ...options.env];
  if (options.rootful) {
    const groups = user.additionalGids.length > 0 ? `--groups=${user.additionalGids.join(',')}` : '--clear-groups';
    words.push(tools.setpriv, `--bounding-set=-all,${DEFAULT_CAPABILITIES.map((cap) => `+${cap}`).join(',')}`, `--regid=${user.gid}`, groups);
    if (chroot === undefined) words.push(`--reuid=${user.uid}`);
    words.push('--');
  }
  if (chroot !== undefined) {
    words.push(tools.unshare, `--root=${chroot.root}`, `--wd=${chroot.cwd}`);
    if (options.rootful && user.uid !== 0) words.push(`--setuid=${user.uid}`);
    words.push('--');
  }
  return words;
}
