/**
 * Test helper (never a test itself): busybox root filesystems for the sandbox tests, and the
 * host-side checks every sandbox test ends with (no mount left under its directory, no process
 * left with a command line it chose).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BUSYBOX = '/bin/busybox';

const APPLETS = [
  'sh', 'echo', 'cat', 'ls', 'id', 'sleep', 'touch', 'mkdir', 'env', 'pwd', 'rm', 'wc', 'grep',
  'hostname', 'printf', 'true', 'false', 'test', 'stat', 'readlink', 'chmod', 'head', 'tr',
];

/** Why the sandbox tests cannot run here, or undefined. */
export function sandboxSkip(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs uid 0 (mount namespaces, overlayfs, chroot and the user switch as root)';
  try {
    readFileSync(BUSYBOX);
  } catch {
    return `needs ${BUSYBOX} (Debian package busybox-static); npm test installs it when run as root`;
  }
  return undefined;
}

/** A root filesystem of busybox and its applets under `dir` (bin/ only, unless `etc` is given). */
export function busyboxRootfs(dir: string, options: { readonly etc?: Readonly<Record<string, string>> } = {}): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'bin', 'busybox'));
  for (const applet of APPLETS) symlinkSync('busybox', join(dir, 'bin', applet));
  if (options.etc !== undefined) {
    mkdirSync(join(dir, 'etc'));
    for (const [name, content] of Object.entries(options.etc)) writeFileSync(join(dir, 'etc', name), content);
  }
  return dir;
}

/** Every path under `dir`, relative, sorted (directories included). */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      out.push(path);
      if (entry.isDirectory()) walk(path);
    }
  };
  walk('');
  return out.sort();
}

/** Host mounts whose mountpoint or root lies under `dir`. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(dir));
}

/** Host pids whose command line is exactly `line` (arguments joined by spaces). */
export function processesWith(line: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0$/, '').split('\0').join(' ');
      if (cmdline === line) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
