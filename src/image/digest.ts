/**
 * Content digests (https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests):
 * a branded `Digest` string, parsing with clear errors, hashing buffers, and a pass-through stream
 * that verifies every byte against an expected digest and size while it flows.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { CaissonError } from '../errors.js';

/** `sha256:<64 hex>` or `sha512:<128 hex>`, validated. */
export type Digest = string & { readonly __digest: unique symbol };

const ENCODED_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };
const DIGEST_PATTERN = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

export function isDigest(text: string): text is Digest {
  const match = DIGEST_PATTERN.exec(text);
  if (match === null) return false;
  const length = ENCODED_LENGTH[match[1] ?? ''];
  return length !== undefined && match[2]?.length === length && /^[a-f0-9]+$/.test(match[2]);
}

/** Validates `text` as a digest; `what` names where it came from for the error. */
export function parseDigest(text: string, what: string): Digest {
  if (isDigest(text)) return text;
  throw new CaissonError({
    code: 'ERR_IMAGE_INVALID',
    message: `${what}: invalid digest "${text.slice(0, 140)}"`,
    hint: 'A digest is sha256: followed by 64 lowercase hex digits (or sha512: and 128).',
  });
}

export function digestAlgorithm(digest: Digest): string {
  return digest.slice(0, digest.indexOf(':'));
}

export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

export function sha256(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

export function digestOf(data: Uint8Array, algorithm: string = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}` as Digest;
}

/**
 * Buffer size for streams that carry blobs (files, the verifier): one 64 KiB socket read, as an
 * HTTP body arrives. Node's 16 KiB default pauses and restarts the stream on every
 * 64 KiB read; larger buffers measured slower here (more memory in flight, more page faults) and
 * raise peak RSS.
 */
export const BLOB_STREAM_BUFFER = 1 << 16;

export interface VerifyOptions {
  readonly expected: Digest;
  /** The size the descriptor states; more or fewer bytes are an error too. */
  readonly size?: number;
  /** Names the blob in errors: `docker.io/library/alpine@sha256:…` or a file path. */
  readonly what: string;
}

/** The error for content that does not match its digest; names the blob and both digests. */
export function digestMismatch(options: { readonly what: string; readonly expected: Digest; readonly actual: string }): CaissonError {
  return new CaissonError({
    code: 'ERR_DIGEST_MISMATCH',
    message: `${options.what}: content digest ${options.actual} does not match the expected ${options.expected}`,
    hint: 'The blob is corrupt or was changed after it was referenced; nothing of it was kept.',
  });
}

/**
 * A pass-through stream that hashes what flows through it and fails at the end (or as soon as
 * the size is exceeded) when the content does not match. Nothing is buffered.
 */
export class VerifyingStream extends Transform {
  readonly #options: VerifyOptions;
  readonly #hash: Hash;
  #bytes = 0;

  constructor(options: VerifyOptions) {
    super({ highWaterMark: BLOB_STREAM_BUFFER });
    this.#options = options;
    this.#hash = createHash(digestAlgorithm(options.expected));
  }

  /** Bytes seen so far (also what a resumed download restarts from). */
  get bytes(): number {
    return this.#bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    const size = this.#options.size;
    if (size !== undefined && this.#bytes > size) {
      callback(this.#sizeError('more than'));
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const size = this.#options.size;
    if (size !== undefined && this.#bytes !== size) {
      callback(this.#sizeError(this.#bytes > size ? 'more than' : 'only'));
      return;
    }
    const actual = `${digestAlgorithm(this.#options.expected)}:${this.#hash.digest('hex')}`;
    callback(actual === this.#options.expected ? null : digestMismatch({ ...this.#options, actual }));
  }

  #sizeError(amount: 'more than' | 'only'): CaissonError {
    return new CaissonError({
      code: 'ERR_DIGEST_MISMATCH',
      message: `${this.#options.what}: got ${amount} ${amount === 'only' ? this.#bytes : this.#options.size ?? 0} bytes, the descriptor says ${this.#options.size} (${this.#options.expected})`,
      hint: 'The blob is truncated or corrupt; nothing of it was kept.',
    });
  }
}

/** `from` piped through a VerifyingStream; an error of `from` fails the returned stream too. */
export function verifiedStream(options: VerifyOptions & { readonly from: Readable }): Readable {
  const { from, ...verify } = options;
  const verifying = new VerifyingStream(verify);
  from.on('error', (error) => verifying.destroy(error));
  return from.pipe(verifying);
}

/** A stream's bytes, read to its end. */
export async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Hashes a stream to its end; resolves with its digest and size. */
export async function digestStream(stream: AsyncIterable<Uint8Array>, algorithm: string = 'sha256'): Promise<{ digest: Digest; size: number }> {
  const hash = createHash(algorithm);
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `${algorithm}:${hash.digest('hex')}` as Digest, size };
}
