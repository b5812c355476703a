/**
 * Copying an image (a manifest or a whole index) from any `ImageSource` to any `ImageTarget`:
 * blobs first, several at a time, then manifests bottom-up, then the root under its tags. Digests
 * are kept: manifests are copied byte for byte.
 */
import { startBufferReclaimer, type BufferReclaimer } from './buffer-reclaimer.js';
import type { Descriptor } from './manifest.js';
import { isForeignLayer } from './media-types.js';
import type { ImageSource, ImageTarget } from './store.js';

export interface CopyImageOptions {
  readonly source: ImageSource;
  readonly target: ImageTarget;
  /** The root descriptor (from `source.resolve`). */
  readonly root: Descriptor;
  /** Tags the root gets at the target; none leaves it addressable by digest only. */
  readonly tags?: readonly string[];
  /** Blob transfers in flight at once (default 4). */
  readonly concurrency?: number;
  /** Called after each blob with how it got there. */
  readonly onBlob?: (event: { readonly descriptor: Descriptor; readonly outcome: 'exists' | 'mounted' | 'written' }) => void;
}

export interface CopyResult {
  readonly root: Descriptor;
  readonly blobs: { readonly exists: number; readonly mounted: number; readonly written: number; readonly bytesWritten: number };
}

/**
 * Runs `work` over `items` with at most `limit` in flight; rejects with the first failure, once
 * the work in flight has ended (each cleans up after itself: no temporary file outlives the
 * call), and starts nothing after it.
 */
export async function forEachConcurrently<T>(options: { readonly items: readonly T[]; readonly limit: number; readonly work: (item: T) => Promise<void> }): Promise<void> {
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < options.items.length) {
      const item = options.items[next++] as T;
      try {
        await options.work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.limit, options.items.length)) }, worker));
  if (failure !== undefined) throw failure.error;
}

/** Blobs from this size on start the buffer reclaimer (see buffer-reclaimer.ts). */
const RECLAIMED_BLOB_BYTES = 1 << 20;

export async function copyImage(options: CopyImageOptions): Promise<CopyResult> {
  const { source, target } = options;
  const counts = { exists: 0, mounted: 0, written: 0, bytesWritten: 0 };
  const done = new Map<string, Promise<void>>();

  // Started when the first large blob flows: a push of a config and a manifest needs none.
  let reclaimer: BufferReclaimer | undefined;
  const copyBlob = async (descriptor: Descriptor): Promise<void> => {
    const origin = source.blobOrigin === undefined ? source.origin : source.blobOrigin(descriptor);
    const outcome = await target.writeBlob({
      descriptor,
      open: () => {
        if (descriptor.size >= RECLAIMED_BLOB_BYTES) reclaimer ??= startBufferReclaimer();
        return source.openBlob(descriptor);
      },
      verified: true,
      ...(origin === undefined ? {} : { mountFrom: origin }),
    });
    counts[outcome] += 1;
    if (outcome === 'written') counts.bytesWritten += descriptor.size;
    options.onBlob?.({ descriptor, outcome });
  };

  const copyManifest = async (descriptor: Descriptor, tag: string | undefined, root: boolean): Promise<void> => {
    const parsed = await source.readManifest(descriptor);
    if (parsed.kind === 'index') {
      // Children in order; each child's blobs go in parallel inside it.
      for (const child of parsed.index.manifests) await once(child, () => copyManifest(child, undefined, false));
    } else {
      const blobs = [parsed.manifest.config, ...parsed.manifest.layers].filter((blob) => !isForeignLayer(blob.mediaType));
      await forEachConcurrently({
        items: blobs,
        limit: options.concurrency ?? 4,
        work: (blob) => once(blob, () => copyBlob(blob)),
      });
    }
    await target.writeManifest({ descriptor, bytes: parsed.bytes, root, ...(tag === undefined ? {} : { tag }) });
  };

  const once = (descriptor: Descriptor, work: () => Promise<void>): Promise<void> => {
    const existing = done.get(descriptor.digest);
    if (existing !== undefined) return existing;
    const promise = work();
    done.set(descriptor.digest, promise);
    return promise;
  };

  const tags = options.tags ?? [];
  try {
    await copyManifest(options.root, tags[0], true);
  } finally {
    reclaimer?.stop();
  }
  for (const tag of tags.slice(1)) {
    const parsed = await source.readManifest(options.root);
    await target.writeManifest({ descriptor: options.root, bytes: parsed.bytes, tag, root: true });
  }
  await target.commit?.();
  return { root: options.root, blobs: counts };
}

