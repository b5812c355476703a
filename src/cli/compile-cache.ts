/**
 * node's compile cache of caisson's own code. bin/caisson.js keeps it in the default cache
 * directory, as node-compile-cache/<node version, arch and V8 flags>/ with one file per module.
 * node writes entries and never removes one, so those of modules an upgrade or a rebuild of
 * caisson renamed, and those of node versions no longer run, would stay for ever. `cache du` counts
 * them; `cache gc` removes those unused for --max-age. An entry's last use is the later of its
 * atime and mtime: under relatime, a read refreshes atime once a day; under noatime an entry in use
 * is removed too, and node writes it again at caisson's next start.
 */
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The directory under the cache directory (bin/caisson.js spells it too). */
export const COMPILE_CACHE_DIRECTORY = 'node-compile-cache';

interface Entry {
  readonly path: string;
  readonly bytes: number;
  readonly usedMs: number;
}

/** The version directories and their entries under the cache directory `root`. */
async function versions(root: string): Promise<{ readonly path: string; readonly entries: Entry[] }[]> {
  const top = join(root, COMPILE_CACHE_DIRECTORY);
  const found = [];
  for (const version of await readdir(top).catch(() => [] as string[])) {
    const path = join(top, version);
    const entries: Entry[] = [];
    for (const name of await readdir(path).catch(() => [] as string[])) {
      const stats = await stat(join(path, name)).catch(() => undefined);
      if (stats?.isFile() === true) entries.push({ path: join(path, name), bytes: stats.size, usedMs: Math.max(stats.atimeMs, stats.mtimeMs) });
    }
    found.push({ path, entries });
  }
  return found;
}

function sum(entries: readonly Entry[]): { readonly count: number; readonly bytes: number } {
  return { count: entries.length, bytes: entries.reduce((total, entry) => total + entry.bytes, 0) };
}

/** How many compiled modules the cache directory `root` holds, and their bytes. */
export async function compileCacheUsage(root: string): Promise<{ readonly count: number; readonly bytes: number }> {
  return sum((await versions(root)).flatMap((version) => version.entries));
}

/** Removes the entries unused for `maxAgeMs`, and the version directories left empty; what it removed. */
export async function collectCompileCache(options: { readonly root: string; readonly maxAgeMs: number; readonly now?: number }): Promise<{ readonly count: number; readonly bytes: number }> {
  const now = options.now ?? Date.now();
  const removed: Entry[] = [];
  for (const version of await versions(options.root)) {
    const stale = version.entries.filter((entry) => now - entry.usedMs >= options.maxAgeMs);
    for (const entry of stale) await rm(entry.path, { force: true });
    removed.push(...stale);
    // Not empty (a node started meanwhile wrote to it): it stays.
    if (stale.length === version.entries.length) await rmdir(version.path).catch(() => undefined);
  }
  return sum(removed);
}
