/**
 * What the cache keeps per key: the step's history line and time, and its layer (a descriptor
 * and diffID), or none when the step changed nothing. Local entries also keep the key's inputs
 * (redacted) and the step's slot, for --cache-explain.
 */
import type { Readable } from 'node:stream';
import { CaissonError } from '../errors.js';
import { isDigest, type Descriptor, type Digest, type ImageSource } from '../image/index.js';
import type { CacheInputs } from './key.js';

export interface CachedLayer {
  readonly descriptor: Descriptor;
  readonly diffId: Digest;
}

export interface CacheEntry {
  /** 64 hex digits. */
  readonly key: string;
  /** When the entry was stored (RFC 3339): --cache-ttl counts from here. */
  readonly stored: string;
  /** The history entry's `created_by` and `created`. */
  readonly createdBy: string;
  readonly created: string;
  /** The step's layer; absent when the step changed nothing. */
  readonly layer?: CachedLayer;
  /** Which step of which stage made it (`<stage> <n>`): explain compares entries of the same slot. */
  readonly slot?: string;
  readonly inputs?: CacheInputs;
}

/** Where a hit's layer blob is read from. */
export type CachedBlob =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'source'; readonly source: ImageSource };

export interface CacheHit {
  readonly entry: CacheEntry;
  /** Undefined when the entry has no layer. */
  readonly blob?: CachedBlob;
  /** `local` or the cache repository's name, for the log. */
  readonly from: string;
}

export interface LookupOptions {
  readonly key: string;
  /** Entries stored longer ago than this are misses. */
  readonly ttlMs: number;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

export interface SaveOptions {
  readonly entry: CacheEntry;
  /** The layer's compressed blob (only when the entry has a layer). */
  readonly open?: () => Promise<Readable>;
}

/** A place cache entries live: the local cache directory, or a registry (or OCI layout) cache repository. */
export interface CacheStore {
  readonly name: string;
  lookup(options: LookupOptions): Promise<CacheHit | undefined>;
  save(options: SaveOptions): Promise<void>;
}

/** Whether an entry was stored longer ago than the TTL (or at a time that cannot be read). */
export function isExpired(options: { readonly stored: string; readonly ttlMs: number; readonly now: number }): boolean {
  const stored = Date.parse(options.stored);
  return Number.isNaN(stored) || options.now - stored > options.ttlMs;
}

function invalid(what: string, detail: string): CaissonError {
  return new CaissonError({ code: 'ERR_CACHE_CORRUPT', message: `${what}: ${detail}`, hint: 'The entry is ignored and rebuilt.' });
}

function isDescriptor(value: unknown): value is Descriptor {
  const candidate = value as Partial<Descriptor> | undefined;
  return typeof candidate?.mediaType === 'string' && typeof candidate.digest === 'string' && isDigest(candidate.digest) && typeof candidate.size === 'number' && Number.isSafeInteger(candidate.size) && candidate.size >= 0;
}

/** Checks an entry read back from JSON; a wrong shape is ERR_CACHE_CORRUPT naming `what`. */
export function parseEntry(options: { readonly value: unknown; readonly key: string; readonly what: string }): CacheEntry {
  const { value, what } = options;
  const entry = value as Partial<CacheEntry> | null;
  if (typeof entry !== 'object' || entry === null) throw invalid(what, 'not a JSON object');
  if (entry.key !== options.key) throw invalid(what, `its key is ${JSON.stringify(entry.key)}, not ${options.key}`);
  for (const field of ['stored', 'createdBy', 'created'] as const) {
    if (typeof entry[field] !== 'string') throw invalid(what, `"${field}" is not a string`);
  }
  if (entry.layer !== undefined && (!isDescriptor(entry.layer.descriptor) || typeof entry.layer.diffId !== 'string' || !isDigest(entry.layer.diffId))) {
    throw invalid(what, '"layer" is not a descriptor with a diffId');
  }
  return entry as CacheEntry;
}
