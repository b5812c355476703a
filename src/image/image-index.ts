/**
 * Multi-platform images: an OCI image index (https://github.com/opencontainers/image-spec/blob/main/image-index.md)
 * or a Docker manifest list (image manifest v2 schema 2, "manifest list") made from image
 * manifests, one entry per platform, and `IndexSource`, the `ImageSource` that serves such an
 * index with each image read from its own source (built images, registries, layouts).
 *
 * Each entry's `platform` is the one its image's config states (normalised: aarch64 → arm64).
 * Entries are sorted by platform (os, architecture, variant, os.version), so the same images
 * give the same index digest whatever order they were given in; two images of one platform are
 * an error naming both.
 */
import type { Readable } from 'node:stream';
import { CaissonError } from '../errors.js';
import { readAll } from './digest.js';
import { describeBytes, parseConfig, parseManifest, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type ParsedManifest } from './manifest.js';
import { isImageManifestMediaType, MediaType } from './media-types.js';
import { formatPlatform, normalizePlatform, type DescribedPlatform } from './platform.js';
import type { ImageSource } from './store.js';

export interface IndexEntry {
  /** The image manifest's descriptor (its mediaType, digest and size are what the index lists). */
  readonly descriptor: Descriptor;
  /** The image's platform, as its config states it. */
  readonly platform: DescribedPlatform;
  /** Names the image in messages: the reference it came from, `the image built for linux/arm64`. */
  readonly name: string;
}

export interface BuiltIndex {
  readonly descriptor: Descriptor;
  readonly bytes: Buffer;
  readonly index: ImageIndex;
}

/** The platform an image config states, as an index entry carries it. */
export function configPlatform(config: ImageConfig): DescribedPlatform {
  return {
    architecture: config.architecture,
    os: config.os,
    ...(config['os.version'] === undefined ? {} : { 'os.version': config['os.version'] }),
    ...(config['os.features'] === undefined ? {} : { 'os.features': config['os.features'] }),
    ...(config.variant === undefined ? {} : { variant: config.variant }),
  };
}

/** The entry's platform in canonical form with its OS version and features kept (key order of BuildKit's). */
function entryPlatform(platform: DescribedPlatform): DescribedPlatform {
  const normal = normalizePlatform(platform);
  return {
    architecture: normal.architecture,
    os: normal.os,
    ...(platform['os.version'] === undefined || platform['os.version'] === '' ? {} : { 'os.version': platform['os.version'] }),
    ...(platform['os.features'] === undefined || platform['os.features'].length === 0 ? {} : { 'os.features': platform['os.features'] }),
    ...(normal.variant === undefined ? {} : { variant: normal.variant }),
  };
}

/** `linux/arm64/v8`, with `:os.version` when the platform states one (Windows images do). */
function platformKey(platform: DescribedPlatform): string {
  const version = platform['os.version'];
  return `${formatPlatform(normalizePlatform(platform))}${version === undefined || version === '' ? '' : `:${version}`}`;
}

function comparePlatforms(a: DescribedPlatform, b: DescribedPlatform): number {
  const fields = (p: DescribedPlatform): string[] => [p.os, p.architecture, p.variant ?? '', p['os.version'] ?? ''];
  const left = fields(a);
  const right = fields(b);
  for (const [i, value] of left.entries()) {
    const other = right[i] as string;
    if (value !== other) return value < other ? -1 : 1;
  }
  return 0;
}

/**
 * The index of `entries`: an OCI image index (`format: 'oci'`, which may carry `annotations`) or
 * a Docker manifest list (`'docker'`, which lists Docker schema 2 manifests only).
 */
export function buildImageIndex(options: {
  readonly entries: readonly IndexEntry[];
  readonly format: 'oci' | 'docker';
  readonly annotations?: ReadonlyMap<string, string>;
}): BuiltIndex {
  const { format } = options;
  if (options.entries.length === 0) throw new CaissonError({ code: 'ERR_USAGE', message: 'an image index needs at least one image', hint: 'Give the images (one per platform) to list.' });
  const seen = new Map<string, IndexEntry>();
  for (const entry of options.entries) {
    const key = platformKey(entry.platform);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new CaissonError({
        code: 'ERR_USAGE',
        message: `${earlier.name} and ${entry.name} are both ${key}: an index lists one image per platform`,
        hint: 'Leave one of them out, or rebuild one for another platform.',
      });
    }
    seen.set(key, entry);
    if (format === 'docker' && entry.descriptor.mediaType !== MediaType.dockerManifest) {
      throw new CaissonError({
        code: 'ERR_USAGE',
        message: `${entry.name} is a ${entry.descriptor.mediaType} manifest; a Docker manifest list lists only Docker schema 2 manifests`,
        hint: 'Make an OCI index (--image-format oci), or build the image with --image-format docker.',
      });
    }
  }
  if (format === 'docker' && options.annotations !== undefined && options.annotations.size > 0) {
    throw new CaissonError({ code: 'ERR_USAGE', message: 'a Docker manifest list has no annotations', hint: 'Annotate an OCI index (--image-format oci) instead.' });
  }
  const placed = options.entries.map((entry) => ({ descriptor: entry.descriptor, platform: entryPlatform(entry.platform) }));
  const manifests: Descriptor[] = placed.sort((a, b) => comparePlatforms(a.platform, b.platform)).map(({ descriptor, platform }) => ({
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    platform,
  }));
  const mediaType = format === 'oci' ? MediaType.ociIndex : MediaType.dockerManifestList;
  const annotations = options.annotations !== undefined && options.annotations.size > 0 ? Object.fromEntries(options.annotations) : undefined;
  const index: ImageIndex = { schemaVersion: 2, mediaType, manifests, ...(annotations === undefined ? {} : { annotations }) };
  const bytes = Buffer.from(JSON.stringify(index));
  return { descriptor: describeBytes({ mediaType, bytes }), bytes, index };
}

/** One image of an `IndexSource`: its manifest descriptor, parsed manifest and where its blobs are. */
export interface IndexedImage {
  readonly descriptor: Descriptor;
  readonly manifest: ImageManifest;
  readonly source: ImageSource;
}

/**
 * An index and its images as one `ImageSource`: the index from memory, each image's manifest and
 * blobs from the source it came from (so a copy cross-mounts blobs from the repository they are in).
 */
export class IndexSource implements ImageSource {
  readonly name: string;
  readonly #index: BuiltIndex;
  readonly #images: ReadonlyMap<string, IndexedImage>;
  /** The image whose source serves each blob, by digest (the first one listing it). */
  readonly #owners: ReadonlyMap<string, IndexedImage>;

  constructor(options: { readonly name: string; readonly index: BuiltIndex; readonly images: readonly IndexedImage[] }) {
    this.name = options.name;
    this.#index = options.index;
    this.#images = new Map(options.images.map((image) => [image.descriptor.digest, image]));
    const owners = new Map<string, IndexedImage>();
    for (const image of options.images) {
      for (const blob of [image.manifest.config, ...image.manifest.layers]) if (!owners.has(blob.digest)) owners.set(blob.digest, image);
    }
    this.#owners = owners;
  }

  get descriptor(): Descriptor {
    return this.#index.descriptor;
  }

  async resolve(): Promise<Descriptor> {
    return this.#index.descriptor;
  }

  async readManifest(descriptor: Descriptor): Promise<ParsedManifest> {
    if (descriptor.digest === this.#index.descriptor.digest) return parseManifest({ bytes: this.#index.bytes, mediaType: this.#index.descriptor.mediaType, what: this.name });
    const image = this.#images.get(descriptor.digest);
    if (image === undefined) throw this.#unknown(descriptor);
    return image.source.readManifest(image.descriptor);
  }

  blobOrigin(descriptor: Descriptor): { readonly registry: string; readonly repository: string } | undefined {
    const source = this.#owners.get(descriptor.digest)?.source;
    return source?.blobOrigin === undefined ? source?.origin : source.blobOrigin(descriptor);
  }

  async openBlob(descriptor: Descriptor): Promise<Readable> {
    const image = this.#owners.get(descriptor.digest);
    if (image === undefined) throw this.#unknown(descriptor);
    return image.source.openBlob(descriptor);
  }

  #unknown(descriptor: Descriptor): CaissonError {
    return new CaissonError({ code: 'ERR_BLOB_UNKNOWN', message: `${this.name}: no manifest or blob ${descriptor.digest} in the index's images` });
  }
}

/** BuildKit's annotation on the index entries of its attestation manifests (provenance, SBOM). */
const REFERENCE_TYPE_ANNOTATION = 'vnd.docker.reference.type';

/**
 * The images at `root` as index entries, each with its platform read from its config: the image
 * itself, or every image an index lists. An index's attestation manifests (BuildKit's
 * `vnd.docker.reference.type`) and entries that are not image manifests are left out and named
 * in `skipped`; an index inside an index is an error.
 */
export async function readImageEntries(options: { readonly source: ImageSource; readonly root: Descriptor; readonly name: string }): Promise<{
  readonly entries: readonly IndexEntry[];
  readonly images: readonly IndexedImage[];
  readonly skipped: readonly string[];
}> {
  const { source, name } = options;
  const parsed = await source.readManifest(options.root);
  const children =
    parsed.kind === 'manifest'
      ? [{ descriptor: options.root, name }]
      : parsed.index.manifests.map((descriptor) => ({ descriptor, name: `${name}@${descriptor.digest}` }));
  const entries: IndexEntry[] = [];
  const images: IndexedImage[] = [];
  const skipped: string[] = [];
  for (const child of children) {
    const reference = child.descriptor.annotations?.[REFERENCE_TYPE_ANNOTATION];
    if (parsed.kind === 'index' && (reference !== undefined || !isImageManifestMediaType(child.descriptor.mediaType))) {
      skipped.push(`${child.name} (${reference ?? child.descriptor.mediaType})`);
      continue;
    }
    const manifest = child.descriptor === options.root ? parsed : await source.readManifest(child.descriptor);
    if (manifest.kind !== 'manifest') throw new CaissonError({ code: 'ERR_IMAGE_INVALID', message: `${child.name}: an index inside an index is not an image`, hint: 'Give the inner index itself.' });
    const config = parseConfig({ bytes: await readAll(await source.openBlob(manifest.manifest.config)), what: `${child.name} config` });
    const descriptor = { mediaType: manifest.mediaType, digest: child.descriptor.digest, size: child.descriptor.size };
    entries.push({ descriptor, platform: configPlatform(config), name: child.name });
    images.push({ descriptor, manifest: manifest.manifest, source });
  }
  return { entries, images, skipped };
}
