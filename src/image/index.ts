/**
 * image: the OCI image model, with no I/O beyond local files. Media types; branded `Digest` with
 * streaming verification; descriptors, manifests, indexes and configs parsed with shape checks;
 * references with Docker Hub defaults; platforms and index entry selection; image indexes and
 * Docker manifest lists made from images (`buildImageIndex`, `IndexSource`); the `ImageSource` /
 * `ImageTarget` interfaces with `copyImage` between them; OCI layout and docker-archive readers
 * and writers; `validateImage`, which recomputes every digest, size and diffID.
 *
 * May import: ../errors.js.
 */
export * from './media-types.js';
export {
  BLOB_STREAM_BUFFER, digestAlgorithm, digestHex, digestMismatch, digestOf, digestStream, isDigest, parseDigest, readAll, sha256, verifiedStream, VerifyingStream,
  type Digest, type VerifyOptions,
} from './digest.js';
export {
  childDescriptors, describeBytes, MAX_MANIFEST_BYTES, parseConfig, parseManifest,
  type ContainerConfig, type Descriptor, type HistoryEntry, type ImageConfig, type ImageIndex, type ImageManifest, type ParsedManifest,
} from './manifest.js';
export { DOCKER_HUB, formatReference, parseReference, referenceIdentifier, repositoryName, withDigest, type Reference } from './reference.js';
export {
  formatPlatform, hostPlatform, normalizePlatform, parsePlatform, platformDistance, selectPlatform,
  type DescribedPlatform, type Platform,
} from './platform.js';
export type { ImageSource, ImageTarget, WriteBlobOptions, WriteManifestOptions } from './store.js';
export { buildImageIndex, configPlatform, IndexSource, readImageEntries, type BuiltIndex, type IndexedImage, type IndexEntry } from './image-index.js';
export { copyImage, forEachConcurrently, type CopyImageOptions, type CopyResult } from './copy.js';
export { blobPath, OciLayout, REF_NAME_ANNOTATION, writeVerifiedFile } from './layout.js';
export { DockerArchiveReader, DockerArchiveWriter } from './docker-archive.js';
export { BLOCK, fileHeader, headerChecksum, padding, paddingLength, paxRecord, sealHeader, TAR_END, writeOctal } from './tar.js';
export { validateImage, type ValidateOptions, type ValidateReport } from './validate.js';
