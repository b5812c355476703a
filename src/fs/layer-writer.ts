/**
 * Seals a layer in one pass: the tar stream is hashed (the diffID), compressed (gzip on every
 * core: parallel-gzip.ts), hashed again (the blob digest) and written to a temporary file that is
 * renamed to `<blobs>/sha256/<hex>` only when complete, so a killed build leaves nothing that
 * reads as a valid blob.
 */
import { randomBytes, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CaissonError } from '../errors.js';
import { BLOB_STREAM_BUFFER, layerMediaType, type Compression, type Descriptor, type Digest } from '../image/index.js';
import { ParallelGzip } from './parallel-gzip.js';

export interface WriteLayerOptions {
  /** The uncompressed tar. */
  readonly tar: AsyncIterable<Buffer>;
  readonly compression: Compression;
  /** gzip 1–9 (default 6, as Docker), zstd 1–19 (default 3). */
  readonly level?: number;
  /** Media type family. */
  readonly format: 'oci' | 'docker';
  /** The blob directory (an OCI layout's `blobs/`, or the layer store's); the layer lands in `sha256/`. */
  readonly blobs: string;
}

export interface WrittenLayer {
  readonly descriptor: Descriptor;
  readonly diffId: Digest;
  /** Where the blob is. */
  readonly path: string;
  /** Bytes of uncompressed tar. */
  readonly uncompressedSize: number;
}

/** Counts and hashes what passes through. */
class Meter extends Transform {
  readonly #hash = createHash('sha256');
  bytes = 0;
  constructor() {
    super({ highWaterMark: BLOB_STREAM_BUFFER });
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }
  digest(): Digest {
    return `sha256:${this.#hash.digest('hex')}` as Digest;
  }
}

function compressor(compression: Compression, level: number | undefined): Transform | undefined {
  switch (compression) {
    case 'gzip':
      return new ParallelGzip({ level: level ?? 6 });
    case 'zstd': {
      // node:zlib loads here, when a layer is compressed, not at every start.
      const zlib = process.getBuiltinModule('node:zlib');
      return zlib.createZstdCompress({ chunkSize: BLOB_STREAM_BUFFER, params: { [zlib.constants.ZSTD_c_compressionLevel]: level ?? 3 } });
    }
    case 'none':
      return undefined;
  }
}

export function checkCompressionLevel(options: { readonly compression: Compression; readonly level?: number | undefined }): void {
  const { compression, level } = options;
  if (level === undefined) return;
  const range = compression === 'gzip' ? [1, 9] : compression === 'zstd' ? [1, 19] : [0, 0];
  if (!Number.isInteger(level) || level < (range[0] as number) || level > (range[1] as number)) {
    throw new CaissonError({
      code: 'ERR_USAGE',
      message: `--compression-level ${level} is out of range for ${compression}`,
      hint: compression === 'none' ? 'Uncompressed layers take no level; drop --compression-level.' : `${compression} levels go from ${range[0]} to ${range[1]}.`,
    });
  }
}

export async function writeLayer(options: WriteLayerOptions): Promise<WrittenLayer> {
  checkCompressionLevel(options);
  const directory = join(options.blobs, 'sha256');
  await mkdir(directory, { recursive: true });
  const temporary = join(directory, `.tmp-layer-${randomBytes(8).toString('hex')}`);
  const uncompressed = new Meter();
  const compressed = new Meter();
  const compress = compressor(options.compression, options.level);
  const source = Readable.from(options.tar, { objectMode: false });
  const file = createWriteStream(temporary, { flags: 'wx', highWaterMark: BLOB_STREAM_BUFFER });
  try {
    if (compress === undefined) await pipeline(source, uncompressed, compressed, file);
    else await pipeline(source, uncompressed, compress, compressed, file);
    const diffId = uncompressed.digest();
    const digest = compressed.digest();
    const path = join(directory, digest.slice('sha256:'.length));
    await rename(temporary, path);
    const size = (await stat(path)).size;
    return {
      descriptor: { mediaType: layerMediaType({ format: options.format, compression: options.compression }), digest, size },
      diffId,
      path,
      uncompressedSize: uncompressed.bytes,
    };
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
