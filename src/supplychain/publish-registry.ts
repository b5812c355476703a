/**
 * The registry side of publishing signatures: reading the image at a `.sig`/`.att` tag, writing
 * blobs then a manifest, and turning registry failures into ERR_SIGNING errors that name the
 * signature's reference. Used by publish.ts.
 */
import { Readable } from 'node:stream';
import { CaissonError, isCaissonError } from '../errors.js';
import { readAll, type Descriptor, type Digest } from '../image/index.js';
import type { RegistryRepository } from '../registry/index.js';
import type { ExistingCosignImage } from './cosign-image.js';

/** `registry/repository` of a repository, as references name it. */
export function repositoryReference(repository: RegistryRepository): string {
  return `${repository.origin.registry}/${repository.origin.repository}`;
}

/**
 * Runs one registry step of publishing; a failure is ERR_SIGNING naming `what` (the signature's
 * tag or reference) with the registry's message and the original error as the cause.
 */
export async function registryStep<T>(options: { readonly what: string; readonly action: string; readonly run: () => Promise<T> }): Promise<T> {
  try {
    return await options.run();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CaissonError({
      code: 'ERR_SIGNING',
      message: `${options.what}: cannot ${options.action}: ${reason}`,
      hint: (isCaissonError(error) ? error.hint : undefined) ?? 'Check that the registry accepts pushes to this repository with these credentials.',
      cause: error,
    });
  }
}

async function readBlob(repository: RegistryRepository, descriptor: Descriptor): Promise<Buffer> {
  return readAll(await repository.openBlob(descriptor));
}

function isMissing(error: unknown): boolean {
  return isCaissonError(error) && (error.code === 'ERR_MANIFEST_UNKNOWN' || error.code === 'ERR_REGISTRY_NAME_UNKNOWN');
}

/** The image at `tag` with its manifest digest, or undefined when the tag does not exist (404). */
export async function readCosignImage(options: { readonly repository: RegistryRepository; readonly tag: string; readonly what: string }): Promise<{ readonly image: ExistingCosignImage; readonly digest: Digest } | undefined> {
  const { repository, tag, what } = options;
  return registryStep({
    what,
    action: 'read the existing signature image',
    run: async () => {
      let descriptor: Descriptor;
      try {
        descriptor = await repository.resolve(tag);
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
      const parsed = await repository.readManifest(descriptor);
      if (parsed.kind !== 'manifest') throw new CaissonError({ code: 'ERR_SIGNING', message: 'the tag holds an index, not a signature image' });
      const configBytes = await readBlob(repository, parsed.manifest.config);
      return { image: { manifest: parsed.manifest, configBytes, what }, digest: descriptor.digest };
    },
  });
}

/** Uploads `blobs` (skipped when present), then PUTs the manifest (to `tag`, else by digest): a failure leaves no manifest pointing at missing blobs. */
export async function writeArtifact(options: {
  readonly repository: RegistryRepository;
  readonly what: string;
  readonly blobs: readonly { readonly descriptor: Descriptor; readonly bytes: Buffer }[];
  readonly manifest: { readonly descriptor: Descriptor; readonly bytes: Buffer };
  readonly tag?: string;
}): Promise<void> {
  const { repository, what } = options;
  await registryStep({
    what,
    action: 'upload the signature blobs',
    run: async () => {
      for (const blob of options.blobs) await repository.writeBlob({ descriptor: blob.descriptor, open: async () => Readable.from([blob.bytes]) });
    },
  });
  await registryStep({
    what,
    action: 'push the signature manifest',
    run: () => repository.writeManifest({ descriptor: options.manifest.descriptor, bytes: options.manifest.bytes, ...(options.tag === undefined ? {} : { tag: options.tag }) }),
  });
}
