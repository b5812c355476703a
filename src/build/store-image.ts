/**
 * The layer store's `blobs/` as an image location. `StoreFirstSource` reads manifests and blobs
 * from the store when it has them (what `caisson warm` put there) and from the registry behind it
 * otherwise, opened only when first needed, keeping the small blobs (configs) it reads there;
 * `StoreTarget` writes manifests and blobs into the store, each verified and renamed into place.
 * Every read from the store is checked against its digest too.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { LayerStore } from '../fs/index.js';
import {
  BLOB_STREAM_BUFFER, digestAlgorithm, digestMismatch, digestOf, MAX_MANIFEST_BYTES, parseManifest, verifiedStream, writeVerifiedFile,
  type Descriptor, type Digest, type ImageSource, type ImageTarget, type ParsedManifest, type WriteBlobOptions, type WriteManifestOptions,
} from '../image/index.js';
import { isCorruption, type CacheRepairs } from './cache-repairs.js';

/**
 * The manifest (or index) with `digest` when the store has it, verified, with its descriptor. A
 * stored manifest that does not match its digest is deleted; with `repairs` that is warned about
 * and the manifest is taken as absent (the registry has it), without, the mismatch is thrown.
 */
export async function storedManifest(options: { readonly store: LayerStore; readonly digest: Digest; readonly mediaType?: string; readonly what: string; readonly repairs?: CacheRepairs }): Promise<{ readonly descriptor: Descriptor; readonly parsed: ParsedManifest } | undefined> {
  const path = await options.store.useBlob(options.digest);
  // Larger than any manifest: a layer blob named by mistake, left for the registry to refuse.
  if (path === undefined || (await stat(path)).size > MAX_MANIFEST_BYTES) return undefined;
  const bytes = await readFile(path);
  const actual = digestOf(bytes, digestAlgorithm(options.digest));
  if (actual !== options.digest) {
    const error = digestMismatch({ what: path, expected: options.digest, actual });
    await rm(path, { force: true });
    if (options.repairs === undefined) throw error;
    options.repairs.evicted({ what: `${options.what}: the stored manifest`, error, recovered: true });
    return undefined;
  }
  const parsed = parseManifest({ bytes, what: `${options.what}@${options.digest}`, ...(options.mediaType === undefined ? {} : { mediaType: options.mediaType }) });
  return { descriptor: { mediaType: parsed.mediaType, digest: options.digest, size: bytes.length }, parsed };
}

/** Blobs read from the registry up to this size (image configs) are kept in the store. */
const KEPT_BLOB_BYTES = 256 * 1024;

/**
 * `from` (an ImageSource stream, which fails unless it matches its descriptor) as it is read, also
 * written to the store: renamed into place when it ended complete, dropped when it failed or was
 * not read to its end. A store that cannot be written only costs the copy.
 */
function keptAsRead(options: { readonly store: LayerStore; readonly descriptor: Descriptor; readonly from: Readable }): Readable {
  const path = options.store.blobPath(options.descriptor.digest);
  const staging = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  let fd: number | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(staging, 'wx');
  } catch {
    fd = undefined;
  }
  const drop = (): void => {
    if (fd === undefined) return;
    closeSync(fd);
    fd = undefined;
    rmSync(staging, { force: true });
  };
  const copy = new Transform({
    highWaterMark: BLOB_STREAM_BUFFER,
    transform(chunk: Buffer, _encoding, callback) {
      try {
        for (let written = 0; fd !== undefined && written < chunk.length; ) written += writeSync(fd, chunk, written);
      } catch {
        drop();
      }
      callback(null, chunk);
    },
    flush(callback) {
      if (fd !== undefined) {
        closeSync(fd);
        fd = undefined;
        try {
          renameSync(staging, path);
        } catch {
          rmSync(staging, { force: true });
        }
      }
      callback();
    },
  });
  copy.on('close', drop);
  options.from.on('error', (error) => copy.destroy(error));
  return options.from.pipe(copy);
}

export interface StoreFirstSourceOptions {
  readonly store: LayerStore;
  /** Names the image in messages: `docker://registry/repository`. */
  readonly name: string;
  /** Where pushes may cross-mount its blobs from. */
  readonly origin: { readonly registry: string; readonly repository: string };
  /** The registry repository behind the store, opened (once) only when the store lacks something. */
  readonly upstream: () => Promise<ImageSource>;
  /** Told of a stored blob found corrupt (which is deleted either way). */
  readonly repairs?: CacheRepairs;
  /**
   * Keep every blob read from the registry, layers too, not only the small ones: a build reads a
   * layer it extracts again to write it to an OCI layout, a tar or another registry.
   */
  readonly keepLayers?: boolean;
}

export class StoreFirstSource implements ImageSource {
  readonly name: string;
  readonly origin: { readonly registry: string; readonly repository: string };
  readonly #store: LayerStore;
  readonly #open: () => Promise<ImageSource>;
  readonly #repairs: CacheRepairs | undefined;
  readonly #keepLayers: boolean;
  #upstream: Promise<ImageSource> | undefined;

  constructor(options: StoreFirstSourceOptions) {
    this.name = options.name;
    this.origin = options.origin;
    this.#store = options.store;
    this.#open = options.upstream;
    this.#repairs = options.repairs;
    this.#keepLayers = options.keepLayers ?? false;
  }

  #registry(): Promise<ImageSource> {
    this.#upstream ??= this.#open();
    return this.#upstream;
  }

  async resolve(reference: string | undefined): Promise<Descriptor> {
    return (await this.#registry()).resolve(reference);
  }

  async readManifest(descriptor: Descriptor): Promise<ParsedManifest> {
    const stored = await storedManifest({ store: this.#store, digest: descriptor.digest, mediaType: descriptor.mediaType, what: this.name, ...(this.#repairs === undefined ? {} : { repairs: this.#repairs }) });
    return stored?.parsed ?? (await this.#registry()).readManifest(descriptor);
  }

  async openBlob(descriptor: Descriptor): Promise<Readable> {
    let path = await this.#store.useBlob(descriptor.digest);
    if (path === undefined) {
      const upstream = await (await this.#registry()).openBlob(descriptor);
      if (descriptor.size > KEPT_BLOB_BYTES) return this.#keepLayers ? keptAsRead({ store: this.#store, descriptor, from: upstream }) : upstream;
      // A config (or a tiny layer): kept in the store too, so the next build need not ask for it.
      path = await storeBlob({ store: this.#store, descriptor, from: upstream, what: `${this.name}: blob ${descriptor.digest}` });
    }
    const stored = path;
    const stream = verifiedStream({ from: createReadStream(stored, { highWaterMark: BLOB_STREAM_BUFFER }), expected: descriptor.digest, size: descriptor.size, what: stored });
    // Found only once read: deleted at once, so that the build, started again, fetches it anew.
    stream.once('error', (error) => {
      if (!isCorruption(error)) return;
      rmSync(stored, { force: true });
      this.#repairs?.evicted({ what: `${this.name}: the stored blob ${descriptor.digest}`, error });
    });
    return stream;
  }
}

/** Writes a blob into the store, verified as it streams and renamed into place; returns its path. */
async function storeBlob(options: { readonly store: LayerStore; readonly descriptor: Descriptor; readonly from: Readable; readonly what: string; readonly verified?: boolean }): Promise<string> {
  const { store, descriptor } = options;
  const path = store.blobPath(descriptor.digest);
  await mkdir(dirname(path), { recursive: true });
  await writeVerifiedFile({ path, from: options.from, descriptor, what: options.what, ...(options.verified === undefined ? {} : { verified: options.verified }) });
  return path;
}

/** Writes into the store's blobs: skips what it has unless `force`, and counts what it wrote. */
export class StoreTarget implements ImageTarget {
  readonly name: string;
  readonly #store: LayerStore;
  readonly #force: boolean;

  constructor(options: { readonly store: LayerStore; readonly force: boolean }) {
    this.#store = options.store;
    this.#force = options.force;
    this.name = `cache:${options.store.root}`;
  }

  async writeBlob(options: WriteBlobOptions): Promise<'exists' | 'written'> {
    const { descriptor } = options;
    if (!this.#force && (await this.#store.useBlob(descriptor.digest)) !== undefined) return 'exists';
    await storeBlob({ store: this.#store, descriptor, from: await options.open(), what: `${this.name}: blob ${descriptor.digest}`, ...(options.verified === undefined ? {} : { verified: options.verified }) });
    return 'written';
  }

  async writeManifest(options: WriteManifestOptions): Promise<void> {
    await this.writeBlob({ descriptor: options.descriptor, open: async () => Readable.from([options.bytes]) });
  }
}
