/**
 * What every stage of one build shares: the options, the layer store, the build context, base
 * images resolved once, layers extracted once, and the stages' finished states. Created per
 * build and dropped after it; nothing here is module state.
 */
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { SourceLocation } from '../errors.js';
import { CHROOT_UNCAPTURED } from '../exec/index.js';
import { LayerStore, type StoredLayer } from '../fs/index.js';
import { BLOB_STREAM_BUFFER, formatPlatform, parseReference, type Platform } from '../image/index.js';
import { pullBaseImage, type BaseImage } from './base-image.js';
import { checkRunner, platformRunner, type Runner } from './binfmt.js';
import { BuildCache } from './build-cache.js';
import type { CacheRepairs } from './cache-repairs.js';
import type { ContextTree } from './context-tree.js';
import { DirectoryRoot } from './directory-root.js';
import { LayerView } from './layer-view.js';
import { machineRoot, relativeKept } from './machine-root.js';
import type { BuildOptions, ReadImage } from './options.js';
import type { StageLayer, StageState } from './stage-state.js';

export class BuildSession {
  readonly options: BuildOptions;
  readonly store: LayerStore;
  readonly context: ContextTree;
  readonly cache: BuildCache;
  /** What the caches held corrupt, across the build's attempts. */
  readonly repairs: CacheRepairs;
  /** `created` of the config and history entries (RFC 3339). */
  readonly created: string;
  /** The same instant in seconds, for files a step makes. */
  readonly now: number;
  readonly #extracted = new Map<string, Promise<StoredLayer>>();
  readonly #images = new Map<string, Promise<BaseImage>>();
  readonly #runners = new Map<string, Promise<Runner>>();
  readonly #scratch: string[] = [];
  /** chroot mode: each stage's root directory; container mode: the machine's root, shared. */
  readonly #roots = new WeakMap<StageState, Promise<DirectoryRoot>>();
  #machineRoot: DirectoryRoot | undefined;
  /** RUN steps of concurrent stages wait here: at most one per core runs at once. */
  readonly #runSlots: { free: number; readonly waiting: (() => void)[] } = { free: availableParallelism(), waiting: [] };

  constructor(options: { readonly build: BuildOptions; readonly context: ContextTree; readonly repairs: CacheRepairs }) {
    this.options = options.build;
    this.context = options.context;
    this.repairs = options.repairs;
    this.store = new LayerStore({ root: options.build.cacheDir });
    this.cache = new BuildCache({ build: options.build, store: this.store });
    const started = (options.build.now ?? (() => new Date()))();
    const clamp = options.build.clampTime;
    const seconds = Math.floor(started.getTime() / 1000);
    this.now = clamp === undefined ? seconds : Math.min(seconds, clamp);
    this.created = new Date(this.now * 1000).toISOString().replace(/\.000Z$/, 'Z');
  }

  /** The base image for FROM, resolved once per reference and platform. */
  baseImage(options: { readonly reference: string; readonly platform: Platform; readonly location: SourceLocation }): Promise<BaseImage> {
    const key = `${options.reference} ${options.platform.os}/${options.platform.architecture}/${options.platform.variant ?? ''}`;
    let image = this.#images.get(key);
    if (image === undefined) {
      image = pullBaseImage({ registry: this.options.registry, store: this.store, repairs: this.repairs, ...options });
      this.#images.set(key, image);
      // A tag may move; a build record checks it again (a digest cannot).
      const { journal } = this.options;
      if (journal !== undefined) {
        image.then(
          (base) => {
            if (!base.name.includes('@')) journal.image(options.reference, base.root);
          },
          () => undefined,
        );
      }
    }
    return image;
  }

  /**
   * Throws unless this machine can run `platform`'s programs (natively, or through a registered
   * qemu-user binfmt handler, logged once per platform); looked up once per build and platform.
   */
  async checkRunnable(platform: Platform): Promise<void> {
    const key = formatPlatform(platform);
    let runner = this.#runners.get(key);
    if (runner === undefined) {
      runner = platformRunner({ platform, ...(this.options.binfmtDir === undefined ? {} : { binfmtDir: this.options.binfmtDir }) });
      this.#runners.set(key, runner);
      const found = await runner;
      if (found.kind === 'emulated') this.options.logger.info(`RUN for ${key} runs through the binfmt_misc handler ${found.handler.name} (${found.handler.interpreter})`);
    }
    checkRunner({ platform, runner: await runner });
  }

  /** The images FROM and `--from` resolved so far, each once (`registry/repository` and manifest digest). */
  async readImages(): Promise<ReadImage[]> {
    const images = await Promise.all([...this.#images.values()].map((image) => image.catch(() => undefined)));
    const seen = new Map<string, ReadImage>();
    for (const image of images) {
      if (image === undefined) continue;
      const { registry, repository } = parseReference(image.name);
      const name = `${registry}/${repository}`;
      seen.set(`${name}@${image.manifest.digest}`, { name, digest: image.manifest.digest });
    }
    return [...seen.values()];
  }

  /** The layer extracted in the store (once per build, and once ever per cache directory). */
  extract(layer: StageLayer): Promise<StoredLayer> {
    let stored = this.#extracted.get(layer.diffId);
    if (stored === undefined) {
      stored = this.store.unpackLayer({ diffId: layer.diffId, what: `layer ${layer.descriptor.digest}`, open: () => this.openBlob(layer) });
      this.#extracted.set(layer.diffId, stored);
    }
    return stored;
  }

  /** The layer's compressed blob, from the store or its image. */
  async openBlob(layer: StageLayer): Promise<AsyncIterable<Buffer>> {
    const { blob, descriptor } = layer;
    return blob.kind === 'file' ? createReadStream(blob.path, { highWaterMark: BLOB_STREAM_BUFFER }) : blob.source.openBlob(descriptor);
  }

  /** Records a layer a step committed into the store (no extraction needed later). */
  remember(layer: StageLayer, stored: StoredLayer): void {
    this.#extracted.set(layer.diffId, Promise.resolve(stored));
  }

  /** Every layer extracted, bottom first. */
  async lowers(layers: readonly StageLayer[]): Promise<StoredLayer[]> {
    return Promise.all(layers.map((layer) => this.extract(layer)));
  }

  async view(layers: readonly StageLayer[]): Promise<LayerView> {
    return new LayerView({ layers: await this.lowers(layers) });
  }

  /** Runs `work` when a RUN slot is free (independent stages build concurrently, bounded by cores). */
  async withRunSlot<T>(work: () => Promise<T>): Promise<T> {
    const slots = this.#runSlots;
    if (slots.free > 0) slots.free -= 1;
    else await new Promise<void>((resolve) => slots.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = slots.waiting.shift();
      if (next === undefined) slots.free += 1;
      else next();
    }
  }

  /**
   * The directory RUN runs on in the chroot and container sandboxes: the stage's own (made on
   * first use), or in container mode the machine's root.
   */
  directoryRoot(state: StageState): Promise<DirectoryRoot> {
    const options = this.options;
    const ignore = [...(options.ignorePaths ?? [])];
    if (options.sandbox === 'container') {
      this.#machineRoot ??= machineRoot({ keep: [options.cacheDir, options.contextDir, ...(options.keepPaths ?? [])], ignore });
      return Promise.resolve(this.#machineRoot);
    }
    let root = this.#roots.get(state);
    if (root === undefined) {
      // mkdtemp makes it 0700; as the chroot's `/` it must let every USER through, as a layer's root would.
      root = this.scratch('root').then(async (path) => {
        await chmod(path, 0o755);
        return path;
      }).then((path) => new DirectoryRoot({ path, keep: [], ignore: relativeKept([...CHROOT_UNCAPTURED, ...ignore]), startsDirty: false }));
      this.#roots.set(state, root);
    }
    return root;
  }

  /** A temporary directory removed by `close`. */
  async scratch(prefix: string): Promise<string> {
    await mkdir(join(this.store.root, 'tmp'), { recursive: true });
    const directory = await mkdtemp(join(this.store.root, 'tmp', `${prefix}-`));
    this.#scratch.push(directory);
    return directory;
  }

  async close(): Promise<void> {
    await this.cache.close();
    await Promise.all(this.#scratch.map((directory) => rm(directory, { recursive: true, force: true })));
  }
}
