/**
 * gzip on every core, as pgzip (what buildah and skopeo use) does it: the input is cut into fixed
 * 1 MiB blocks, each deflated on libuv's thread pool with the previous block's last 32 KiB as its
 * dictionary and ended by a sync flush, and the pieces are written in order as one deflate stream
 * inside one gzip member (RFC 1952: header, deflate data, CRC-32, size mod 2^32). Any gzip reader
 * reads it; the output depends only on the input and the level, so layer digests stay
 * reproducible. A block that does not compress is stored instead (see `deflateBlock`). The CRC is
 * computed here as the bytes pass.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { ZlibOptions } from 'node:zlib';

/** node:zlib, loaded when a layer is first compressed, not at every start. */
function zlib(): typeof import('node:zlib') {
  return process.getBuiltinModule('node:zlib');
}

function deflateRawAsync(block: Buffer, options: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => zlib().deflateRaw(block, options, (error, result) => (error === null ? resolve(result) : reject(error))));
}

/** Input per deflate job. Fixed: a different size gives different (still valid) bytes. */
const BLOCK_SIZE = 1 << 20;
/** deflate's window: the dictionary a block carries over from the one before. */
const WINDOW = 1 << 15;
/** An empty final block (BFINAL=1, fixed Huffman, end-of-block): ends the deflate stream. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

export interface ParallelGzipOptions {
  /** 1–9. */
  readonly level: number;
  /** Blocks being deflated at once (default 4, libuv's default thread pool). */
  readonly concurrency?: number;
}

/** The 10-byte member header: no name, no mtime, OS unix; XFL as zlib sets it for the level. */
function header(level: number): Buffer {
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, xfl, 0x03]);
}

/** What a block's first bytes are deflated as, to tell whether the block is worth deflating. */
const SAMPLE = 1 << 16;
/** A sample that deflates to more than this share of its size marks the block incompressible. */
const INCOMPRESSIBLE = 0.98;

/**
 * One block, deflated; or, when its sample does not compress (already compressed or random
 * data), stored as it is (level 0), as pgzip's encoder does: deflating such data costs most of
 * the time and saves nothing. The choice depends on the block's bytes only, so it is reproducible.
 */
async function deflateBlock(block: Buffer, options: ZlibOptions): Promise<Buffer> {
  if (block.length > SAMPLE) {
    const { constants } = zlib();
    const sample = await deflateRawAsync(block.subarray(0, SAMPLE), { level: options.level ?? constants.Z_DEFAULT_COMPRESSION, finishFlush: constants.Z_SYNC_FLUSH, chunkSize: 2 * SAMPLE });
    if (sample.length > SAMPLE * INCOMPRESSIBLE) return deflateRawAsync(block, { level: 0, finishFlush: constants.Z_SYNC_FLUSH, chunkSize: BLOCK_SIZE + WINDOW });
  }
  return deflateRawAsync(block, options);
}

export class ParallelGzip extends Transform {
  readonly #level: number;
  readonly #concurrency: number;
  /** Deflated blocks in input order; the oldest is written first. */
  readonly #inFlight: Promise<Buffer>[] = [];
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #dictionary: Buffer | undefined;
  #crc = 0;
  #size = 0;

  constructor(options: ParallelGzipOptions) {
    super();
    this.#level = options.level;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
    this.push(header(options.level));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#crc = zlib().crc32(chunk, this.#crc);
    this.#size += chunk.length;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    while (this.#pendingBytes >= BLOCK_SIZE) {
      // A copy: the block is deflated on another thread while the caller may reuse its chunks.
      const all = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#deflate(all.subarray(0, BLOCK_SIZE));
      const rest = all.subarray(BLOCK_SIZE);
      this.#pending = rest.length === 0 ? [] : [rest];
      this.#pendingBytes = rest.length;
    }
    this.#drain(this.#concurrency - 1).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#pendingBytes > 0) this.#deflate(Buffer.concat(this.#pending, this.#pendingBytes));
    this.#pending = [];
    this.#drain(0).then(() => {
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(this.#crc >>> 0, 0);
      trailer.writeUInt32LE(this.#size % 2 ** 32, 4);
      callback(null, Buffer.concat([FINAL_BLOCK, trailer]));
    }, callback);
  }

  #deflate(block: Buffer): void {
    const options: ZlibOptions = {
      level: this.#level,
      finishFlush: zlib().constants.Z_SYNC_FLUSH,
      // Room for the whole block's output in one pass: one thread-pool round trip per block.
      chunkSize: BLOCK_SIZE + WINDOW,
      ...(this.#dictionary === undefined ? {} : { dictionary: this.#dictionary }),
    };
    this.#dictionary = Buffer.from(block.subarray(Math.max(0, block.length - WINDOW)));
    const job = deflateBlock(block, options);
    // Awaited in order by #drain; until then a failure must not count as unhandled.
    job.catch(() => undefined);
    this.#inFlight.push(job);
  }

  /** Writes finished blocks, oldest first, until at most `keep` are in flight. */
  async #drain(keep: number): Promise<void> {
    while (this.#inFlight.length > keep) this.push(await (this.#inFlight.shift() as Promise<Buffer>));
  }
}
