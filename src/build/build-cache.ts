/**
 * The build cache of one build: the local store (always), the cache repository (with --cache),
 * remembered digests of context files, and the cache pushes still in flight, which `close`
 * waits for. Created by the build session from the options, resolved once.
 */
import { FileDigests, LocalCache, RegistryCache } from '../cache/index.js';
import type { LayerStore } from '../fs/index.js';
import { hostPlatform, OciLayout, parseReference } from '../image/index.js';
import { DEFAULT_CACHE_TTL_MS, type BuildOptions, type CacheSettings, type CachedStepKind } from './options.js';

export class BuildCache {
  readonly settings: CacheSettings;
  readonly local: LocalCache;
  readonly #remote: Promise<RegistryCache | undefined>;
  readonly #root: string;
  /** The context directory when it was unpacked for this build: its files' digests are not kept. */
  readonly #temporaryContext: string | undefined;
  readonly #files = new Map<string, Promise<FileDigests>>();
  readonly #pending: Promise<void>[] = [];

  constructor(options: { readonly build: BuildOptions; readonly store: LayerStore }) {
    const { build, store } = options;
    this.settings = build.cache ?? { lookup: true, ttlMs: DEFAULT_CACHE_TTL_MS, explain: false };
    this.#root = build.cacheDir;
    this.#temporaryContext = build.contextTemporary === true ? build.contextDir : undefined;
    this.local = new LocalCache({ root: build.cacheDir, blobs: store, logger: build.logger });
    const repository = this.settings.repository;
    // A cache repository that cannot be opened (oci:DIR naming a file) is warned about, as one that fails later is.
    this.#remote = repository === undefined ? Promise.resolve(undefined) : openRepository({ build, reference: repository.reference }).catch((error: unknown) => {
      build.logger.warn(`cache repository ${repository.reference} cannot be used (${error instanceof Error ? error.message : String(error)}); no cache lookups or pushes there in this build`);
      return undefined;
    });
  }

  /** The cache repository, if any. */
  async remote(): Promise<RegistryCache | undefined> {
    return this.#remote;
  }

  /**
   * Whether steps of this kind are cached at all (--cache-run-layers, --cache-copy-layers).
   * WORKDIR's (small, and needing the stage's files to run) always is: a fresh pod then needs no
   * layer to start.
   */
  caches(kind: CachedStepKind | 'workdir'): boolean {
    return kind === 'workdir' || (this.settings.kinds?.has(kind) ?? true);
  }

  /** Whether what steps build is pushed to the cache repository (not with --no-push-cache). */
  get pushes(): boolean {
    return this.settings.repository?.push === true;
  }

  /** Remembered digests of the files of a context directory, loaded once per build. */
  fileDigests(directory: string): Promise<FileDigests> {
    let digests = this.#files.get(directory);
    if (digests === undefined) {
      const created = new FileDigests({ root: this.#root, directory, keep: directory !== this.#temporaryContext });
      digests = created.load().then(() => created);
      this.#files.set(directory, digests);
    }
    return digests;
  }

  /** Runs a cache push in the background; `close` waits for it. */
  background(work: Promise<void>): void {
    this.#pending.push(work.catch(() => undefined));
  }

  async close(): Promise<void> {
    await Promise.all(this.#pending);
    await Promise.all([this.local.seal(), ...[...this.#files.values()].map(async (digests) => (await digests).save())]);
  }
}

/** `oci:DIR` is an OCI layout; anything else a registry repository. */
async function openRepository(options: { readonly build: BuildOptions; readonly reference: string }): Promise<RegistryCache> {
  const { build, reference } = options;
  const repository = reference.startsWith('oci:')
    ? await OciLayout.openOrCreate(reference.slice('oci:'.length))
    : build.registry.repository(parseReference(reference));
  // The cache images' configs name a platform; the entries' keys carry each step's own.
  return new RegistryCache({ repository, platform: build.platforms[0] ?? hostPlatform(), logger: build.logger });
}
