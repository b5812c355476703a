/**
 * cosign's `.sig` and `.att` images (cosign pkg/oci/mutate, pkg/oci/empty, pkg/cosign/remote
 * `NewDupeDetector`; shared/specs/supply-chain.md §1 "Manifest", "Multiple signatures"): their
 * tags, their manifest and config bytes, and appending one layer to an existing one with cosign's
 * duplicate rule. Pure: reading and writing the registry is the caller's.
 */
import { CaissonError } from '../errors.js';
import { describeBytes, digestAlgorithm, digestHex, isDigest, MediaType, sha256, type Descriptor, type Digest, type ImageManifest } from '../image/index.js';
import { CosignAnnotation } from './cosign-annotations.js';
import { SignatureFormatError } from './format-error.js';
import { GO_ZERO_TIME, ggcrManifestBytes, goTime } from './ggcr-json.js';
import { goJson, isObject, parseJsonObject } from './wire.js';

/** cosign refuses to grow a `.sig`/`.att` image past this many layers (pkg/oci/mutate maxLayers). */
export const MAX_COSIGN_LAYERS = 1000;

/** What a tag beside an image holds: signatures, attestations, or an SBOM. */
export type CosignTagKind = 'sig' | 'att' | 'sbom';

/** `sha256-<hex>.sig` (or `.att`, `.sbom`) for the digest of the signed manifest or index. */
export function cosignTag(options: { readonly digest: Digest; readonly kind: CosignTagKind }): string {
  return `${digestAlgorithm(options.digest)}-${digestHex(options.digest)}.${options.kind}`;
}

/** A layer blob with its media type and annotations; its descriptor is computed from the bytes. */
export function cosignLayer(options: { readonly mediaType: string; readonly blob: Buffer; readonly annotations: Readonly<Record<string, string>> }): Descriptor {
  return { ...describeBytes({ mediaType: options.mediaType, bytes: options.blob }), annotations: options.annotations };
}

/** One `history` entry, ggcr's `v1.History`. */
export interface CosignHistoryEntry {
  readonly author?: string;
  readonly created: string;
  readonly created_by?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

/** ggcr's `v1.ConfigFile` as cosign leaves it: empty but for rootfs and history (and `created` when recorded). */
export interface CosignConfig {
  readonly architecture: string;
  readonly author?: string;
  readonly created: string;
  readonly history: readonly CosignHistoryEntry[];
  readonly os: string;
  readonly rootfs: { readonly type: string; readonly diff_ids: readonly Digest[] };
  readonly config: Readonly<Record<string, unknown>>;
  readonly 'os.version'?: string;
  readonly variant?: string;
}

/** A `.sig`/`.att` image ready to push: the config blob, then the manifest. */
export interface CosignImage {
  readonly manifest: ImageManifest;
  readonly manifestBytes: Buffer;
  readonly manifestDigest: Digest;
  readonly config: CosignConfig;
  readonly configBytes: Buffer;
}

/** The config's bytes in ggcr's field order (Go omits empty `history`; `diff_ids` is always written). */
export function cosignConfigBytes(config: CosignConfig): Buffer {
  return Buffer.from(
    goJson({
      architecture: config.architecture,
      ...(config.author === undefined || config.author === '' ? {} : { author: config.author }),
      created: config.created,
      ...(config.history.length === 0
        ? {}
        : {
            history: config.history.map((entry) => ({
              ...(entry.author === undefined || entry.author === '' ? {} : { author: entry.author }),
              created: entry.created,
              ...(entry.created_by === undefined || entry.created_by === '' ? {} : { created_by: entry.created_by }),
              ...(entry.comment === undefined || entry.comment === '' ? {} : { comment: entry.comment }),
              ...(entry.empty_layer === true ? { empty_layer: true } : {}),
            })),
          }),
      os: config.os,
      rootfs: { type: config.rootfs.type, diff_ids: config.rootfs.diff_ids },
      config: config.config,
      ...(config['os.version'] === undefined || config['os.version'] === '' ? {} : { 'os.version': config['os.version'] }),
      ...(config.variant === undefined || config.variant === '' ? {} : { variant: config.variant }),
    }),
  );
}

function emptyConfig(): CosignConfig {
  return { architecture: '', created: GO_ZERO_TIME, history: [], os: '', rootfs: { type: 'layers', diff_ids: [] }, config: {} };
}

function assemble(options: { readonly format: 'oci' | 'docker'; readonly layers: readonly Descriptor[]; readonly config: CosignConfig }): CosignImage {
  const configBytes = cosignConfigBytes(options.config);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: options.format === 'oci' ? MediaType.ociManifest : MediaType.dockerManifest,
    config: describeBytes({ mediaType: options.format === 'oci' ? MediaType.ociConfig : MediaType.dockerConfig, bytes: configBytes }),
    layers: options.layers,
  };
  const manifestBytes = ggcrManifestBytes(manifest);
  return { manifest, manifestBytes, manifestDigest: sha256(manifestBytes), config: options.config, configBytes };
}

function withLayers(config: CosignConfig, layers: readonly Descriptor[]): CosignConfig {
  // The layers are uncompressed, so each diff_id is the layer digest; ggcr adds an empty history entry per layer.
  return {
    ...config,
    history: [...config.history, ...layers.map(() => ({ created: GO_ZERO_TIME }))],
    rootfs: { ...config.rootfs, diff_ids: [...config.rootfs.diff_ids, ...layers.map((layer) => layer.digest)] },
  };
}

/**
 * A new `.sig`/`.att` image holding `layers` (cosign's empty image plus them): OCI media types
 * unless `format` is `docker` (`COSIGN_DOCKER_MEDIA_TYPES`); `created` set only when given
 * (cosign's `--record-creation-timestamp`), else Go's zero time.
 */
export function buildCosignImage(options: { readonly layers: readonly Descriptor[]; readonly format?: 'oci' | 'docker'; readonly created?: Date }): CosignImage {
  tooMany(options.layers.length);
  const base = emptyConfig();
  const config = withLayers(options.created === undefined ? base : { ...base, created: goTime(options.created) }, options.layers);
  return assemble({ format: options.format ?? 'oci', layers: options.layers, config });
}

function tooMany(count: number): void {
  if (count > MAX_COSIGN_LAYERS) {
    throw new CaissonError({
      code: 'ERR_SIGNING',
      message: `the signature image would have ${count} layers; cosign allows at most ${MAX_COSIGN_LAYERS}`,
      hint: 'Delete the sha256-<hex>.sig / .att tag (or old layers in it) and sign again.',
    });
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Reads an existing `.sig`/`.att` config (ggcr's ConfigFile; unknown fields are dropped, as Go drops them). */
export function parseCosignConfig(options: { readonly bytes: Buffer; readonly what: string }): CosignConfig {
  const { what } = options;
  const root = parseJsonObject({ bytes: options.bytes, what, kind: 'signature image config' });
  const rootfs = root['rootfs'];
  const diffIds = isObject(rootfs) ? rootfs['diff_ids'] ?? [] : undefined;
  const history = root['history'] ?? [];
  if (!Array.isArray(diffIds) || !diffIds.every((id) => typeof id === 'string' && isDigest(id)) || !Array.isArray(history) || !history.every(isObject)) {
    throw new SignatureFormatError({ problem: 'cosign-config', what, detail: 'the config has no rootfs.diff_ids list of digests or a malformed history' });
  }
  const config = root['config'];
  const optional = (name: 'author' | 'os.version' | 'variant'): Record<string, string> => {
    const value = text(root[name]);
    return value === undefined ? {} : { [name]: value };
  };
  return {
    architecture: text(root['architecture']) ?? '',
    ...optional('author'),
    created: text(root['created']) ?? GO_ZERO_TIME,
    history: history.map((entry: Record<string, unknown>) => ({
      ...(text(entry['author']) === undefined ? {} : { author: text(entry['author']) }),
      created: text(entry['created']) ?? GO_ZERO_TIME,
      ...(text(entry['created_by']) === undefined ? {} : { created_by: text(entry['created_by']) }),
      ...(text(entry['comment']) === undefined ? {} : { comment: text(entry['comment']) }),
      ...(entry['empty_layer'] === true ? { empty_layer: true } : {}),
    })),
    os: text(root['os']) ?? '',
    rootfs: { type: text(isObject(rootfs) ? rootfs['type'] : undefined) ?? 'layers', diff_ids: diffIds as Digest[] },
    config: isObject(config) ? config : {},
    ...optional('os.version'),
    ...optional('variant'),
  };
}

/** The image already at the tag: its manifest and its config's bytes. */
export interface ExistingCosignImage {
  readonly manifest: ImageManifest;
  readonly configBytes: Buffer;
  /** Names it in errors: `registry/repo:sha256-<hex>.sig`. */
  readonly what: string;
}

export type AppendResult =
  /** The new image to push (config blob, then the manifest to the same tag). */
  | { readonly kind: 'appended'; readonly image: CosignImage }
  /** An equal signature is already there: push nothing. */
  | { readonly kind: 'duplicate'; readonly existing: Descriptor };

/** Options of {@link appendCosignLayer}. */
export interface AppendOptions {
  /** The image at the tag, or undefined when the tag does not exist yet (404). */
  readonly existing?: ExistingCosignImage;
  /** The new layer's descriptor (see {@link cosignLayer}), its blob already known to the caller. */
  readonly layer: Descriptor;
  /**
   * `signature`: deduplicated with `verifies`; `attestation`: never deduplicated, and with
   * `replace` the earlier layers with the same `predicateType` annotation are dropped
   * (`cosign attest --replace`).
   */
  readonly kind: { readonly kind: 'signature'; readonly verifies: (existing: Descriptor) => boolean } | { readonly kind: 'attestation'; readonly replace?: boolean };
  readonly format?: 'oci' | 'docker';
  readonly created?: Date;
}

/**
 * cosign's duplicate rule: an existing layer with the same digest and media type, every
 * annotation of the new layer except the signature present with the same value, a non-empty
 * signature annotation, and `verifies(existing)` true (its signature verifies over the payload,
 * which is the same blob, with the signer's key).
 */
export function findDuplicate(options: { readonly layers: readonly Descriptor[]; readonly layer: Descriptor; readonly verifies: (existing: Descriptor) => boolean }): Descriptor | undefined {
  const wanted = Object.entries(options.layer.annotations ?? {}).filter(([key]) => key !== CosignAnnotation.signature);
  return options.layers.find((existing) => {
    const annotations = existing.annotations ?? {};
    if (!wanted.every(([key, value]) => annotations[key] === value)) return false;
    if (existing.digest !== options.layer.digest || existing.mediaType !== options.layer.mediaType) return false;
    const signature = annotations[CosignAnnotation.signature];
    return signature !== undefined && signature !== '' && options.verifies(existing);
  });
}

/**
 * Appends one layer to the image at a `.sig`/`.att` tag (or starts one): the layer descriptor,
 * one diff_id and one history entry, the existing manifest's media types kept. Returns
 * `duplicate` instead when cosign would not push. More than {@link MAX_COSIGN_LAYERS} layers is
 * ERR_SIGNING. The registry update is racy (last writer wins), as cosign's is.
 */
export function appendCosignLayer(options: AppendOptions): AppendResult {
  const existing = options.existing;
  const kind = options.kind;
  const layers = existing?.manifest.layers ?? [];
  if (kind.kind === 'signature') {
    const duplicate = findDuplicate({ layers, layer: options.layer, verifies: kind.verifies });
    if (duplicate !== undefined) return { kind: 'duplicate', existing: duplicate };
  }
  const format = existing === undefined ? options.format ?? 'oci' : existing.manifest.mediaType === MediaType.dockerManifest ? 'docker' : 'oci';
  if (existing === undefined) return { kind: 'appended', image: buildCosignImage({ layers: [options.layer], format, ...(options.created === undefined ? {} : { created: options.created }) }) };
  if (kind.kind === 'attestation' && kind.replace === true) {
    // cosign rebuilds the image from empty with the layers it keeps (mutate.ReplaceSignatures).
    const predicateType = options.layer.annotations?.[CosignAnnotation.predicateType];
    const kept = layers.filter((layer) => layer.annotations?.[CosignAnnotation.predicateType] !== predicateType);
    return { kind: 'appended', image: buildCosignImage({ layers: [...kept, options.layer], format, ...(options.created === undefined ? {} : { created: options.created }) }) };
  }
  tooMany(layers.length + 1);
  const config = parseCosignConfig({ bytes: existing.configBytes, what: existing.what });
  const updated = withLayers(options.created === undefined ? config : { ...config, created: goTime(options.created) }, [options.layer]);
  return { kind: 'appended', image: assemble({ format, layers: [...layers, options.layer], config: updated }) };
}
