/**
 * Content digests of build-context files, remembered across builds by path and stat (inode,
 * size, mtime, ctime), so an unchanged context is not read again. One JSON file per context
 * directory under `<cache-dir>/cache/files/`, written aside and renamed when the build ends, its
 * mtime set again by every build that reads it, so that `cache gc` can drop those of context
 * directories no build used lately. A file changed just before it was hashed is hashed but not
 * remembered (file-stamp.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, type Stats } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { matchesStamp, takeStamp, type FileStamp } from './file-stamp.js';

const READ_CHUNK = 1 << 20;

function recordsDirectory(root: string): string {
  return join(root, 'cache', 'files');
}

/** The records under the cache directory `root`, with their stat. */
async function records(root: string): Promise<{ readonly path: string; readonly bytes: number; readonly mtimeMs: number }[]> {
  const directory = recordsDirectory(root);
  const found = [];
  for (const name of await readdir(directory).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue;
    const stats = await stat(join(directory, name)).catch(() => undefined);
    if (stats?.isFile() === true) found.push({ path: join(directory, name), bytes: stats.size, mtimeMs: stats.mtimeMs });
  }
  return found;
}

/** How many context directories' digests the cache directory `root` remembers, and their bytes. */
export async function fileDigestsUsage(root: string): Promise<{ readonly count: number; readonly bytes: number }> {
  const found = await records(root);
  return { count: found.length, bytes: found.reduce((total, record) => total + record.bytes, 0) };
}

/** Removes the records no build read for `maxAgeMs`. Returns how many. */
export async function collectFileDigests(options: { readonly root: string; readonly maxAgeMs: number; readonly now?: number }): Promise<number> {
  const now = options.now ?? Date.now();
  let removed = 0;
  for (const record of await records(options.root)) {
    if (now - record.mtimeMs < options.maxAgeMs) continue;
    await rm(record.path, { force: true });
    removed += 1;
  }
  return removed;
}

interface Remembered extends FileStamp {
  readonly digest: string;
}

export class FileDigests {
  readonly #file: string;
  #known = new Map<string, Remembered>();
  #changed = false;

  /** `root` is the cache directory; `directory` the context directory whose files are hashed. */
  constructor(options: { readonly root: string; readonly directory: string }) {
    const name = createHash('sha256').update(options.directory).digest('hex');
    this.#file = join(recordsDirectory(options.root), `${name}.json`);
  }

  async load(): Promise<void> {
    const text = await readFile(this.#file, 'utf8').catch(() => undefined);
    if (text === undefined) return;
    const now = new Date();
    await utimes(this.#file, now, now).catch(() => undefined);
    try {
      this.#known = new Map(Object.entries(JSON.parse(text) as Record<string, Remembered>));
    } catch {
      this.#known = new Map();
    }
  }

  /** The sha256 (`sha256:<hex>`) of the file at `path`, whose lstat is `stats`. */
  digest(path: string, stats: Stats): string {
    const known = this.#known.get(path);
    if (matchesStamp(known, stats)) return known.digest;
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(1, stats.size)));
    const fd = openSync(path, 'r');
    try {
      for (;;) {
        const read = readSync(fd, buffer, 0, buffer.length, null);
        if (read === 0) break;
        hash.update(buffer.subarray(0, read));
      }
    } finally {
      closeSync(fd);
    }
    const digest = `sha256:${hash.digest('hex')}`;
    const stamp = takeStamp(stats);
    if (stamp !== undefined) {
      this.#known.set(path, { ...stamp, digest });
      this.#changed = true;
    } else if (known !== undefined) {
      this.#known.delete(path);
      this.#changed = true;
    }
    return digest;
  }

  /** Writes what was learnt, if anything. A failure to write only costs re-reading next time. */
  async save(): Promise<void> {
    if (!this.#changed) return;
    const staging = `${this.#file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(join(this.#file, '..'), { recursive: true });
      await writeFile(staging, JSON.stringify(Object.fromEntries(this.#known)));
      await rename(staging, this.#file);
      this.#changed = false;
    } catch {
      await rm(staging, { force: true });
    }
  }
}
