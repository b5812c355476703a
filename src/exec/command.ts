/**
 * Finding the command in the rootfs before it is exec'd, through the PATH of its own environment
 * (glibc's default when it has none), so a missing one exits 127 with a clear message instead of a
 * message from the sandbox's tools.
 */
import { posix } from 'node:path';
import { lookupInRoot, type RootEntry } from './root-path.js';

/** glibc's execvp search path when PATH is unset. */
const DEFAULT_PATH = '/bin:/usr/bin';

function lookup(root: string, path: string): RootEntry | undefined {
  try {
    return lookupInRoot({ root, path, what: 'command' });
  } catch {
    return undefined;
  }
}

function isExecutableFile(entry: RootEntry | undefined): boolean {
  return entry !== undefined && entry.stats.isFile() && (entry.stats.mode & 0o111) !== 0;
}

/** The value of the last `name=` entry (what `env` leaves in effect). */
export function envValue(env: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (const entry of env) {
    if (entry.startsWith(`${name}=`)) value = entry.slice(name.length + 1);
  }
  return value;
}

/** Why `name` cannot be exec'd in the rootfs at `root` (a message for stderr), or undefined. */
export function commandNotFound(options: { readonly root: string; readonly name: string; readonly env: readonly string[]; readonly cwd: string }): string | undefined {
  const { root, name, cwd } = options;
  if (name.includes('/')) {
    const path = name.startsWith('/') ? name : posix.join(cwd, name);
    return lookup(root, path) === undefined ? `exec: "${name}": stat ${name}: no such file or directory` : undefined;
  }
  if (name !== '') {
    for (const dir of (envValue(options.env, 'PATH') ?? DEFAULT_PATH).split(':')) {
      const base = dir === '' ? '.' : dir;
      const path = base.startsWith('/') ? posix.join(base, name) : posix.join(cwd, base, name);
      if (isExecutableFile(lookup(root, path))) return undefined;
    }
  }
  return `exec: "${name}": executable file not found in $PATH`;
}
