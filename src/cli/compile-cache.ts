/**
 * node's compile cache of caisson's own code. bin/caisson.js keeps it in the default cache
 * directory, as node-compile-cache/<node version, arch and V8 flags>/ with one file per module.
 * node writes entries and never removes one, so those of modules an upgrade or a rebuild of
 * caisson renamed, and those of node versions no longer run, would stay for ever. `cache du` counts
 * them; `cache gc` removes those unused for --max-age. An entry's last use is the later of its
 * atime and mtime: under relatime, a read refreshes atime once a day; under noatime an entry in use
 * is removed too, and node writes it again at caisson's next start. Only regular files in real
 * directories are counted or removed: a symlink is never followed.
 */
import { lstat, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The directory under the cache directory (bin/caisson.js spells it too). */
export const COMPILE_CACHE_DIRECTORY = 'node-compile-cache';

interface Entry {
  readonly path: string;
  readonly bytes: number;
  readonly usedMs: number;
}

interface Version {
  readonly path: string;
  /** The directory's own mtime: when an entry was last added or removed. */
  readonly changedMs: number;
  readonly entries: Entry[];
}

/** The version directories and their entries under the cache directory `root`. */
async function versions(root: string): Promise<Version[]> {
  const top = join(root, COMPILE_CACHE_DIRECTORY);
  const found: Version[] = [];
  for (const version of await readdir(top, { withFileTypes: true }).catch(() => [])) {
    if (!version.isDirectory()) continue;
    const path = join(top, version.name);
    const stats = await lstat(path).catch(() => undefined);
    if (stats === undefined) continue;
    const entries: Entry[] = [];
    for (const name of await readdir(path).catch(() => [] as string[])) {
      const entry = await lstat(join(path, name)).catch(() => undefined);
      if (entry?.isFile() === true) entries.push({ path: join(path, name), bytes: entry.size, usedMs: Math.max(entry.atimeMs, entry.mtimeMs) });
    }
    found.push({ path, changedMs: stats.mtimeMs, entries });
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

/**
 * Removes the entries unused for `maxAgeMs` (one it may not remove stays), and a version directory
 * left empty that nothing was added to for as long: node makes the directory when caisson starts
 * and writes its entries when caisson ends, so a new one is empty while its first caisson runs.
 * Returns what it removed.
 */
export async function collectCompileCache(options: { readonly root: string; readonly maxAgeMs: number; readonly now?: number }): Promise<{ readonly count: number; readonly bytes: number }> {
  const now = options.now ?? Date.now();
  const removed: Entry[] = [];
  for (const version of await versions(options.root)) {
    const stale = version.entries.filter((entry) => now - entry.usedMs >= options.maxAgeMs);
    for (const entry of stale) {
      if (await rm(entry.path).then(() => true, () => false)) removed.push(entry);
    }
    // rmdir refuses a directory a node wrote to meanwhile.
    if (stale.length === version.entries.length && now - version.changedMs >= options.maxAgeMs) await rmdir(version.path).catch(() => undefined);
  }
  return sum(removed);
}
