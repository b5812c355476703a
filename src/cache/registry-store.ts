/**
 * A cache repository (`--cache-repo`, kaniko's layout): one small image per key, tagged with the
 * key, holding the step's layer (or none) with the entry in its manifest annotations, so a
 * lookup is one manifest GET. Layers are only described by a hit: they are downloaded when a
 * later step needs the files, or cross-mounted to the destination at push time. Any image
 * source and target works: a registry repository, or an OCI layout (`oci:DIR`).
 *
 * The cache never fails a build: an unreachable cache repository is warned about once and not
 * asked again during the build; a push that fails is a warning.
 */
import { Readable } from 'node:stream';
import { CaissonError } from '../errors.js';
import {
  copyImage, describeBytes, isDigest, MediaType, parseManifest,
  type Descriptor, type ImageSource, type ImageTarget, type ParsedManifest, type Platform,
} from '../image/index.js';
import type { Logger } from '../log.js';
import { isExpired, type CacheEntry, type CacheHit, type CacheStore, type LookupOptions, type SaveOptions } from './entry.js';

/** Manifest annotations carrying the entry. */
export const CACHE_ANNOTATIONS = {
  key: 'dev.caisson.cache.key',
  createdBy: 'dev.caisson.cache.created-by',
  created: 'dev.caisson.cache.created',
  diffId: 'dev.caisson.cache.diff-id',
  stored: 'org.opencontainers.image.created',
} as const;

export interface RegistryCacheOptions {
  /** The cache repository: a registry repository or an OCI layout. */
  readonly repository: ImageSource & ImageTarget;
  /** The platform written in the cache images' configs. */
  readonly platform: Platform;
  readonly logger: Logger;
}

/** Codes that mean "no such entry", not "the cache repository is broken". */
const ABSENT = new Set(['ERR_MANIFEST_UNKNOWN', 'ERR_REGISTRY_NAME_UNKNOWN']);

function entryOf(parsed: ParsedManifest, key: string): CacheEntry | undefined {
  if (parsed.kind !== 'manifest') return undefined;
  const { manifest } = parsed;
  const notes = manifest.annotations ?? {};
  const [stored, createdBy, created] = [notes[CACHE_ANNOTATIONS.stored], notes[CACHE_ANNOTATIONS.createdBy], notes[CACHE_ANNOTATIONS.created]];
  if (notes[CACHE_ANNOTATIONS.key] !== key || stored === undefined || createdBy === undefined || created === undefined) return undefined;
  const [layer] = manifest.layers;
  if (manifest.layers.length > 1) return undefined;
  if (layer === undefined) return { key, stored, createdBy, created };
  const diffId = notes[CACHE_ANNOTATIONS.diffId];
  if (diffId === undefined || !isDigest(diffId)) return undefined;
  return { key, stored, createdBy, created, layer: { descriptor: layer, diffId } };
}

/** The cache image of one entry, as an `ImageSource` for `copyImage`. */
class EntryImage implements ImageSource {
  readonly name: string;
  readonly manifest: Descriptor;
  readonly #manifestBytes: Buffer;
  readonly #config: { readonly descriptor: Descriptor; readonly bytes: Buffer };
  readonly #open: SaveOptions['open'];

  constructor(options: SaveOptions & { readonly platform: Platform }) {
    const { entry, platform } = options;
    this.name = `cache entry ${entry.key}`;
    this.#open = options.open;
    const config = {
      architecture: platform.architecture,
      created: entry.stored,
      history: [{ created: entry.created, created_by: entry.createdBy, comment: 'caisson build cache', ...(entry.layer === undefined ? { empty_layer: true } : {}) }],
      os: platform.os,
      rootfs: { type: 'layers', diff_ids: entry.layer === undefined ? [] : [entry.layer.diffId] },
      ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    this.#config = { descriptor: describeBytes({ mediaType: MediaType.ociConfig, bytes: configBytes }), bytes: configBytes };
    const annotations: Record<string, string> = {
      [CACHE_ANNOTATIONS.key]: entry.key,
      [CACHE_ANNOTATIONS.createdBy]: entry.createdBy,
      [CACHE_ANNOTATIONS.created]: entry.created,
      [CACHE_ANNOTATIONS.stored]: entry.stored,
      ...(entry.layer === undefined ? {} : { [CACHE_ANNOTATIONS.diffId]: entry.layer.diffId }),
    };
    const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: this.#config.descriptor, layers: entry.layer === undefined ? [] : [entry.layer.descriptor], annotations };
    this.#manifestBytes = Buffer.from(JSON.stringify(manifest));
    this.manifest = describeBytes({ mediaType: MediaType.ociManifest, bytes: this.#manifestBytes });
  }

  async resolve(): Promise<Descriptor> {
    return this.manifest;
  }

  async readManifest(): Promise<ParsedManifest> {
    return parseManifest({ bytes: this.#manifestBytes, mediaType: MediaType.ociManifest, what: this.name });
  }

  async openBlob(descriptor: Descriptor): Promise<Readable> {
    if (descriptor.digest === this.#config.descriptor.digest) return Readable.from([this.#config.bytes]);
    if (this.#open === undefined) throw new CaissonError({ code: 'ERR_BLOB_UNKNOWN', message: `${this.name}: no blob ${descriptor.digest}` });
    return this.#open();
  }
}

export class RegistryCache implements CacheStore {
  readonly name: string;
  readonly #options: RegistryCacheOptions;
  /** Set after the first failure: the rest of the build does not wait on a broken cache repository. */
  #broken = false;
  /** Pushes one at a time: an OCI layout rewrites its index.json on each. */
  #pushing: Promise<void> = Promise.resolve();

  constructor(options: RegistryCacheOptions) {
    this.#options = options;
    this.name = options.repository.name;
  }

  async lookup(options: LookupOptions): Promise<CacheHit | undefined> {
    if (this.#broken) return undefined;
    const { repository } = this.#options;
    try {
      const descriptor = await repository.resolve(options.key);
      const entry = entryOf(await repository.readManifest(descriptor), options.key);
      if (entry === undefined) {
        this.#options.logger.debug(`${this.name}:${options.key} is not a caisson cache image; ignored`);
        return undefined;
      }
      if (isExpired({ stored: entry.stored, ttlMs: options.ttlMs, now: options.now })) return undefined;
      return { entry, ...(entry.layer === undefined ? {} : { blob: { kind: 'source', source: repository } }), from: this.name };
    } catch (error) {
      if (error instanceof CaissonError && ABSENT.has(error.code)) return undefined;
      this.#fail('lookups', error);
      return undefined;
    }
  }

  save(options: SaveOptions): Promise<void> {
    const push = async (): Promise<void> => {
      if (this.#broken) return;
      const image = new EntryImage({ ...options, platform: this.#options.platform });
      try {
        await copyImage({ source: image, target: this.#options.repository, root: image.manifest, tags: [options.entry.key] });
      } catch (error) {
        this.#fail('pushes', error);
      }
    };
    this.#pushing = this.#pushing.then(push);
    return this.#pushing;
  }

  #fail(what: string, error: unknown): void {
    if (this.#broken) return;
    this.#broken = true;
    const detail = error instanceof Error ? error.message : String(error);
    this.#options.logger.warn(`cache repository ${this.name} failed (${detail}); no more cache ${what} there in this build`);
  }
}
