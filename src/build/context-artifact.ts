/**
 * A build context as an OCI artifact, the way a cluster gets a local context when it runs a
 * TaskRun (a Task step has no stdin): `caisson submit` pushes the context tarball
 * (context-pack.ts) to the destination's repository, by digest and without a tag, as one OCI
 * 1.1 manifest (artifactType {@link CONTEXT_ARTIFACT_TYPE}, the empty config, one tar+gzip
 * layer); `caisson build --context oci://registry/repo@sha256:<manifest>` reads it back. The pull
 * checks the manifest's digest and the layer's (the registry client verifies both), so the
 * context built is byte for byte the one submitted.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { CaissonError } from '../errors.js';
import { describeBytes, formatReference, MediaType, parseReference, sha256, type Descriptor, type ImageManifest, type Reference } from '../image/index.js';
import type { RegistrySession } from '../registry/index.js';

/** The artifactType of a pushed build context. */
export const CONTEXT_ARTIFACT_TYPE = 'application/vnd.caisson.build-context.v1';

/** The scheme of a context artifact's reference in `--context`. */
export const CONTEXT_ARTIFACT_SCHEME = 'oci://';

/** Layer media types a context artifact may carry: a tar, plain or compressed (unpacking tells them apart). */
const TAR_LAYERS = new Set<string>([MediaType.ociLayer, MediaType.ociLayerGzip, MediaType.ociLayerZstd, MediaType.dockerLayer, MediaType.dockerLayerGzip]);

const EMPTY_CONFIG = Buffer.from('{}');

export interface PushContextOptions {
  readonly registry: RegistrySession;
  /** The repository pushed to (its tag or digest, if any, is ignored). */
  readonly repository: Pick<Reference, 'registry' | 'repository'>;
  /** The tarball: its descriptor and file (context-pack.ts). */
  readonly layer: { readonly descriptor: Descriptor; readonly path: string };
}

/** Pushes the context tarball; resolves with the `oci://registry/repo@sha256:…` to pass as --context. */
export async function pushContextArtifact(options: PushContextOptions): Promise<string> {
  const target = options.registry.repository(options.repository);
  const config = describeBytes({ mediaType: MediaType.ociEmpty, bytes: EMPTY_CONFIG });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: CONTEXT_ARTIFACT_TYPE,
    config,
    layers: [{ ...options.layer.descriptor, mediaType: MediaType.ociLayerGzip }],
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  await target.writeBlob({ descriptor: config, open: async () => Readable.from([EMPTY_CONFIG]) });
  await target.writeBlob({ descriptor: options.layer.descriptor, open: async () => createReadStream(options.layer.path) });
  const descriptor = { mediaType: MediaType.ociManifest, digest: sha256(bytes), size: bytes.length };
  await target.writeManifest({ descriptor, bytes });
  return `${CONTEXT_ARTIFACT_SCHEME}${formatReference({ registry: options.repository.registry, repository: options.repository.repository, digest: descriptor.digest })}`;
}

/** The reference an `oci://…` context names. */
export function contextArtifactReference(spec: string): Reference {
  return parseReference(spec.slice(CONTEXT_ARTIFACT_SCHEME.length));
}

/** Opens the one tar layer of the context artifact `reference`; the stream fails unless it matches its digest. */
export async function openContextArtifact(options: { readonly registry: RegistrySession; readonly reference: Reference }): Promise<AsyncIterable<Buffer>> {
  const shown = formatReference(options.reference);
  const pulled = await options.registry.pull({ reference: options.reference });
  const parsed = await pulled.repository.readManifest(pulled.root);
  const layers = parsed.kind === 'manifest' ? parsed.manifest.layers : [];
  const [layer] = layers;
  const artifactType = parsed.kind === 'manifest' ? parsed.manifest.artifactType : undefined;
  if (parsed.kind !== 'manifest' || artifactType !== CONTEXT_ARTIFACT_TYPE || layers.length !== 1 || layer === undefined || !TAR_LAYERS.has(layer.mediaType)) {
    throw new CaissonError({
      code: 'ERR_BUILD_CONTEXT',
      message: `build context oci://${shown}: not a context artifact (${parsed.kind === 'manifest' ? `artifactType ${artifactType ?? 'none'}, ${layers.length} layers` : 'an index'}); expected a manifest of artifactType ${CONTEXT_ARTIFACT_TYPE} with one tar layer`,
      hint: 'Give the oci:// reference caisson submit pushed (it prints it: "pushed the context as oci://…").',
    });
  }
  return (await pulled.repository.openBlob(layer)) as AsyncIterable<Buffer>;
}
