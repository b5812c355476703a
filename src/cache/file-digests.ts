/**
 * Content digests of build-context files, remembered across builds by path and stat (inode,
 * size, mtime, ctime), so an unchanged context is not read again. One JSON file per context
 * directory under `<cache-dir>/cache/files/`, written aside and renamed when the build ends, its
 * mtime set again by every build that reads it, so that `cache gc` can drop those of context
 * directories no build used lately. A file changed just before it was hashed is remembered with
 * its digest, but read again next time (file-stamp.ts). A build's journal lists the files whose
 * content differs from what the last build of the directory remembered, for --cache-explain.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';
import { mkdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { matchesStamp, takeStamp, type FileStamp } from './file-stamp.js';
import { collectJsonFiles, jsonFilesUsage } from './json-files.js';

const READ_CHUNK = 1 << 20;

function recordsDirectory(root: string): string {
  return join(root, 'cache', 'files');
}

/** How many context directories' digests the cache directory `root` remembers, and their bytes. */
export function fileDigestsUsage(root: string): Promise<{ readonly count: number; readonly bytes: number }> {
  return jsonFilesUsage(recordsDirectory(root));
}

/** Removes the records no build read for `maxAgeMs`. Returns how many. */
export function collectFileDigests(options: { readonly root: string; readonly maxAgeMs: number; readonly now?: number }): Promise<number> {
  return collectJsonFiles({ directory: recordsDirectory(options.root), maxAgeMs: options.maxAgeMs, now: options.now ?? Date.now() });
}

interface Remembered extends FileStamp {
  readonly digest: string;
  /**
   * Changed too recently for its stat to vouch for its content: hashed again every time, and kept
   * only so that a later build can tell whether the file changed.
   */
  readonly racy?: true;
}

/** A context file whose content is not what the last build of its directory hashed. */
export interface FileChange {
  /** Relative to the context directory. */
  readonly path: string;
  /**
   * `changed`: another digest was remembered; `new`: none was (a new file, or one not read
   * before); `removed`: remembered, and gone.
   */
  readonly kind: 'changed' | 'new' | 'removed';
}

/**
 * What a walk answers for: a directory's whole tree, or, for a wildcard source, the paths under the
 * directory before its first wildcard that the wildcard names (and everything below those).
 */
export interface WalkScope {
  /** Absolute. */
  readonly directory: string;
  /** For a wildcard: whether a path relative to `directory` is, or is under, one it names. */
  readonly includes?: (relative: string) => boolean;
}

function inScope(scope: WalkScope, path: string): boolean {
  return path.startsWith(`${scope.directory}/`) && (scope.includes?.(path.slice(scope.directory.length + 1)) ?? true);
}

export class FileDigests {
  readonly #file: string;
  readonly #directory: string;
  #known = new Map<string, Remembered>();
  #changed = false;
  /** Whether a last build of the directory was remembered: without one, no file can be said to differ. */
  #remembered = false;
  /** This build's changes, by absolute path. */
  readonly #changes = new Map<string, FileChange>();
  readonly #journal: FileChange[] = [];
  /** The files this build digested, and what its walks answer for: save forgets the files gone from those. */
  readonly #seen = new Set<string>();
  readonly #walked: WalkScope[] = [];

  readonly #keep: boolean;

  /**
   * `root` is the cache directory; `directory` the context directory whose files are hashed;
   * `keep` false for a directory that will not be built again (an unpacked tar or git context):
   * nothing is read or written then.
   */
  constructor(options: { readonly root: string; readonly directory: string; readonly keep?: boolean }) {
    const name = createHash('sha256').update(options.directory).digest('hex');
    this.#file = join(recordsDirectory(options.root), `${name}.json`);
    this.#directory = options.directory;
    this.#keep = options.keep ?? true;
  }

  async load(): Promise<void> {
    if (!this.#keep) return;
    const text = await readFile(this.#file, 'utf8').catch(() => undefined);
    if (text === undefined) return;
    const now = new Date();
    await utimes(this.#file, now, now).catch(() => undefined);
    try {
      this.#known = new Map(Object.entries(JSON.parse(text) as Record<string, Remembered>));
      this.#remembered = this.#known.size > 0;
    } catch {
      this.#known = new Map();
    }
  }

  /**
   * Every digest this build asked for of a file that differs from the last build's (a file asked
   * for twice is there twice), in order: a caller takes the part its own walk added, so that
   * --cache-explain can name the files behind a changed source.
   */
  get journal(): readonly FileChange[] {
    return this.#journal;
  }

  /** The sha256 (`sha256:<hex>`) of the file at `path`, whose lstat is `stats`. */
  digest(path: string, stats: Stats): string {
    this.#seen.add(path);
    const known = this.#known.get(path);
    if (known?.racy !== true && matchesStamp(known, stats)) {
      const change = this.#changes.size === 0 ? undefined : this.#changes.get(path);
      if (change !== undefined) this.#journal.push(change);
      return known.digest;
    }
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
    this.#note({ path, digest, known });
    const stamp = takeStamp(stats);
    const entry: Remembered = stamp === undefined ? { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, digest, racy: true } : { ...stamp, digest };
    // A racy file hashed again to the same digest (one dated in the future is racy every time) changes nothing to write.
    if (known === undefined || known.digest !== digest || known.racy !== entry.racy || !matchesStamp(known, stats)) {
      this.#known.set(path, entry);
      this.#changed = true;
    }
    return digest;
  }

  /** A walk read what `scope` holds (less what .dockerignore or --exclude leave out). */
  walked(scope: WalkScope): void {
    this.#walked.push(scope);
  }

  /** The remembered files in `scope` that no longer exist, for --cache-explain: each is looked up, so only a miss asks. */
  removedIn(scope: WalkScope): FileChange[] {
    if (!this.#remembered) return [];
    const removed: FileChange[] = [];
    for (const path of this.#known.keys()) {
      const relative = this.#relative(path);
      if (relative !== undefined && inScope(scope, path) && lstatSync(path, { throwIfNoEntry: false }) === undefined) removed.push({ path: relative, kind: 'removed' });
    }
    return removed;
  }

  /**
   * Forgets the remembered files this build did not read, in a scope it walked, that no longer
   * exist (a file left out by --exclude or .dockerignore is still there, and kept), so that
   * a deleted file is reported once and the record does not keep what the context lost.
   */
  #forgetRemoved(): void {
    if (this.#walked.length === 0 || this.#known.size <= this.#seen.size) return;
    for (const path of this.#known.keys()) {
      if (this.#seen.has(path) || !this.#walked.some((scope) => inScope(scope, path))) continue;
      if (lstatSync(path, { throwIfNoEntry: false }) !== undefined) continue;
      this.#known.delete(path);
      this.#changed = true;
    }
  }

  /** `path` relative to the context directory, or undefined when it is not inside it. */
  #relative(path: string): string | undefined {
    return path.startsWith(`${this.#directory}/`) ? path.slice(this.#directory.length + 1) : undefined;
  }

  #note(options: { readonly path: string; readonly digest: string; readonly known: Remembered | undefined }): void {
    const { path, known } = options;
    const earlier = this.#changes.get(path);
    if (earlier !== undefined) {
      this.#journal.push(earlier);
      return;
    }
    const relative = this.#relative(path);
    if (!this.#remembered || known?.digest === options.digest || relative === undefined) return;
    const change: FileChange = { path: relative, kind: known === undefined ? 'new' : 'changed' };
    this.#changes.set(path, change);
    this.#journal.push(change);
  }

  /** Writes what was learnt, if anything. A failure to write only costs re-reading next time. */
  async save(): Promise<void> {
    if (!this.#keep) return;
    this.#forgetRemoved();
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
