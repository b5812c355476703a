/**
 * Content digests of build-context files, remembered across builds by path and stat (inode,
 * size, mtime, ctime), so an unchanged context is not read again. One JSON file per context
 * directory under `<cache-dir>/cache/files/`, written aside and renamed when the build ends.
 * A file changed just before it was hashed is hashed but not remembered (file-stamp.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, type Stats } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { matchesStamp, takeStamp, type FileStamp } from './file-stamp.js';

const READ_CHUNK = 1 << 20;

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
    this.#file = join(options.root, 'cache', 'files', `${name}.json`);
  }

  async load(): Promise<void> {
    const text = await readFile(this.#file, 'utf8').catch(() => undefined);
    if (text === undefined) return;
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
