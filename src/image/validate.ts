/**
 * `validateImage`: reads an image (or a whole index) from any source and recomputes everything a
 * reader relies on: every manifest's and blob's digest and size, each config's shape, and each
 * layer's diffID (the digest of its uncompressed tar) against the config's rootfs.diff_ids.
 * go-containerregistry's `validate`, streaming.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CaissonError } from '../errors.js';
import { readAll } from './digest.js';
import { parseConfig, type Descriptor } from './manifest.js';
import { isForeignLayer, layerCompression } from './media-types.js';
import type { ImageSource } from './store.js';

export interface ValidateReport {
  readonly manifests: number;
  readonly blobs: number;
  readonly bytes: number;
}

export interface ValidateOptions {
  readonly source: ImageSource;
  readonly root: Descriptor;
  /** Also decompress layers and check their diffIDs (default true). */
  readonly diffIds?: boolean;
}

async function drainHash(stream: NodeJS.ReadableStream): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        callback();
      },
    }),
  );
  return `sha256:${hash.digest('hex')}`;
}

export async function validateImage(options: ValidateOptions): Promise<ValidateReport> {
  const { source } = options;
  const counts = { manifests: 0, blobs: 0, bytes: 0 };
  const visit = async (descriptor: Descriptor): Promise<void> => {
    const parsed = await source.readManifest(descriptor);
    counts.manifests += 1;
    counts.bytes += descriptor.size;
    if (parsed.kind === 'index') {
      for (const child of parsed.index.manifests) await visit(child);
      return;
    }
    const { manifest } = parsed;
    const what = `${source.name}@${descriptor.digest}`;
    const configBytes = await readAll(await source.openBlob(manifest.config));
    counts.blobs += 1;
    counts.bytes += manifest.config.size;
    const isImage = manifest.config.mediaType.endsWith('config.v1+json') || manifest.config.mediaType === 'application/vnd.docker.container.image.v1+json';
    const config = isImage ? parseConfig({ bytes: configBytes, what: `${what} config` }) : undefined;
    if (config !== undefined && config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw new CaissonError({
        code: 'ERR_IMAGE_INVALID',
        message: `${what}: the manifest has ${manifest.layers.length} layers but the config lists ${config.rootfs.diff_ids.length} diff_ids`,
      });
    }
    for (const [i, layer] of manifest.layers.entries()) {
      if (isForeignLayer(layer.mediaType)) continue;
      const stream = await source.openBlob(layer);
      const compression = layerCompression(layer.mediaType);
      const check = config !== undefined && options.diffIds !== false && compression !== undefined;
      if (!check) {
        await drainHash(stream);
      } else {
        const zlib = process.getBuiltinModule('node:zlib');
        const decompressed = compression === 'gzip' ? stream.pipe(zlib.createGunzip()) : compression === 'zstd' ? stream.pipe(zlib.createZstdDecompress()) : stream;
        stream.on('error', (error) => decompressed.destroy(error));
        const diffId = await drainHash(decompressed);
        const expected = config.rootfs.diff_ids[i];
        if (diffId !== expected) {
          throw new CaissonError({
            code: 'ERR_DIGEST_MISMATCH',
            message: `${what}: layer ${i} (${layer.digest}) uncompresses to ${diffId}, the config says diff_id ${expected}`,
          });
        }
      }
      counts.blobs += 1;
      counts.bytes += layer.size;
    }
  };
  await visit(options.root);
  return counts;
}
