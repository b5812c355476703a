/**
 * What one build found corrupt or missing in its caches, across its attempts: a blob of the
 * layer store that does not match its digest (deleted, so it is fetched again), or an entry of the
 * cache repository whose layer blob is gone or corrupt (not looked up again, so its step runs and
 * stores a good entry over it). Each is warned about once. A build that fails after something was
 * evicted starts again (build.ts); it cannot fail on the same thing twice.
 */
import { Readable } from 'node:stream';
import { CaissonError } from '../errors.js';
import type { Descriptor, ImageSource, ParsedManifest } from '../image/index.js';
import type { Logger } from '../log.js';

/** Codes that say a blob is missing or is not what its digest names: the cache's fault, not the network's. */
const CORRUPT = new Set(['ERR_BLOB_UNKNOWN', 'ERR_DIGEST_MISMATCH', 'ERR_CACHE_CORRUPT']);

/** Whether `error` says the content is missing or corrupt. */
export function isCorruption(error: unknown): error is CaissonError {
  return error instanceof CaissonError && CORRUPT.has(error.code);
}

export class CacheRepairs {
  readonly #logger: Logger;
  readonly #distrusted = new Set<string>();
  #evictions = 0;

  constructor(options: { readonly logger: Logger }) {
    this.#logger = options.logger;
  }

  /** How many evictions so far the build could not recover from where it stood. */
  get evictions(): number {
    return this.#evictions;
  }

  /** Whether the cache repository's entry `key` was found broken in this build. */
  distrusts(key: string): boolean {
    return this.#distrusted.has(key);
  }

  /**
   * Warns that `what` was corrupt and is evicted; `key` names a cache-repository entry not to use
   * again; `recovered` when the build went on without it (it read the registry instead).
   */
  evicted(options: { readonly what: string; readonly error: CaissonError; readonly key?: string; readonly recovered?: boolean }): void {
    const { key } = options;
    if (key !== undefined) {
      if (this.#distrusted.has(key)) return;
      this.#distrusted.add(key);
    }
    if (options.recovered !== true) this.#evictions += 1;
    this.#logger.warn(`${options.what} is missing or corrupt (${options.error.message}); evicted: it is fetched or built again`);
  }
}

/**
 * A cache repository as the source of one entry's layer: a blob it lacks, or that does not match
 * its digest, marks the entry as broken in `repairs` before the error goes on.
 */
export class EntrySource implements ImageSource {
  readonly name: string;
  readonly origin: ImageSource['origin'];
  readonly #source: ImageSource;
  readonly #report: (error: unknown) => void;

  constructor(options: { readonly source: ImageSource; readonly key: string; readonly repairs: CacheRepairs }) {
    const { source, key, repairs } = options;
    this.#source = source;
    this.name = source.name;
    this.origin = source.origin;
    this.#report = (error) => {
      if (isCorruption(error)) repairs.evicted({ what: `cache entry ${source.name}:${key}`, error, key });
    };
  }

  resolve(reference: string | undefined): Promise<Descriptor> {
    return this.#source.resolve(reference);
  }

  readManifest(descriptor: Descriptor): Promise<ParsedManifest> {
    return this.#source.readManifest(descriptor);
  }

  async openBlob(descriptor: Descriptor): Promise<Readable> {
    try {
      const stream = await this.#source.openBlob(descriptor);
      stream.once('error', this.#report);
      return stream;
    } catch (error) {
      this.#report(error);
      throw error;
    }
  }
}
