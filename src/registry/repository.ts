/**
 * A repository of a registry as an `ImageSource` and `ImageTarget`, so `copyImage` moves images
 * between registries, layouts and archives alike. Manifests fetched once are remembered by digest
 * for the life of the object; pushes of artifacts with a `subject` keep the referrers fallback
 * tag up to date when the registry lacks the referrers API.
 */
import type { Readable } from 'node:stream';
import { isDigest, repositoryName, type Descriptor, type Digest, type ImageSource, type ImageTarget, type ParsedManifest, type Reference, type WriteBlobOptions, type WriteManifestOptions } from '../image/index.js';
import { uploadBlob, openBlob } from './blobs.js';
import type { RegistryClient } from './client.js';
import { getManifest, headManifest, putManifest } from './manifests.js';
import { addToFallbackIndex, listReferrers } from './referrers.js';

export interface RegistryRepositoryOptions {
  readonly client: RegistryClient;
  readonly repository: string;
  readonly chunkedUploadThreshold: number;
  readonly chunkSize: number;
}

export class RegistryRepository implements ImageSource, ImageTarget {
  readonly name: string;
  readonly origin: { readonly registry: string; readonly repository: string };
  readonly #options: RegistryRepositoryOptions;
  readonly #manifests = new Map<string, ParsedManifest>();
  /** Blobs known to be in the repository already (see `present`): pushed without asking. */
  readonly #present = new Set<string>();
  /** Tags known to name a manifest already (see `present`), and its digest. */
  readonly #tagged = new Map<string, string>();

  constructor(options: RegistryRepositoryOptions) {
    this.#options = options;
    this.origin = { registry: options.client.registry, repository: options.repository };
    this.name = `docker://${repositoryName(this.origin)}`;
  }

  get #target(): { readonly client: RegistryClient; readonly repository: string } {
    return { client: this.#options.client, repository: this.#options.repository };
  }

  async resolve(reference: string | undefined): Promise<Descriptor> {
    const { descriptor, parsed } = await getManifest({ ...this.#target, reference: reference ?? 'latest' });
    this.#manifests.set(descriptor.digest, parsed);
    return descriptor;
  }

  /** The descriptor `reference` names here (HEAD), or undefined when the repository has no such manifest. */
  head(reference: string): Promise<Descriptor | undefined> {
    return headManifest({ ...this.#target, reference });
  }

  async readManifest(descriptor: Descriptor): Promise<ParsedManifest> {
    const known = this.#manifests.get(descriptor.digest);
    if (known !== undefined) return known;
    const { parsed } = await getManifest({ ...this.#target, reference: descriptor.digest });
    this.#manifests.set(descriptor.digest, parsed);
    return parsed;
  }

  /** The manifests whose `subject` is `subject`: the referrers API, else the `sha256-<hex>` fallback tag. */
  referrers(options: { readonly subject: Digest; readonly artifactType?: string }): Promise<readonly Descriptor[]> {
    return listReferrers({ ...this.#target, ...options });
  }

  async openBlob(descriptor: Descriptor): Promise<Readable> {
    return openBlob({ ...this.#target, descriptor });
  }

  /**
   * The blobs (config and layers) of the image `reference` names here, now taken as present: a
   * registry holds every blob of a manifest it stores, so a push of a rebuilt image need not ask
   * for each one it shares with the image it replaces; and a tag found naming the very manifest
   * pushed is not written again. Nothing when the reference names no image (absent, an index, or
   * the registry fails to answer): the push then asks as usual.
   */
  async present(reference: string): Promise<void> {
    try {
      const { descriptor, parsed } = await getManifest({ ...this.#target, reference });
      this.#manifests.set(descriptor.digest, parsed);
      if (!isDigest(reference)) this.#tagged.set(reference, descriptor.digest);
      if (parsed.kind !== 'manifest') return;
      for (const blob of [parsed.manifest.config, ...parsed.manifest.layers]) this.#present.add(blob.digest);
    } catch {
      // Only an optimisation: a push asks for each blob instead.
    }
  }

  writeBlob(options: WriteBlobOptions): Promise<'exists' | 'mounted' | 'written'> {
    if (this.#present.has(options.descriptor.digest)) return Promise.resolve('exists');
    const from = options.mountFrom;
    const mountFrom = from !== undefined && from.registry === this.origin.registry && from.repository !== this.origin.repository ? from.repository : undefined;
    return uploadBlob({
      ...this.#target,
      descriptor: options.descriptor,
      open: options.open,
      chunkedUploadThreshold: this.#options.chunkedUploadThreshold,
      chunkSize: this.#options.chunkSize,
      ...(mountFrom === undefined ? {} : { mountFrom }),
    });
  }

  async writeManifest(options: WriteManifestOptions): Promise<void> {
    const { descriptor, bytes } = options;
    // The tag names this very manifest already (a rebuild that changed nothing): nothing to write.
    if (options.tag !== undefined && this.#tagged.get(options.tag) === descriptor.digest) return;
    const result = await putManifest({ ...this.#target, reference: options.tag ?? descriptor.digest, bytes, mediaType: descriptor.mediaType });
    const subject = (JSON.parse(bytes.toString('utf8')) as { subject?: { digest?: unknown } }).subject?.digest;
    if (!result.subjectProcessed && typeof subject === 'string' && isDigest(subject)) {
      const document = JSON.parse(bytes.toString('utf8')) as { artifactType?: string; config?: { mediaType?: string }; annotations?: Record<string, string> };
      const artifactType = document.artifactType ?? document.config?.mediaType;
      await addToFallbackIndex({
        ...this.#target,
        subject,
        referrer: {
          mediaType: descriptor.mediaType,
          digest: descriptor.digest,
          size: descriptor.size,
          ...(artifactType === undefined ? {} : { artifactType }),
          ...(document.annotations === undefined ? {} : { annotations: document.annotations }),
        },
      });
    }
  }
}

/** The repository a reference names, on a client for its registry. */
export function repositoryFor(options: { readonly reference: Reference; readonly client: RegistryClient; readonly chunkedUploadThreshold: number; readonly chunkSize: number }): RegistryRepository {
  return new RegistryRepository({ client: options.client, repository: options.reference.repository, chunkedUploadThreshold: options.chunkedUploadThreshold, chunkSize: options.chunkSize });
}
