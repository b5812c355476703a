/**
 * Container mode's root: the machine's own `/`, with what the build must leave alone — caisson's
 * installation, the kernel's and Tekton's directories, every mount point (the pod's volumes,
 * /etc/hosts and resolv.conf, secrets), the cache, the context and the paths the CLI names.
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { IMAGE_INSTALL_ROOT } from '../exec/index.js';
import { DirectoryRoot } from './directory-root.js';

/** Always kept: caisson's image, the kernel's file systems, Tekton's and the workspaces. */
const ALWAYS_KEPT = [IMAGE_INSTALL_ROOT, '/proc', '/sys', '/dev', '/tekton', '/workspace'];

/** The mount points of this process's root, from /proc/self/mountinfo (its 5th field, octal escapes decoded). */
export function mountPoints(mountinfo: string): string[] {
  return mountinfo.split('\n').flatMap((line) => {
    const field = line.split(' ')[4];
    if (field === undefined || field === '') return [];
    return [field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))];
  });
}

/** Absolute paths as the root-relative, clean paths a DirectoryRoot keeps ('/' itself dropped). */
export function relativeKept(paths: readonly string[]): string[] {
  const kept = paths.map((path) => posix.normalize(`/${path}`).replace(/^\/+/, '').replace(/\/+$/, '')).filter((path) => path !== '');
  return [...new Set(kept)].sort();
}

export function machineRoot(options: { readonly keep: readonly string[]; readonly ignore: readonly string[] }): DirectoryRoot {
  const mounts = mountPoints(readFileSync('/proc/self/mountinfo', 'utf8'));
  return new DirectoryRoot({ path: '/', keep: relativeKept([...ALWAYS_KEPT, ...mounts, ...options.keep]), ignore: relativeKept(options.ignore), startsDirty: true });
}
