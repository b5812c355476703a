/**
 * The local cache: one small JSON file per key under `<cache-dir>/cache/entries/`, pointing at a
 * layer blob in the layer store (`<cache-dir>/blobs/`). An entry is written aside and renamed into
 * place, so a killed build leaves none half-written. A hit's blob must be intact: its stat stamp
 * (file-stamp.ts) as the entry recorded it when the blob was written or last read back, or else it
 * is read back and checked against its digest. A corrupt blob or entry is evicted with a warning,
 * and the step simply runs again. A warm rebuild thus reads no blob, however large its layers.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CaissonError } from '../errors.js';
import { BLOB_STREAM_BUFFER, digestStream, type Digest } from '../image/index.js';
import type { Logger } from '../log.js';
import { isExpired, parseEntry, type CacheEntry, type CacheHit, type CacheStore, type LookupOptions, type SaveOptions } from './entry.js';
import { isStamp, matchesStamp, takeStamp, type FileStamp } from './file-stamp.js';
import { compareInputs, type CacheInputs, type InputDifference } from './key.js';

export interface LocalCacheOptions {
  /** The cache directory (`--cache-dir`). */
  readonly root: string;
  /** The layer store's blobs (a LayerStore). */
  readonly blobs: CacheBlobs;
  readonly logger: Logger;
}

/** What the local cache asks of the layer store's blobs. */
export interface CacheBlobs {
  blobPath(digest: Digest): string;
  /** The blob's path when the store has it, marked used at `now` (its mtime, at most hourly); else undefined. */
  useBlob(digest: Digest, now?: number): Promise<string | undefined>;
}

/** The stored entry closest to a step that missed, and how its inputs differ. */
export interface NearestEntry {
  readonly entry: CacheEntry;
  readonly differences: readonly InputDifference[];
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/** An entry as the local store keeps it: with its blob's stamp when the blob was last known intact. */
interface StoredEntry {
  readonly entry: CacheEntry;
  readonly blob: FileStamp | undefined;
}

export class LocalCache implements CacheStore {
  readonly name = 'local';
  readonly #options: LocalCacheOptions;
  /** Entries saved by this build whose blob was too new to stamp. */
  readonly #unsealed: CacheEntry[] = [];

  constructor(options: LocalCacheOptions) {
    this.#options = options;
  }

  get #entries(): string {
    return join(this.#options.root, 'cache', 'entries');
  }

  #path(key: string): string {
    return join(this.#entries, `${key}.json`);
  }

  async #read(key: string): Promise<StoredEntry | undefined> {
    const path = this.#path(key);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    try {
      const { blob, ...entry } = parseEntry({ value: JSON.parse(text), key, what: `cache entry ${path}` }) as CacheEntry & { readonly blob?: unknown };
      return { entry, blob: isStamp(blob) ? blob : undefined };
    } catch (error) {
      const detail = error instanceof CaissonError ? error.message : `cache entry ${path}: not JSON`;
      this.#options.logger.warn(`${detail}; evicted, the step runs again`);
      await rm(path, { force: true });
      return undefined;
    }
  }

  /** Writes an entry aside and renames it into place. */
  async #write(stored: StoredEntry): Promise<void> {
    await mkdir(this.#entries, { recursive: true });
    const { key } = stored.entry;
    const staging = join(this.#entries, `.${key}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    try {
      await writeFile(staging, `${JSON.stringify({ ...stored.entry, ...(stored.blob === undefined ? {} : { blob: stored.blob }) })}\n`);
      await rename(staging, this.#path(key));
    } catch (error) {
      await rm(staging, { force: true });
      throw error;
    }
  }

  /** The stamp of the entry's blob now, when it can be had (see file-stamp.ts). */
  async #stamp(entry: CacheEntry): Promise<FileStamp | undefined> {
    if (entry.layer === undefined) return undefined;
    const stats = await stat(this.#options.blobs.blobPath(entry.layer.descriptor.digest)).catch(() => undefined);
    return stats === undefined ? undefined : takeStamp(stats);
  }

  async lookup(options: LookupOptions): Promise<CacheHit | undefined> {
    const stored = await this.#read(options.key);
    if (stored === undefined || isExpired({ stored: stored.entry.stored, ttlMs: options.ttlMs, now: options.now })) return undefined;
    const { entry } = stored;
    const touch = new Date(options.now);
    await utimes(this.#path(options.key), touch, touch).catch(() => undefined);
    if (entry.layer === undefined) return { entry, from: this.name };
    const { descriptor } = entry.layer;
    const found = await this.#check({ digest: descriptor.digest, size: descriptor.size, stamp: stored.blob, now: options.now });
    if (found === 'missing') {
      // gc removed the blob: the entry is useless.
      await rm(this.#path(options.key), { force: true });
      return undefined;
    }
    if (typeof found === 'string') {
      this.#options.logger.warn(`cache entry ${options.key.slice(0, 12)}: layer blob ${descriptor.digest} is corrupt (${found}); evicted, the step runs again`);
      await Promise.all([rm(this.#options.blobs.blobPath(descriptor.digest), { force: true }), rm(this.#path(options.key), { force: true })]);
      return undefined;
    }
    // Read back and found intact: the next hit need not read it. Failing to say so costs only that.
    if (found.stamp !== undefined && found.stamp !== stored.blob) await this.#write({ entry, blob: found.stamp }).catch(() => undefined);
    return { entry, blob: { kind: 'file', path: found.path }, from: this.name };
  }

  /**
   * Whether a hit's blob is intact: `{ path, stamp }` (its stamp now, when one can be taken),
   * 'missing', or what is wrong with it. The store marks it used; an unchanged stamp is enough,
   * otherwise the blob is read back (also after the store moved its mtime, which changes its ctime).
   */
  async #check(options: { readonly digest: Digest; readonly size: number; readonly stamp: FileStamp | undefined; readonly now: number }): Promise<{ readonly path: string; readonly stamp: FileStamp | undefined } | string> {
    const path = await this.#options.blobs.useBlob(options.digest, options.now);
    const stats = path === undefined ? undefined : await stat(path).catch((error: unknown) => {
      if (isMissing(error)) return undefined;
      throw error;
    });
    if (path === undefined || stats === undefined) return 'missing';
    if (matchesStamp(options.stamp, stats)) return { path, stamp: options.stamp };
    this.#options.logger.debug(`cache: reading back layer blob ${options.digest} (${options.stamp === undefined ? 'not stamped yet' : 'its stat changed'})`);
    const found = await this.#verify(path, options.digest, options.size);
    return found === 'ok' ? { path, stamp: takeStamp(stats) } : found;
  }

  /** 'ok', 'missing', or what is wrong with the blob. */
  async #verify(path: string, digest: Digest, size: number): Promise<string> {
    try {
      const actual = await digestStream(createReadStream(path, { highWaterMark: BLOB_STREAM_BUFFER }));
      if (actual.size !== size) return `${actual.size} bytes, not ${size}`;
      return actual.digest === digest ? 'ok' : `it reads as ${actual.digest}`;
    } catch (error) {
      if (isMissing(error)) return 'missing';
      throw error;
    }
  }

  /**
   * Stores an entry, with its blob's stamp: the blob was just written, and renamed into place,
   * by the step. When it is too new to stamp, `seal` stamps it at the end of the build.
   */
  async save(options: SaveOptions): Promise<void> {
    const { entry } = options;
    const blob = await this.#stamp(entry);
    await this.#write({ entry, blob });
    if (entry.layer !== undefined && blob === undefined) this.#unsealed.push(entry);
  }

  /** Stamps the blobs of the entries this build saved too soon after writing them (see `save`). */
  async seal(): Promise<void> {
    const unsealed = this.#unsealed.splice(0);
    await Promise.all(
      unsealed.map(async (entry) => {
        const blob = await this.#stamp(entry);
        if (blob !== undefined) await this.#write({ entry, blob }).catch(() => undefined);
      }),
    );
  }

  /** Every readable entry (for explain and gc). */
  async #all(): Promise<{ entry: CacheEntry; path: string }[]> {
    const names = await readdir(this.#entries).catch(() => [] as string[]);
    const found: { entry: CacheEntry; path: string }[] = [];
    for (const name of names) {
      const match = /^([0-9a-f]{64})\.json$/.exec(name);
      if (match === null) continue;
      const stored = await this.#read(match[1] as string);
      if (stored !== undefined) found.push({ entry: stored.entry, path: this.#path(stored.entry.key) });
    }
    return found;
  }

  /**
   * The stored entry most like a step that missed: of the entries made by the same step (same
   * slot) or the same instruction, the one with the fewest differing inputs, the newest first.
   */
  async nearest(options: { readonly slot: string; readonly inputs: CacheInputs }): Promise<NearestEntry | undefined> {
    let best: NearestEntry | undefined;
    for (const { entry } of await this.#all()) {
      if (entry.inputs === undefined) continue;
      if (entry.slot !== options.slot && entry.inputs.instruction !== options.inputs.instruction) continue;
      const differences = compareInputs({ stored: entry.inputs, current: options.inputs });
      const better = best === undefined || differences.length < best.differences.length || (differences.length === best.differences.length && entry.stored > best.entry.stored);
      if (better) best = { entry, differences };
    }
    return best;
  }

  /** How many entries there are, and their bytes (the JSON files; blobs are the layer store's). */
  async usage(): Promise<{ readonly count: number; readonly bytes: number }> {
    let count = 0;
    let bytes = 0;
    for (const name of await readdir(this.#entries).catch(() => [] as string[])) {
      const stats = await stat(join(this.#entries, name)).catch(() => undefined);
      if (stats === undefined || !name.endsWith('.json')) continue;
      count += 1;
      bytes += stats.size;
    }
    return { count, bytes };
  }

  /** Removes entries stored longer ago than `maxAgeMs`, and those whose blob is gone. Returns how many. */
  async collect(options: { readonly maxAgeMs?: number; readonly now?: number }): Promise<number> {
    const now = options.now ?? Date.now();
    let removed = 0;
    for (const { entry, path } of await this.#all()) {
      const old = options.maxAgeMs !== undefined && isExpired({ stored: entry.stored, ttlMs: options.maxAgeMs, now });
      const orphan = entry.layer !== undefined && (await stat(this.#options.blobs.blobPath(entry.layer.descriptor.digest)).catch(() => undefined)) === undefined;
      if (!old && !orphan) continue;
      await rm(path, { force: true });
      removed += 1;
    }
    return removed;
  }
}

