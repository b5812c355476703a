/**
 * The one-JSON-file-per-thing directories under `<cache-dir>/cache/` (remembered file digests,
 * build records): how much they hold, and removing the files not written or touched lately.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The `*.json` files of `directory` (none when it does not exist), with their size and mtime. */
async function jsonFiles(directory: string): Promise<{ readonly path: string; readonly bytes: number; readonly mtimeMs: number }[]> {
  const found = [];
  for (const name of await readdir(directory).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue;
    const stats = await stat(join(directory, name)).catch(() => undefined);
    if (stats?.isFile() === true) found.push({ path: join(directory, name), bytes: stats.size, mtimeMs: stats.mtimeMs });
  }
  return found;
}

/** How many `*.json` files `directory` holds, and their bytes. */
export async function jsonFilesUsage(directory: string): Promise<{ readonly count: number; readonly bytes: number }> {
  const found = await jsonFiles(directory);
  return { count: found.length, bytes: found.reduce((total, file) => total + file.bytes, 0) };
}

/** Removes the `*.json` files of `directory` whose mtime is `maxAgeMs` or more before `now`. Returns how many. */
export async function collectJsonFiles(options: { readonly directory: string; readonly maxAgeMs: number; readonly now: number }): Promise<number> {
  let removed = 0;
  for (const file of await jsonFiles(options.directory)) {
    if (options.now - file.mtimeMs < options.maxAgeMs) continue;
    await rm(file.path, { force: true });
    removed += 1;
  }
  return removed;
}
