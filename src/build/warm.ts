/**
 * `caisson warm`'s work (kaniko's warmer): a base image pulled into the layer store ahead of
 * builds — the manifest (and the index it came from), the config and every layer blob under
 * `blobs/`, each verified while it streams and renamed into place, and every layer extracted
 * once under `layers/`. A later build on the same cache directory then downloads and extracts
 * nothing for that base (base-image.ts reads the store first).
 *
 * What was warmed is recorded under `warm/<sha256 of reference and platform>.json` with the time.
 * A tag is resolved every time, as kaniko's warmer does (one manifest request: it may have been
 * pushed again): when it still points at the digest warmed within the TTL and the store still has
 * every blob and layer of it, nothing more is fetched; when it moved, the new image is warmed. A
 * digest cannot move: within the TTL, with everything in the store, it is not asked of the
 * registry at all. `force` fetches either again.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { CaissonError, type SourceLocation } from '../errors.js';
import type { LayerStore } from '../fs/index.js';
import {
  copyImage, digestHex, forEachConcurrently, formatPlatform, formatReference, isDigest, normalizePlatform, parseReference, sha256,
  type Digest, type Platform, type Reference,
} from '../image/index.js';
import type { RegistrySession } from '../registry/index.js';
import { readImage, selectImageManifest } from './base-image.js';
import { StoreFirstSource, StoreTarget } from './store-image.js';

export interface WarmImageOptions {
  readonly store: LayerStore;
  readonly registry: RegistrySession;
  /** The image reference, as written (`alpine:3.20`, `ghcr.io/org/app@sha256:…`). */
  readonly reference: string;
  readonly platform: Platform;
  /** Download every blob again, even those the store has (kaniko's --force). */
  readonly force: boolean;
  /** An image warmed less than this long ago is not fetched again (kaniko's --cache-ttl). */
  readonly ttlMs: number;
  /** Where the reference was written (a Dockerfile's FROM), for errors. */
  readonly location?: SourceLocation;
  /** The current time in milliseconds (tests pass their own). */
  readonly now?: () => number;
}

export interface WarmedImage {
  /** `registry/repository[:tag]@sha256:…`: the reference pinned to what it resolved to. */
  readonly pinned: string;
  /** What the reference resolves to (an index, or the image itself). */
  readonly digest: Digest;
  /** The image manifest for the platform (differs from `digest` when that is an index). */
  readonly image: Digest;
  /**
   * The image's own platform, as its config states: not the one asked for when the reference is a
   * single image of another platform (see basePlatformMismatch).
   */
  readonly platform: Platform;
  /** Within the TTL and complete in the store: nothing was fetched (a tag's manifest was asked for, a digest's not). */
  readonly fresh: boolean;
  /** What the tag pointed at when it was last warmed, when it has moved since. */
  readonly moved?: Digest;
  /** When it was last warmed before this call (fresh only), in milliseconds since the epoch. */
  readonly warmedAt?: number;
  readonly layers: { readonly fetched: number; readonly present: number; readonly extracted: number };
  /** Blob bytes downloaded (layers and config). */
  readonly bytes: number;
  readonly milliseconds: number;
}

/** What warm records per reference and platform. */
interface WarmRecord {
  readonly reference: string;
  readonly platform: string;
  readonly digest: Digest;
  readonly image: Digest;
  /** The image's own platform (its config's); records written before it was kept lack it. */
  readonly imagePlatform?: Platform;
  /** Every blob: the manifests, the config, the layers. */
  readonly blobs: readonly Digest[];
  /** Every layer's diffID (extracted under layers/). */
  readonly layers: readonly Digest[];
  readonly warmedAt: number;
}

function recordPath(store: LayerStore, name: string, platform: Platform): string {
  return join(store.root, 'warm', `${digestHex(sha256(`${name} ${formatPlatform(platform)}`))}.json`);
}

function isRecord(value: unknown): value is WarmRecord {
  const record = value as Partial<WarmRecord> | null;
  const digests = (list: unknown): boolean => Array.isArray(list) && list.every((item) => typeof item === 'string' && isDigest(item));
  const platform = (item: unknown): boolean => {
    const candidate = item as Partial<Platform> | null | undefined;
    return candidate === undefined || (typeof candidate === 'object' && candidate !== null && typeof candidate.os === 'string' && typeof candidate.architecture === 'string');
  };
  return (
    typeof record === 'object' && record !== null && typeof record.warmedAt === 'number' &&
    typeof record.digest === 'string' && isDigest(record.digest) && typeof record.image === 'string' && isDigest(record.image) &&
    digests(record.blobs) && digests(record.layers) && platform(record.imagePlatform)
  );
}

/** What an earlier warm recorded at `path`, if anything (an unreadable record counts as none). */
async function readRecord(path: string): Promise<WarmRecord | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  let record: unknown;
  try {
    record = text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
  return isRecord(record) ? record : undefined;
}

/** The record when it names `digest`, is younger than the TTL, and the store still has everything it names. */
async function freshRecord(options: {
  readonly store: LayerStore;
  readonly record: WarmRecord | undefined;
  readonly digest: Digest | undefined;
  readonly ttlMs: number;
  readonly now: number;
}): Promise<WarmRecord | undefined> {
  const { store, record } = options;
  if (record === undefined || record.digest !== options.digest || options.now - record.warmedAt >= options.ttlMs) return undefined;
  const blobs = await Promise.all(record.blobs.map((digest) => store.useBlob(digest)));
  const layers = await Promise.all(record.layers.map((diffId) => store.findLayer(diffId)));
  return [...blobs, ...layers].every((found) => found !== undefined) ? record : undefined;
}

async function writeRecord(path: string, record: WarmRecord): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const temporary = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(temporary, `${JSON.stringify(record)}\n`);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** The reference's name pinned to `digest`, keeping its tag: `registry/repo:tag@sha256:…`. */
function pinned(reference: Reference, digest: Digest): string {
  return formatReference({ ...reference, digest });
}

/** The error, with the reference in its message (and the Dockerfile line it came from). */
function naming(error: unknown, name: string, location: SourceLocation | undefined): unknown {
  if (!(error instanceof CaissonError)) return error;
  const message = error.message.includes(name) ? error.message : `${name}: ${error.message}`;
  if (message === error.message && (location === undefined || error.location !== undefined)) return error;
  return new CaissonError({
    code: error.code,
    message,
    cause: error,
    ...(error.hint === undefined ? {} : { hint: error.hint }),
    ...(error.location === undefined && location === undefined ? {} : { location: error.location ?? location }),
  });
}

/** Pulls one image for `platform` into the store (see the file comment). */
export async function warmImage(options: WarmImageOptions): Promise<WarmedImage> {
  const now = options.now ?? Date.now;
  const started = now();
  let name = options.reference;
  try {
    const reference = parseReference(options.reference);
    name = formatReference(reference);
    const { store, platform } = options;
    const path = recordPath(store, name, platform);
    const record = await readRecord(path);
    // A tag may have been pushed again since: only the registry knows what it names now.
    const resolved = reference.digest === undefined ? await options.registry.pull({ reference }) : undefined;
    const current = resolved?.root.digest ?? reference.digest;
    const fresh = options.force ? undefined : await freshRecord({ store, record, digest: current, ttlMs: options.ttlMs, now: started });
    if (fresh !== undefined) {
      return {
        pinned: pinned(reference, fresh.digest), digest: fresh.digest, image: fresh.image, platform: fresh.imagePlatform ?? platform, fresh: true, warmedAt: fresh.warmedAt,
        layers: { fetched: 0, present: fresh.layers.length, extracted: 0 }, bytes: 0, milliseconds: now() - started,
      };
    }

    const { repository, root } = resolved ?? (await options.registry.pull({ reference }));
    const moved = record !== undefined && record.digest !== root.digest ? { moved: record.digest } : {};
    const { descriptor, manifest } = await selectImageManifest({ source: repository, root, platform, name });
    const target = new StoreTarget({ store, force: options.force });
    const layers = { fetched: 0, present: 0, extracted: 0 };
    const copied = await copyImage({
      source: repository,
      target,
      root: descriptor,
      concurrency: options.registry.options.concurrency,
      onBlob: ({ descriptor: blob, outcome }) => {
        if (blob.digest === manifest.config.digest) return;
        if (outcome === 'written') layers.fetched += 1;
        else layers.present += 1;
      },
    });
    // The index too, so that `FROM name@<index digest>` finds everything in the store.
    if (root.digest !== descriptor.digest) await target.writeManifest({ descriptor: root, bytes: (await repository.readManifest(root)).bytes });

    // Everything is in the store now: the config is read from there, each layer extracted once.
    const source = new StoreFirstSource({ store, name: repository.name, origin: repository.origin, upstream: async () => repository });
    const image = await readImage({ source, root: descriptor, platform, name });
    const imagePlatform = normalizePlatform(image.config);
    await forEachConcurrently({
      items: image.layers,
      limit: availableParallelism(),
      work: async (layer) => {
        const stored = await store.unpackLayer({ diffId: layer.diffId, what: `${name} layer ${layer.descriptor.digest}`, open: () => source.openBlob(layer.descriptor) });
        if (stored.extracted) layers.extracted += 1;
      },
    });
    await writeRecord(path, {
      reference: name,
      platform: formatPlatform(platform),
      digest: root.digest,
      image: descriptor.digest,
      imagePlatform,
      blobs: [...new Set([root.digest, descriptor.digest, manifest.config.digest, ...manifest.layers.map((layer) => layer.digest)])],
      layers: image.layers.map((layer) => layer.diffId),
      warmedAt: started,
    });
    const bytes = copied.blobs.bytesWritten;
    return { pinned: pinned(reference, root.digest), digest: root.digest, image: descriptor.digest, platform: imagePlatform, fresh: false, ...moved, layers, bytes, milliseconds: now() - started };
  } catch (error) {
    throw naming(error, name, options.location);
  }
}
