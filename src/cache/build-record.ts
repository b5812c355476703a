/**
 * Build records: what a whole build read and what it made, so that a rebuild with nothing changed
 * is known as one without planning, keying or pushing anything. A record is filed under a name
 * made from the build's request (its command line, working directory, the environment it read,
 * caisson's version: cli/build-record.ts) in `<cache-dir>/cache/builds/`, and holds that request
 * (a record of another request under the same name is not used). It holds the text of each file
 * the build read whole (the Dockerfile, .dockerignore); every other host path it read (each
 * context entry COPY, ADD and RUN bind mounts looked at, and where nothing was) with their stamps
 * (file-stamp.ts: inode, size, mtime, ctime, and the device); the image tags it resolved and their
 * digests; and the digest of the image it wrote. A rebuild of the same request whose files read
 * the same, whose paths stamp the same, whose tags still resolve to those digests and whose
 * destinations still hold that image is that build again. Checking that hashes nothing: a build
 * answered from its record need not load node:crypto (2-3 ms of a 60 ms rebuild).
 *
 * A record is written only when it can vouch for that: every stamped path was last changed longer
 * ago than a clock tick before the build started (a change during the build leaves no record),
 * and every step came from the cache or was stored in it (a step that runs every time, such as
 * ADD of a URL, leaves none). The files read whole are kept as the build read them, so one written
 * just before the build (a generated Dockerfile) does not stop the record. A record is written
 * aside and renamed into place; one that cannot be read is removed with a warning and the build
 * runs.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { takeStamp } from './file-stamp.js';
import { collectJsonFiles, jsonFilesUsage } from './json-files.js';

const RECORD_FORMAT = 'caisson-build-record-v2';

/** A file the build read whole, and what it read (null: there was none). */
export interface RecordedFile {
  readonly path: string;
  readonly text: string | null;
}

/** An image tag the build resolved, and the digest it named then. */
export interface RecordedImage {
  readonly reference: string;
  readonly digest: string;
}

export interface BuildRecord {
  readonly format: typeof RECORD_FORMAT;
  /** The request it answers (its file name is made from it, and may be another's too). */
  readonly request: string;
  /** When the build that wrote it started (RFC 3339). */
  readonly created: string;
  /**
   * When the oldest cache entry the image is made of was stored (RFC 3339): the record answers no
   * longer than --cache-ttl after it, as those entries would then miss and their steps run again.
   */
  readonly oldest: string;
  /** The digest of the image (or index) the build wrote. */
  readonly digest: string;
  /** For an index, the digests of its images: each must still be at the destination. */
  readonly manifests: readonly string[];
  readonly files: readonly RecordedFile[];
  /** Every host path the build read, in the order `stamps` covers them. */
  readonly paths: readonly string[];
  /** The paths' stamps (see `stampPaths`). */
  readonly stamps: string;
  readonly images: readonly RecordedImage[];
}

/**
 * What a build read, told by the build as it reads it (the context tree, the base images, the
 * steps that are not cached). One per build; the CLI makes it and, once the build succeeded,
 * writes a record from it when `unrecordable` is undefined.
 */
export class BuildJournal {
  /** When the build started (ms): a path changed since (or a tick before) makes the record untrustworthy. */
  readonly since: number;
  readonly #paths = new Set<string>();
  readonly #files = new Map<string, string | null>();
  readonly #images = new Map<string, string>();
  #oldest: number;
  #unrecordable: string | undefined;

  constructor(options: { readonly since: number }) {
    this.since = options.since;
    this.#oldest = options.since;
  }

  /** The build read `path` (a file's content, a directory's listing, or that nothing is there). */
  read(path: string): void {
    this.#paths.add(path);
  }

  /** The build read the file `path` whole, and it held `content` (undefined: there was no such file). */
  file(path: string, content: string | undefined): void {
    this.#files.set(path, content ?? null);
  }

  /** A step came from a cache entry stored at `stored` (RFC 3339). */
  cached(stored: string): void {
    const time = Date.parse(stored);
    // An entry whose time cannot be read is one no record can date.
    if (Number.isNaN(time)) this.unrecordable(`a cache entry's stored time ${JSON.stringify(stored)} cannot be read`);
    else this.#oldest = Math.min(this.#oldest, time);
  }

  /** The build resolved the tag `reference` to `digest`. */
  image(reference: string, digest: string): void {
    this.#images.set(reference, digest);
  }

  /** The build did something a record cannot vouch for (the first reason is kept, for the log). */
  unrecordable(reason: string): void {
    this.#unrecordable ??= reason;
  }

  get reason(): string | undefined {
    return this.#unrecordable;
  }

  /** When the oldest cache entry a step came from was stored, or the build started (ms). */
  get oldest(): number {
    return this.#oldest;
  }

  get paths(): readonly string[] {
    return [...this.#paths];
  }

  get files(): readonly RecordedFile[] {
    return [...this.#files].map(([path, text]) => ({ path, text }));
  }

  get images(): readonly RecordedImage[] {
    return [...this.#images].map(([reference, digest]) => ({ reference, digest }));
  }
}

/** The first of `files` that no longer holds what the build read, or undefined. */
export function changedFile(files: readonly RecordedFile[]): string | undefined {
  for (const file of files) {
    let text: string | null = null;
    try {
      text = readFileSync(file.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return file.path;
    }
    if (text !== file.text) return file.path;
  }
  return undefined;
}

const FIELDS = 5;
const ABSENT = -1;
/** Paths stamped between two turns of the event loop: registry answers are taken meanwhile. */
const STAMP_BATCH = 256;

/**
 * The stamps of `paths`, as base64 of their numbers (device, inode, size, mtime, ctime of each, as
 * lstat gives them, 40 bytes a path; a missing path has its own marker): compared whole, not
 * hashed, as hashing would load node:crypto. With `since`: undefined when a path changed
 * within a clock tick of `since` or later, as its stamp then cannot vouch for what was read. The
 * lstat calls are synchronous (the thread pool's would cost more than they take) in batches, with
 * a turn of the event loop between them, so that requests in flight go on meanwhile.
 */
export async function stampPaths(options: { readonly paths: readonly string[]; readonly since?: number }): Promise<string | undefined> {
  const { paths, since } = options;
  const values = new Float64Array(paths.length * FIELDS);
  let filled = 0;
  for (let start = 0; start < paths.length; start += STAMP_BATCH) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    const end = Math.min(start + STAMP_BATCH, paths.length);
    for (let i = start; i < end; i += 1) {
      let stats;
      try {
        stats = lstatSync(paths[i] as string, { throwIfNoEntry: false });
      } catch {
        // A parent that became a file (ENOTDIR), or one that cannot be read: nothing to vouch for.
        return undefined;
      }
      if (stats === undefined) {
        values.fill(ABSENT, filled, filled + FIELDS);
      } else {
        if (since !== undefined && takeStamp(stats, since) === undefined) return undefined;
        values[filled] = stats.dev;
        values[filled + 1] = stats.ino;
        values[filled + 2] = stats.size;
        values[filled + 3] = stats.mtimeMs;
        values[filled + 4] = stats.ctimeMs;
      }
      filled += FIELDS;
    }
  }
  return Buffer.from(values.buffer).toString('base64');
}

function recordsDirectory(cacheDir: string): string {
  return join(cacheDir, 'cache', 'builds');
}

/**
 * The name of the record of `request`: 64 bits of FNV-1a (two 32-bit lanes), in hex. Not a digest
 * to trust: the record holds its request, and one filed for another request is not used.
 */
export function buildRecordName(request: string): string {
  let low = 0x811c9dc5;
  let high = 0xcbf29ce4;
  for (let i = 0; i < request.length; i += 1) {
    const code = request.charCodeAt(i);
    low = Math.imul(low ^ code, 0x01000193);
    high = Math.imul(high ^ code, 0x01000193);
  }
  return [high, low].map((lane) => (lane >>> 0).toString(16).padStart(8, '0')).join('');
}

function recordPath(options: { readonly cacheDir: string; readonly request: string }): string {
  return join(recordsDirectory(options.cacheDir), `${buildRecordName(options.request)}.json`);
}

function isRecord(value: unknown): value is BuildRecord {
  const record = value as Partial<BuildRecord> | null;
  return (
    typeof record === 'object' && record !== null && record.format === RECORD_FORMAT && typeof record.request === 'string' &&
    typeof record.created === 'string' && typeof record.oldest === 'string' && typeof record.digest === 'string' && typeof record.stamps === 'string' &&
    Array.isArray(record.manifests) && record.manifests.every((digest) => typeof digest === 'string') &&
    Array.isArray(record.files) && record.files.every((file: Partial<RecordedFile> | null) => typeof file?.path === 'string' && (typeof file.text === 'string' || file.text === null)) &&
    Array.isArray(record.paths) && record.paths.every((path) => typeof path === 'string') &&
    Array.isArray(record.images) && record.images.every((image: Partial<RecordedImage> | null) => typeof image?.reference === 'string' && typeof image.digest === 'string')
  );
}

/**
 * The record of `request`, unless its oldest cache entry was stored longer than `ttlMs`
 * (--cache-ttl) ago; one that cannot be read as a record is removed, with a warning.
 */
export async function readBuildRecord(options: { readonly cacheDir: string; readonly request: string; readonly ttlMs: number; readonly now: number; readonly logger: Logger }): Promise<BuildRecord | undefined> {
  const path = recordPath(options);
  // Read at once, before anything else is under way: the thread pool's round trip (and, in the
  // front door's bundle, loading node:fs/promises) would cost more than the read.
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!isRecord(value)) {
    options.logger.warn(`build record ${path} is corrupt; removed, the build runs`);
    await rm(path, { force: true });
    return undefined;
  }
  // Another request's record under the same name: the build runs, and files its own.
  if (value.request !== options.request) return undefined;
  const oldest = Date.parse(value.oldest);
  return Number.isNaN(oldest) || options.now - oldest > options.ttlMs ? undefined : value;
}

/** Writes the record of `request` aside and renames it into place. */
export async function writeBuildRecord(options: { readonly cacheDir: string; readonly request: string; readonly record: Omit<BuildRecord, 'format' | 'request'> }): Promise<void> {
  const directory = recordsDirectory(options.cacheDir);
  await mkdir(directory, { recursive: true });
  const staging = join(directory, `.${buildRecordName(options.request)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    // Its owner's alone: it names every context path the build looked at, excluded ones too.
    await writeFile(staging, `${JSON.stringify({ format: RECORD_FORMAT, request: options.request, ...options.record })}\n`, { mode: 0o600 });
    await rename(staging, recordPath(options));
  } catch (error) {
    await rm(staging, { force: true });
    throw error;
  }
}

/** How many build records the cache directory holds, and their bytes. */
export function buildRecordsUsage(cacheDir: string): Promise<{ readonly count: number; readonly bytes: number }> {
  return jsonFilesUsage(recordsDirectory(cacheDir));
}

/** Removes the build records written longer than `maxAgeMs` ago. Returns how many. */
export function collectBuildRecords(options: { readonly cacheDir: string; readonly maxAgeMs: number; readonly now?: number }): Promise<number> {
  return collectJsonFiles({ directory: recordsDirectory(options.cacheDir), maxAgeMs: options.maxAgeMs, now: options.now ?? Date.now() });
}
