/**
 * The local cache: one small JSON file per key under `<cache-dir>/cache/entries/`, pointing at a
 * layer blob in the layer store (`<cache-dir>/blobs/`). An entry is written aside and renamed into
 * place, so a killed build leaves none half-written. A hit's blob is read back and checked against
 * its digest; a corrupt blob or entry is evicted with a warning, and the step simply runs again.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CaissonError } from '../errors.js';
import { BLOB_STREAM_BUFFER, digestStream, type Digest } from '../image/index.js';
import type { Logger } from '../log.js';
import { isExpired, parseEntry, type CacheEntry, type CacheHit, type CacheStore, type LookupOptions, type SaveOptions } from './entry.js';
import { compareInputs, type CacheInputs, type InputDifference } from './key.js';

export interface LocalCacheOptions {
  /** The cache directory (`--cache-dir`). */
  readonly root: string;
  /** Where the layer store keeps a blob. */
  readonly blobPath: (digest: Digest) => string;
  readonly logger: Logger;
}

/** The stored entry closest to a step that missed, and how its inputs differ. */
export interface NearestEntry {
  readonly entry: CacheEntry;
  readonly differences: readonly InputDifference[];
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

export class LocalCache implements CacheStore {
  readonly name = 'local';
  readonly #options: LocalCacheOptions;

  constructor(options: LocalCacheOptions) {
    this.#options = options;
  }

  get #entries(): string {
    return join(this.#options.root, 'cache', 'entries');
  }

  #path(key: string): string {
    return join(this.#entries, `${key}.json`);
  }

  async #read(key: string): Promise<CacheEntry | undefined> {
    const path = this.#path(key);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    try {
      return parseEntry({ value: JSON.parse(text), key, what: `cache entry ${path}` });
    } catch (error) {
      const detail = error instanceof CaissonError ? error.message : `cache entry ${path}: not JSON`;
      this.#options.logger.warn(`${detail}; evicted, the step runs again`);
      await rm(path, { force: true });
      return undefined;
    }
  }

  async lookup(options: LookupOptions): Promise<CacheHit | undefined> {
    const entry = await this.#read(options.key);
    if (entry === undefined || isExpired({ stored: entry.stored, ttlMs: options.ttlMs, now: options.now })) return undefined;
    const touch = new Date(options.now);
    await utimes(this.#path(options.key), touch, touch).catch(() => undefined);
    if (entry.layer === undefined) return { entry, from: this.name };
    const { descriptor } = entry.layer;
    const path = this.#options.blobPath(descriptor.digest);
    const found = await this.#verify(path, descriptor.digest, descriptor.size);
    if (found === 'missing') {
      // gc removed the blob: the entry is useless.
      await rm(this.#path(options.key), { force: true });
      return undefined;
    }
    if (found !== 'ok') {
      this.#options.logger.warn(`cache entry ${options.key.slice(0, 12)}: layer blob ${descriptor.digest} is corrupt (${found}); evicted, the step runs again`);
      await Promise.all([rm(path, { force: true }), rm(this.#path(options.key), { force: true })]);
      return undefined;
    }
    await utimes(path, touch, touch).catch(() => undefined);
    return { entry, blob: { kind: 'file', path }, from: this.name };
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

  async save(options: SaveOptions): Promise<void> {
    const { entry } = options;
    await mkdir(this.#entries, { recursive: true });
    const staging = join(this.#entries, `.${entry.key}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    try {
      await writeFile(staging, `${JSON.stringify(entry)}\n`);
      await rename(staging, this.#path(entry.key));
    } catch (error) {
      await rm(staging, { force: true });
      throw error;
    }
  }

  /** Every readable entry (for explain and gc). */
  async #all(): Promise<{ entry: CacheEntry; path: string }[]> {
    const names = await readdir(this.#entries).catch(() => [] as string[]);
    const found: { entry: CacheEntry; path: string }[] = [];
    for (const name of names) {
      const match = /^([0-9a-f]{64})\.json$/.exec(name);
      if (match === null) continue;
      const entry = await this.#read(match[1] as string);
      if (entry !== undefined) found.push({ entry, path: this.#path(entry.key) });
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
      const orphan = entry.layer !== undefined && (await stat(this.#options.blobPath(entry.layer.descriptor.digest)).catch(() => undefined)) === undefined;
      if (!old && !orphan) continue;
      await rm(path, { force: true });
      removed += 1;
    }
    return removed;
  }
}

