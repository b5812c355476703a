/**
 * The OCI image spec's JSON documents as types, and their parsing from bytes with shape checks:
 * descriptors (https://github.com/opencontainers/image-spec/blob/main/descriptor.md), image
 * manifests (manifest.md), indexes (image-index.md) and configs (config.md); Docker schema 2
 * manifests and manifest lists have the same shapes under their own media types.
 */
import { CaissonError } from '../errors.js';
import { isDigest, sha256, type Digest } from './digest.js';
import { isImageManifestMediaType, isIndexMediaType, MediaType } from './media-types.js';
import type { DescribedPlatform } from './platform.js';

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly data?: string;
  readonly platform?: DescribedPlatform;
  readonly artifactType?: string;
}

export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** https://github.com/opencontainers/image-spec/blob/main/config.md */
export interface ImageConfig {
  readonly created?: string;
  readonly author?: string;
  readonly architecture: string;
  readonly os: string;
  readonly 'os.version'?: string;
  readonly 'os.features'?: readonly string[];
  readonly variant?: string;
  readonly config?: ContainerConfig;
  readonly rootfs: { readonly type: 'layers'; readonly diff_ids: readonly Digest[] };
  readonly history?: readonly HistoryEntry[];
}

export interface ContainerConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, object>>;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Volumes?: Readonly<Record<string, object>>;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  readonly ArgsEscaped?: boolean;
  readonly Shell?: readonly string[];
  readonly Healthcheck?: {
    readonly Test?: readonly string[];
    readonly Interval?: number;
    readonly Timeout?: number;
    readonly StartPeriod?: number;
    readonly StartInterval?: number;
    readonly Retries?: number;
  };
  readonly OnBuild?: readonly string[] | null;
}

export interface HistoryEntry {
  readonly created?: string;
  readonly created_by?: string;
  readonly author?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

/** A manifest or an index, told apart by `kind`, with the exact bytes it came from. */
export type ParsedManifest =
  | { readonly kind: 'manifest'; readonly mediaType: string; readonly manifest: ImageManifest; readonly bytes: Buffer }
  | { readonly kind: 'index'; readonly mediaType: string; readonly index: ImageIndex; readonly bytes: Buffer };

/** Manifests larger than this are refused, as the distribution spec allows registries to. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

function invalid(what: string, problem: string): CaissonError {
  return new CaissonError({
    code: 'ERR_IMAGE_INVALID',
    message: `${what}: ${problem}`,
    hint: 'The manifest does not follow the OCI image spec or Docker schema 2; check what pushed it.',
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkDescriptor(value: unknown, what: string, field: string): Descriptor {
  if (!isObject(value)) throw invalid(what, `${field} is not a descriptor object`);
  if (typeof value['mediaType'] !== 'string' || value['mediaType'] === '') throw invalid(what, `${field}.mediaType is missing`);
  if (typeof value['digest'] !== 'string' || !isDigest(value['digest'])) throw invalid(what, `${field}.digest is not a valid digest`);
  const size = value['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(what, `${field}.size is not a non-negative integer`);
  return value as unknown as Descriptor;
}

function checkDescriptors(value: unknown, what: string, field: string): void {
  if (!Array.isArray(value)) throw invalid(what, `${field} is not an array`);
  value.forEach((entry, i) => checkDescriptor(entry, what, `${field}[${i}]`));
}

/**
 * Parses manifest bytes. `mediaType` is what the registry or layout said (Content-Type or the
 * descriptor); the document's own `mediaType`, when present, must agree with it.
 */
export function parseManifest(options: { readonly bytes: Buffer; readonly mediaType?: string; readonly what: string }): ParsedManifest {
  const { bytes, what } = options;
  if (bytes.length > MAX_MANIFEST_BYTES) throw invalid(what, `manifest is ${bytes.length} bytes, over the 4 MiB limit`);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw invalid(what, `manifest is not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(json)) throw invalid(what, 'manifest is not a JSON object');
  if (json['schemaVersion'] !== 2) throw invalid(what, `unsupported schemaVersion ${JSON.stringify(json['schemaVersion'])} (only 2 is supported)`);
  const stated = typeof json['mediaType'] === 'string' ? json['mediaType'] : undefined;
  const given = options.mediaType !== undefined && isKnownManifestType(options.mediaType) ? options.mediaType : undefined;
  if (stated !== undefined && given !== undefined && stated !== given) {
    throw invalid(what, `manifest says mediaType ${stated} but was served as ${given}`);
  }
  const mediaType = stated ?? given ?? ('manifests' in json ? MediaType.ociIndex : MediaType.ociManifest);
  if (json['subject'] !== undefined) checkDescriptor(json['subject'], what, 'subject');
  if (isIndexMediaType(mediaType)) {
    checkDescriptors(json['manifests'], what, 'manifests');
    return { kind: 'index', mediaType, index: json as unknown as ImageIndex, bytes };
  }
  if (isImageManifestMediaType(mediaType)) {
    checkDescriptor(json['config'], what, 'config');
    checkDescriptors(json['layers'], what, 'layers');
    return { kind: 'manifest', mediaType, manifest: json as unknown as ImageManifest, bytes };
  }
  throw invalid(what, `unsupported manifest media type ${mediaType}`);
}

function isKnownManifestType(mediaType: string): boolean {
  return isIndexMediaType(mediaType) || isImageManifestMediaType(mediaType);
}

/** Parses and shape-checks an image config blob. */
export function parseConfig(options: { readonly bytes: Buffer; readonly what: string }): ImageConfig {
  let json: unknown;
  try {
    json = JSON.parse(options.bytes.toString('utf8'));
  } catch (error) {
    throw invalid(options.what, `image config is not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(json)) throw invalid(options.what, 'image config is not a JSON object');
  const rootfs = json['rootfs'];
  if (!isObject(rootfs) || !Array.isArray(rootfs['diff_ids'])) throw invalid(options.what, 'image config has no rootfs.diff_ids');
  for (const id of rootfs['diff_ids'] as unknown[]) {
    if (typeof id !== 'string' || !isDigest(id)) throw invalid(options.what, `image config has an invalid diff_id ${JSON.stringify(id)}`);
  }
  return json as unknown as ImageConfig;
}

/** A descriptor for bytes already in hand (a manifest or config being written). */
export function describeBytes(options: { readonly mediaType: string; readonly bytes: Uint8Array }): Descriptor {
  return { mediaType: options.mediaType, digest: sha256(options.bytes), size: options.bytes.length };
}

/** The media types of manifests whose children are manifests (indexes) vs blobs. */
export function childDescriptors(parsed: ParsedManifest): readonly Descriptor[] {
  return parsed.kind === 'index' ? parsed.index.manifests : [parsed.manifest.config, ...parsed.manifest.layers];
}
