/**
 * The two small interfaces every image location implements (a registry repository, an OCI
 * layout, a docker-archive tarball): `ImageSource` reads, `ImageTarget` writes. Reads are
 * verified against their digests while they stream; writes verify before they make a blob visible.
 */
import type { Readable } from 'node:stream';
import type { Descriptor, ParsedManifest } from './manifest.js';

export interface ImageSource {
  /** Names the location in messages: `docker://ghcr.io/org/app`, `oci:/path`. */
  readonly name: string;
  /** Where blobs can be cross-mounted from when the target is the same registry. */
  readonly origin?: { readonly registry: string; readonly repository: string };
  /** Where one blob may be mounted from, when blobs come from different places (a built image). */
  blobOrigin?(descriptor: Descriptor): { readonly registry: string; readonly repository: string } | undefined;
  /** Resolves a tag (or digest) to the root descriptor; undefined picks the only/default one. */
  resolve(reference: string | undefined): Promise<Descriptor>;
  /** Reads and parses a manifest or index, verified against its descriptor. */
  readManifest(descriptor: Descriptor): Promise<ParsedManifest>;
  /** A stream of the blob's bytes that errors if they do not match the descriptor. */
  openBlob(descriptor: Descriptor): Promise<Readable>;
}

export interface WriteBlobOptions {
  readonly descriptor: Descriptor;
  /** Opens the content; called only when the target lacks the blob (again if an upload is retried). */
  readonly open: () => Promise<Readable>;
  /**
   * The stream `open` gives already fails unless it matches the descriptor (as every
   * `ImageSource.openBlob` stream does), so the target need not hash it a second time.
   */
  readonly verified?: boolean;
  /** Repositories of the same registry the blob may be mounted from instead of uploaded. */
  readonly mountFrom?: { readonly registry: string; readonly repository: string };
}

export interface WriteManifestOptions {
  readonly descriptor: Descriptor;
  readonly bytes: Buffer;
  readonly tag?: string;
  /** The image being copied (not a child of an index): a layout lists it in index.json. */
  readonly root?: boolean;
}

export interface ImageTarget {
  readonly name: string;
  /** Stores a blob unless already present; returns how it got there. */
  writeBlob(options: WriteBlobOptions): Promise<'exists' | 'mounted' | 'written'>;
  /** Stores manifest bytes (children first); tags it when `tag` is given. */
  writeManifest(options: WriteManifestOptions): Promise<void>;
  /** Makes what was written visible and durable (layouts rewrite index.json, archives end the tar). */
  commit?(): Promise<void>;
}
