/**
 * Test helper (never a test itself): the in-memory content of the fault-injecting registry
 * (fault-registry.ts). Blobs are content-addressed once and linked into repositories, as in CNCF
 * distribution; manifests and tags are per repository; upload sessions are kept until completed
 * or cancelled. No HTTP here: the server turns these results into responses.
 * Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md
 */
import { createHash, randomUUID } from 'node:crypto';

/** Repository names, as the distribution spec defines them (`a/b/c` allowed). */
const NAME_PATTERN = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_PATTERN = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function isValidName(name: string): boolean {
  return name.length <= 255 && NAME_PATTERN.test(name);
}

export function isValidTag(tag: string): boolean {
  return TAG_PATTERN.test(tag);
}

/** A digest this registry can verify: sha256 or sha512, lowercase hex of the right length. */
export function isSupportedDigest(digest: string): boolean {
  return DIGEST_PATTERN.test(digest);
}

export function digestOf(data: Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** True when `data` has exactly `digest` (a supported one). */
export function matchesDigest(data: Buffer, digest: string): boolean {
  if (!isSupportedDigest(digest)) return false;
  return digestOf(data, digest.startsWith('sha512:') ? 'sha512' : 'sha256') === digest;
}

export interface StoredManifest {
  readonly digest: string;
  readonly body: Buffer;
  readonly mediaType: string;
  /** Parsed from the body, for the referrers API. */
  readonly subject: string | undefined;
  readonly artifactType: string | undefined;
  readonly annotations: Readonly<Record<string, string>> | undefined;
}

export interface UploadSession {
  readonly id: string;
  readonly name: string;
  readonly chunks: Buffer[];
  size: number;
}

interface Repository {
  readonly blobs: Set<string>;
  readonly manifests: Map<string, StoredManifest>;
  readonly tags: Map<string, string>;
}

interface ManifestFields {
  readonly mediaType?: unknown;
  readonly artifactType?: unknown;
  readonly config?: { readonly digest?: unknown; readonly mediaType?: unknown };
  readonly layers?: readonly { readonly digest?: unknown }[];
  readonly manifests?: readonly { readonly digest?: unknown }[];
  readonly subject?: { readonly digest?: unknown };
  readonly annotations?: unknown;
}

/** Parses a manifest body as a JSON object, or undefined when it is not one. */
export function parseManifest(body: Buffer): ManifestFields | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as ManifestFields) : undefined;
  } catch {
    return undefined;
  }
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function annotationsOf(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

export class RegistryStore {
  readonly #content = new Map<string, Buffer>();
  readonly #repositories = new Map<string, Repository>();
  readonly #uploads = new Map<string, UploadSession>();

  #repository(name: string): Repository {
    let repository = this.#repositories.get(name);
    if (repository === undefined) {
      repository = { blobs: new Set(), manifests: new Map(), tags: new Map() };
      this.#repositories.set(name, repository);
    }
    return repository;
  }

  hasRepository(name: string): boolean {
    return this.#repositories.has(name);
  }

  // Blobs

  putBlob(name: string, data: Buffer, digest: string = digestOf(data)): string {
    this.#content.set(digest, Buffer.from(data));
    this.#repository(name).blobs.add(digest);
    return digest;
  }

  getBlob(name: string, digest: string): Buffer | undefined {
    return this.#repositories.get(name)?.blobs.has(digest) === true ? this.#content.get(digest) : undefined;
  }

  hasBlob(name: string, digest: string): boolean {
    return this.getBlob(name, digest) !== undefined;
  }

  deleteBlob(name: string, digest: string): boolean {
    return this.#repositories.get(name)?.blobs.delete(digest) ?? false;
  }

  /** Cross-repository mount: links `digest` into `name` when `from` has it. */
  mountBlob(name: string, digest: string, from: string): boolean {
    if (!this.hasBlob(from, digest)) return false;
    this.#repository(name).blobs.add(digest);
    return true;
  }

  // Upload sessions

  startUpload(name: string): UploadSession {
    const session: UploadSession = { id: randomUUID(), name, chunks: [], size: 0 };
    this.#uploads.set(session.id, session);
    return session;
  }

  getUpload(name: string, id: string): UploadSession | undefined {
    const session = this.#uploads.get(id);
    return session?.name === name ? session : undefined;
  }

  appendUpload(session: UploadSession, chunk: Buffer): void {
    if (chunk.length === 0) return;
    session.chunks.push(chunk);
    session.size += chunk.length;
  }

  /** Ends the session; stores the blob and returns true when its bytes match `digest`. */
  completeUpload(session: UploadSession, digest: string): boolean {
    this.#uploads.delete(session.id);
    const data = Buffer.concat(session.chunks);
    if (!matchesDigest(data, digest)) return false;
    this.putBlob(session.name, data, digest);
    return true;
  }

  cancelUpload(session: UploadSession): void {
    this.#uploads.delete(session.id);
  }

  // Manifests and tags

  /** Stores a manifest (any bytes) and tags it when `reference` is a tag; returns its digest. */
  putManifest(name: string, reference: string, body: Buffer, mediaType: string): StoredManifest {
    const fields = parseManifest(body);
    const manifest: StoredManifest = {
      digest: isSupportedDigest(reference) ? reference : digestOf(body),
      body: Buffer.from(body),
      mediaType,
      subject: stringOrUndefined(fields?.subject?.digest),
      artifactType: stringOrUndefined(fields?.artifactType) ?? stringOrUndefined(fields?.config?.mediaType),
      annotations: annotationsOf(fields?.annotations),
    };
    const repository = this.#repository(name);
    repository.manifests.set(manifest.digest, manifest);
    if (!isSupportedDigest(reference)) repository.tags.set(reference, manifest.digest);
    return manifest;
  }

  getManifest(name: string, reference: string): StoredManifest | undefined {
    const repository = this.#repositories.get(name);
    if (repository === undefined) return undefined;
    const digest = isSupportedDigest(reference) ? reference : repository.tags.get(reference);
    return digest === undefined ? undefined : repository.manifests.get(digest);
  }

  /** Deletes a tag, or a manifest by digest together with every tag pointing at it. */
  deleteManifest(name: string, reference: string): boolean {
    const repository = this.#repositories.get(name);
    if (repository === undefined) return false;
    if (!isSupportedDigest(reference)) return repository.tags.delete(reference);
    if (!repository.manifests.delete(reference)) return false;
    for (const [tag, digest] of repository.tags) if (digest === reference) repository.tags.delete(tag);
    return true;
  }

  /** Tags in lexical order (the order the tags list API pages through). */
  tags(name: string): string[] {
    return [...(this.#repositories.get(name)?.tags.keys() ?? [])].sort();
  }

  /** Manifests in `name` whose `subject` is `digest`. */
  referrers(name: string, digest: string): StoredManifest[] {
    const manifests = this.#repositories.get(name)?.manifests.values() ?? [];
    return [...manifests].filter((manifest) => manifest.subject === digest);
  }

  /** Digests a manifest refers to (config, layers, index entries) that `name` does not have. */
  missingReferences(name: string, body: Buffer): string[] {
    const fields = parseManifest(body);
    if (fields === undefined) return [];
    const blobs = [fields.config?.digest, ...(fields.layers ?? []).map((layer) => layer.digest)];
    const manifests = (fields.manifests ?? []).map((entry) => entry.digest);
    return [
      ...blobs.filter((digest): digest is string => typeof digest === 'string' && !this.hasBlob(name, digest)),
      ...manifests.filter((digest): digest is string => typeof digest === 'string' && this.getManifest(name, digest) === undefined),
    ];
  }
}
