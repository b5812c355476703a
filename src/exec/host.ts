/**
 * What the sandbox takes from the host: the util-linux and coreutils programs it runs (found on
 * the host's PATH once per run) and the generated /etc/hosts, /etc/resolv.conf and /etc/hostname.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { CaissonError } from '../errors.js';

/** BuildKit's sandbox hostname. */
export const DEFAULT_HOSTNAME = 'buildkitsandbox';

/** The PATH the sandbox's own programs are looked up in when the host has none. */
export const DEFAULT_HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface HostTools {
  readonly unshare: string;
  readonly setpriv: string;
  readonly env: string;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findTool(options: { readonly name: string; readonly path: string; readonly debianPackage: string; readonly why: string }): string {
  for (const dir of options.path.split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, options.name);
    if (executable(candidate)) return candidate;
  }
  throw new CaissonError({
    code: 'ERR_SANDBOX',
    message: `RUN sandbox: ${options.name} is not on the host's PATH`,
    hint: `install it (Debian: apt-get install ${options.debianPackage}); ${options.why}`,
  });
}

const SANDBOX = 'the sandbox runs RUN steps with util-linux unshare and setpriv';
/** What overlayfs writes is only visible through xattrs; attr's tools are checked before the step runs, not after. */
const XATTRS = "caisson reads a RUN step's changes (opaque directories, file capabilities) with getfattr and setfattr";

/** The host's /bin/sh, which runs the namespace sandbox's set-up script. */
export function hostShell(): string {
  if (!executable('/bin/sh')) {
    throw new CaissonError({ code: 'ERR_SANDBOX', message: 'RUN sandbox: the host has no /bin/sh', hint: 'the sandbox set-up script runs with the host shell' });
  }
  return '/bin/sh';
}

/** The host programs the sandbox runs, by absolute path. */
export function findHostTools(hostPath: string): HostTools {
  findTool({ name: 'getfattr', path: hostPath, debianPackage: 'attr', why: XATTRS });
  findTool({ name: 'setfattr', path: hostPath, debianPackage: 'attr', why: XATTRS });
  return {
    unshare: findTool({ name: 'unshare', path: hostPath, debianPackage: 'util-linux', why: SANDBOX }),
    setpriv: findTool({ name: 'setpriv', path: hostPath, debianPackage: 'util-linux', why: SANDBOX }),
    env: findTool({ name: 'env', path: hostPath, debianPackage: 'coreutils', why: SANDBOX }),
  };
}

/** The files a RUN step gets in /etc (bound by the namespace sandbox, written by the chroot one), by name. */
export function etcFiles(hostname: string): readonly (readonly [name: string, content: string])[] {
  return [['hosts', hostsFile(hostname)], ['resolv.conf', resolvConf()], ['hostname', `${hostname}\n`]];
}

/** BuildKit's hosts file for the sandbox. */
function hostsFile(hostname: string): string {
  return `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
}

/** The host's /etc/resolv.conf, or an empty file when it has none. */
function resolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}
