/**
 * What every stage of one build shares: the options, the layer store, the build context, base
 * images resolved once, layers extracted once, and the stages' finished states. Created per
 * build and dropped after it; nothing here is module state.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { SourceLocation } from '../errors.js';
import { LayerStore, type StoredLayer } from '../fs/index.js';
import { BLOB_STREAM_BUFFER, parseReference, type Platform } from '../image/index.js';
import { pullBaseImage, type BaseImage } from './base-image.js';
import { BuildCache } from './build-cache.js';
import type { ContextTree } from './context-tree.js';
import { LayerView } from './layer-view.js';
import type { BuildOptions, ReadImage } from './options.js';
import type { StageLayer } from './stage-state.js';

export class BuildSession {
  readonly options: BuildOptions;
  readonly store: LayerStore;
  readonly context: ContextTree;
  readonly cache: BuildCache;
  /** `created` of the config and history entries (RFC 3339). */
  readonly created: string;
  /** The same instant in seconds, for files a step makes. */
  readonly now: number;
  readonly #extracted = new Map<string, Promise<StoredLayer>>();
  readonly #images = new Map<string, Promise<BaseImage>>();
  readonly #scratch: string[] = [];
  /** RUN steps of concurrent stages wait here: at most one per core runs at once. */
  readonly #runSlots: { free: number; readonly waiting: (() => void)[] } = { free: availableParallelism(), waiting: [] };

  constructor(options: { readonly build: BuildOptions; readonly context: ContextTree }) {
    this.options = options.build;
    this.context = options.context;
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
      image = pullBaseImage({ registry: this.options.registry, store: this.store, ...options });
      this.#images.set(key, image);
    }
    return image;
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
      const { blob, descriptor } = layer;
      stored = this.store.unpackLayer({
        diffId: layer.diffId,
        what: `layer ${descriptor.digest}`,
        open: async () => (blob.kind === 'file' ? createReadStream(blob.path, { highWaterMark: BLOB_STREAM_BUFFER }) : blob.source.openBlob(descriptor)),
      });
      this.#extracted.set(layer.diffId, stored);
    }
    return stored;
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
