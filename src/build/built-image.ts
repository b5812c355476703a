/**
 * A finished stage as an image: the config and manifest written from the stage's state, and an
 * `ImageSource` over them whose layer blobs come from the layer store (layers this build made)
 * or from the base image's own source (layers it inherited, mountable across repositories).
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { CaissonError } from '../errors.js';
import {
  BLOB_STREAM_BUFFER, describeBytes, isForeignLayer, layerCompression, layerMediaType, MediaType, parseManifest, verifiedStream,
  type DescribedPlatform, type Descriptor, type ImageConfig, type ImageManifest, type ImageSource, type ParsedManifest,
} from '../image/index.js';
import type { StageLayer, StageState } from './stage-state.js';

export interface AssembleOptions {
  readonly state: StageState;
  readonly format: 'oci' | 'docker';
  /** The config's `created` (RFC 3339). */
  readonly created: string;
  /** Manifest annotations (`--annotation`), OCI only. */
  readonly annotations?: ReadonlyMap<string, string>;
}

/** The layer's media type in the manifest's family, keeping its compression. */
function layerDescriptor(layer: StageLayer, format: 'oci' | 'docker'): Descriptor {
  const { descriptor } = layer;
  const compression = layerCompression(descriptor.mediaType);
  if (compression === undefined || isForeignLayer(descriptor.mediaType)) return descriptor;
  const mediaType = layerMediaType({ format, compression });
  return mediaType === descriptor.mediaType ? descriptor : { ...descriptor, mediaType };
}

/** The image config, with keys in the order BuildKit writes them. */
export function imageConfig(options: AssembleOptions): ImageConfig {
  const { state } = options;
  const env = [...state.scope.configEnv].map(([key, value]) => `${key}=${value}`);
  const config = { ...state.config, ...(env.length === 0 ? {} : { Env: env }) };
  return {
    architecture: state.platform.architecture,
    ...(state.author === undefined ? {} : { author: state.author }),
    config,
    created: options.created,
    history: state.history,
    os: state.platform.os,
    rootfs: { type: 'layers', diff_ids: state.layers.map((layer) => layer.diffId) },
    ...(state.platform.variant === undefined ? {} : { variant: state.platform.variant }),
  };
}

export class BuiltImage implements ImageSource {
  readonly name: string;
  readonly manifest: Descriptor;
  readonly config: Descriptor;
  /** The platform the config states, as an index entry lists it. */
  readonly platform: DescribedPlatform;
  readonly manifestDocument: ImageManifest;
  readonly #manifestBytes: Buffer;
  readonly #configBytes: Buffer;
  /** Layers by the digest the manifest lists. */
  readonly #layers: ReadonlyMap<string, StageLayer>;

  constructor(options: AssembleOptions & { readonly name: string }) {
    this.name = options.name;
    const oci = options.format === 'oci';
    this.#configBytes = Buffer.from(JSON.stringify(imageConfig(options)));
    this.config = describeBytes({ mediaType: oci ? MediaType.ociConfig : MediaType.dockerConfig, bytes: this.#configBytes });
    const layers = options.state.layers.map((layer) => layerDescriptor(layer, options.format));
    const annotations = oci && options.annotations !== undefined && options.annotations.size > 0 ? Object.fromEntries(options.annotations) : undefined;
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: oci ? MediaType.ociManifest : MediaType.dockerManifest,
      config: this.config,
      layers,
      ...(annotations === undefined ? {} : { annotations }),
    };
    this.manifestDocument = manifest;
    this.#manifestBytes = Buffer.from(JSON.stringify(manifest));
    this.manifest = describeBytes({ mediaType: manifest.mediaType as string, bytes: this.#manifestBytes });
    const { platform } = options.state;
    this.platform = { architecture: platform.architecture, os: platform.os, ...(platform.variant === undefined ? {} : { variant: platform.variant }) };
    this.#layers = new Map(options.state.layers.map((layer) => [layer.descriptor.digest, layer]));
  }

  get manifestBytes(): Buffer {
    return this.#manifestBytes;
  }

  get configBytes(): Buffer {
    return this.#configBytes;
  }

  async resolve(): Promise<Descriptor> {
    return this.manifest;
  }

  async readManifest(descriptor: Descriptor): Promise<ParsedManifest> {
    if (descriptor.digest !== this.manifest.digest) throw this.#unknown(descriptor);
    return parseManifest({ bytes: this.#manifestBytes, mediaType: this.manifest.mediaType, what: this.name });
  }

  blobOrigin(descriptor: Descriptor): { readonly registry: string; readonly repository: string } | undefined {
    const layer = this.#layers.get(descriptor.digest);
    return layer?.blob.kind === 'source' ? layer.blob.source.origin : undefined;
  }

  async openBlob(descriptor: Descriptor): Promise<Readable> {
    if (descriptor.digest === this.config.digest) return Readable.from([this.#configBytes]);
    const layer = this.#layers.get(descriptor.digest);
    if (layer === undefined) throw this.#unknown(descriptor);
    switch (layer.blob.kind) {
      case 'file':
        return verifiedStream({
          from: createReadStream(layer.blob.path, { highWaterMark: BLOB_STREAM_BUFFER }),
          expected: layer.descriptor.digest,
          size: layer.descriptor.size,
          what: `layer ${layer.descriptor.digest} (${layer.blob.path})`,
        });
      case 'source':
        return layer.blob.source.openBlob(layer.descriptor);
    }
  }

  #unknown(descriptor: Descriptor): CaissonError {
    return new CaissonError({ code: 'ERR_BLOB_UNKNOWN', message: `${this.name}: no blob ${descriptor.digest} in the built image` });
  }
}
