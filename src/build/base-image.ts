/**
 * FROM an image: the reference resolved once per build to the manifest for the build's platform
 * (picked from an index), its config read, and its layers described lazily — nothing is
 * downloaded until a step needs the files (then the layer store extracts each layer once).
 * With a layer store, manifests and the config come from the store when `caisson warm` (or
 * anything else) put them there: a digest-pinned base that is fully warmed needs no registry
 * request at all; a tag is still resolved at the registry (one manifest GET).
 */
import { CaissonError, type SourceLocation } from '../errors.js';
import type { LayerStore } from '../fs/index.js';
import {
  formatPlatform, formatReference, parseConfig, parseReference, platformDistance, readAll, repositoryName, selectPlatform,
  type Descriptor, type ImageConfig, type ImageManifest, type ImageSource, type Platform, type Reference,
} from '../image/index.js';
import type { RegistrySession } from '../registry/index.js';
import type { CacheRepairs } from './cache-repairs.js';
import type { StageLayer } from './stage-state.js';
import { StoreFirstSource, storedManifest } from './store-image.js';

export interface BaseImage {
  /** The reference as given, normalized (`registry/repository:tag` or `@digest`); `manifest` is the platform's. */
  readonly name: string;
  /** The digest the reference resolved to: the image's manifest, or the index it was picked from. */
  readonly root: string;
  readonly manifest: Descriptor;
  readonly config: ImageConfig;
  readonly layers: readonly StageLayer[];
}

/**
 * BuildKit's InvalidBaseImagePlatform: the message when `image` (a single image, no index to pick
 * from) is for another platform than `wanted`; undefined when it can run there.
 */
export function basePlatformMismatch(options: { readonly image: string; readonly wanted: Platform; readonly found: Platform }): string | undefined {
  if (platformDistance({ wanted: options.wanted, candidate: options.found }) !== undefined) return undefined;
  return `${options.image} is a single image for ${formatPlatform(options.found)}, not for ${formatPlatform(options.wanted)}`;
}

function located(error: unknown, location: SourceLocation): unknown {
  if (!(error instanceof CaissonError) || error.location !== undefined) return error;
  return new CaissonError({ code: error.code, message: error.message, location, cause: error, ...(error.hint === undefined ? {} : { hint: error.hint }) });
}

export interface ReadImageOptions {
  readonly source: ImageSource;
  readonly root: Descriptor;
  readonly platform: Platform;
  readonly name: string;
}

/** The image manifest for `platform`: the root itself, or the index entry chosen for it. */
export async function selectImageManifest(options: ReadImageOptions): Promise<{ readonly descriptor: Descriptor; readonly manifest: ImageManifest }> {
  const { source, platform } = options;
  let descriptor = options.root;
  let parsed = await source.readManifest(descriptor);
  if (parsed.kind === 'index') {
    const chosen = selectPlatform({ entries: parsed.index.manifests, wanted: platform });
    if (chosen === undefined) {
      const offered = parsed.index.manifests.flatMap((entry) => (entry.platform === undefined ? [] : [formatPlatform(entry.platform)]));
      throw new CaissonError({
        code: 'ERR_MANIFEST_UNKNOWN',
        message: `${options.name}: no image for ${formatPlatform(platform)} in the index`,
        hint: offered.length > 0 ? `It has ${offered.join(', ')}; pass --custom-platform or FROM --platform.` : 'The index lists no platforms.',
      });
    }
    descriptor = chosen;
    parsed = await source.readManifest(descriptor);
  }
  if (parsed.kind !== 'manifest') throw new CaissonError({ code: 'ERR_IMAGE_INVALID', message: `${options.name}: an index inside an index is not an image` });
  return { descriptor, manifest: parsed.manifest };
}

/** Reads an image's manifest for `platform` and its config from any image source. */
export async function readImage(options: ReadImageOptions): Promise<BaseImage> {
  const { source } = options;
  const { descriptor, manifest } = await selectImageManifest(options);
  const config = parseConfig({ bytes: await readAll(await source.openBlob(manifest.config)), what: `${options.name} config` });
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new CaissonError({ code: 'ERR_IMAGE_INVALID', message: `${options.name}: the manifest has ${manifest.layers.length} layers but the config ${diffIds.length} diff_ids` });
  }
  const layers = manifest.layers.map((layer, i): StageLayer => ({ descriptor: layer, diffId: diffIds[i] as StageLayer['diffId'], blob: { kind: 'source', source } }));
  return { name: options.name, root: options.root.digest, manifest: descriptor, config, layers };
}

/**
 * Where the image comes from: with a store, a source that reads the store first; a digest whose
 * manifest the store has is not asked of the registry (nor is anything else the store has).
 */
async function openImage(options: { readonly registry: RegistrySession; readonly reference: Reference; readonly store: LayerStore | undefined; readonly repairs: CacheRepairs | undefined }): Promise<{ readonly source: ImageSource; readonly root: Descriptor }> {
  const { registry, reference, store } = options;
  const pull = () => registry.pull({ reference });
  const repairs = options.repairs === undefined ? {} : { repairs: options.repairs };
  // A build keeps the layers it downloads: what it extracts it may write out again.
  const kept = { keepLayers: true, ...repairs };
  const stored = store === undefined || reference.digest === undefined ? undefined : await storedManifest({ store, digest: reference.digest, what: formatReference(reference), ...repairs });
  if (store === undefined || stored === undefined) {
    const pulled = await pull();
    const { repository } = pulled;
    const source = store === undefined ? repository : new StoreFirstSource({ store, name: repository.name, origin: repository.origin, upstream: async () => repository, ...kept });
    return { source, root: pulled.root };
  }
  const origin = { registry: reference.registry, repository: reference.repository };
  const source = new StoreFirstSource({ store, name: `docker://${repositoryName(origin)}`, origin, upstream: async () => (await pull()).repository, ...kept });
  return { source, root: stored.descriptor };
}

/** Resolves `FROM <reference>` through the registry session (mirrors, credentials, TLS), reading what `store` has from it. */
export async function pullBaseImage(options: {
  readonly registry: RegistrySession;
  readonly reference: string;
  readonly platform: Platform;
  readonly location: SourceLocation;
  /** The layer store: manifests and blobs it has are read from it. */
  readonly store?: LayerStore;
  /** Told of what the store held corrupt. */
  readonly repairs?: CacheRepairs;
}): Promise<BaseImage> {
  try {
    const reference = parseReference(options.reference);
    const { source, root } = await openImage({ registry: options.registry, reference, store: options.store, repairs: options.repairs });
    return await readImage({ source, root, platform: options.platform, name: formatReference(reference) });
  } catch (error) {
    throw located(error, options.location);
  }
}
