/**
 * Test helper (never a test itself): small but real OCI images made in memory — gzip'd tar
 * layers of generated files, a config with matching diff_ids, a manifest, optionally an index of
 * several platforms — written into an OCI layout with caisson's own writer.
 */
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import {
  MediaType, OciLayout, sha256, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform,
} from '../../src/image/index.js';
import { fileHeader, padding, TAR_END } from '../../src/image/tar.js';

export interface TestLayer {
  readonly descriptor: Descriptor;
  readonly diffId: string;
  readonly bytes: Buffer;
}

/** A gzip'd tar holding `files` (name → content). */
export function makeLayer(files: Readonly<Record<string, string | Buffer>>): TestLayer {
  const parts: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    parts.push(fileHeader({ name, size: data.length }), data, padding(data.length));
  }
  parts.push(TAR_END);
  const tar = Buffer.concat(parts);
  const bytes = gzipSync(tar);
  return { descriptor: { mediaType: MediaType.ociLayerGzip, digest: sha256(bytes), size: bytes.length }, diffId: sha256(tar), bytes };
}

export interface TestImage {
  readonly manifest: Descriptor;
  readonly manifestBytes: Buffer;
  readonly config: Descriptor;
  readonly configBytes: Buffer;
  readonly layers: readonly TestLayer[];
}

export function makeImage(options: { readonly layers: readonly TestLayer[]; readonly platform?: Platform; readonly format?: 'oci' | 'docker'; readonly subject?: Descriptor }): TestImage {
  const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
  const docker = options.format === 'docker';
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: options.layers.map((layer) => layer.diffId) as unknown as ImageConfig["rootfs"]["diff_ids"] },
    history: options.layers.map(() => ({ created_by: 'caisson test' })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDescriptor: Descriptor = { mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig, digest: sha256(configBytes), size: configBytes.length };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest,
    config: configDescriptor,
    layers: options.layers.map((layer) => (docker ? { ...layer.descriptor, mediaType: MediaType.dockerLayerGzip } : layer.descriptor)),
    ...(options.subject === undefined ? {} : { subject: options.subject }),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    manifest: { mediaType: manifest.mediaType as string, digest: sha256(manifestBytes), size: manifestBytes.length, platform },
    manifestBytes,
    config: configDescriptor,
    configBytes,
    layers: options.layers,
  };
}

export function makeIndex(images: readonly TestImage[]): { descriptor: Descriptor; bytes: Buffer } {
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: images.map((image) => image.manifest) };
  const bytes = Buffer.from(JSON.stringify(index));
  return { descriptor: { mediaType: MediaType.ociIndex, digest: sha256(bytes), size: bytes.length }, bytes };
}

/** Writes an image's blobs and manifest into a layout (tagged when `tag` is given). */
export async function writeImage(layout: OciLayout, image: TestImage, options: { readonly tag?: string; readonly root?: boolean } = {}): Promise<void> {
  for (const layer of image.layers) await layout.writeBlob({ descriptor: layer.descriptor, open: async () => Readable.from([layer.bytes]) });
  await layout.writeBlob({ descriptor: image.config, open: async () => Readable.from([image.configBytes]) });
  await layout.writeManifest({ descriptor: image.manifest, bytes: image.manifestBytes, root: options.root ?? true, ...(options.tag === undefined ? {} : { tag: options.tag }) });
}
