/**
 * Blob calls of the distribution API. Reading: HEAD, and GET as a stream that resumes with
 * `Range: bytes=N-` after a dropped connection and is verified against the digest as it flows.
 * Writing: HEAD first (present blobs are never sent), cross-repository mount, then a monolithic
 * POST+PUT or, for big blobs, PATCH chunks; a failed upload restarts from a fresh session.
 */
import { Readable } from 'node:stream';
import { CaissonError } from '../errors.js';
import { VerifyingStream, type Descriptor } from '../image/index.js';
import { header, type RegistryResponse } from './client.js';
import { pullScope, pushScope, type RepositoryTarget } from './manifests.js';
import { redactSecrets } from './redact.js';
import { backoffDelay, isRetryableNetworkError, sleepFor } from './retry.js';

function blobName(target: RepositoryTarget, descriptor: Pick<Descriptor, 'digest'>): string {
  return `${target.client.registry}/${target.repository}@${descriptor.digest}`;
}

export async function headBlob(target: RepositoryTarget & { readonly descriptor: Descriptor }): Promise<boolean> {
  const response = await target.client.send({
    method: 'HEAD',
    path: `/v2/${target.repository}/blobs/${target.descriptor.digest}`,
    scopes: [pullScope(target.repository)],
    what: blobName(target, target.descriptor),
    action: 'HEAD blob',
    accept: [404],
  });
  await response.body.dump();
  return response.status !== 404;
}

/**
 * Feeds one response body into `into`, skipping the first `skip` bytes (a server that ignored
 * Range) and pausing the body while `into` is full; `progress.offset` counts the bytes passed on.
 * Resolves when the body ends, rejects with its error. Each chunk goes through as it came: no copies.
 */
function pumpBody(options: { readonly body: Readable; readonly into: VerifyingStream; readonly skip: number; readonly progress: { offset: number } }): Promise<void> {
  const { body, into, progress } = options;
  let skip = options.skip;
  return new Promise((resolve, reject) => {
    const stopped = (): void => {
      body.destroy();
      reject(Object.assign(new Error('the reader closed the blob stream'), { name: 'AbortError' }));
    };
    into.once('close', stopped);
    const settle = (error?: Error): void => {
      into.off('close', stopped);
      into.off('drain', resume);
      if (error === undefined) resolve();
      else reject(error);
    };
    const resume = (): void => {
      body.resume();
    };
    body.on('data', (chunk: Buffer) => {
      let piece = chunk;
      if (skip > 0) {
        const dropped = Math.min(skip, piece.length);
        skip -= dropped;
        piece = piece.subarray(dropped);
        if (piece.length === 0) return;
      }
      progress.offset += piece.length;
      if (!into.write(piece)) {
        body.pause();
        into.once('drain', resume);
      }
    });
    body.once('end', () => settle());
    body.once('error', (error) => settle(error));
  });
}

/** A verified stream of the blob; dropped connections resume where they stopped. */
export function openBlob(target: RepositoryTarget & { readonly descriptor: Descriptor }): Readable {
  const { descriptor, client } = target;
  const what = blobName(target, descriptor);
  const policy = client.retryPolicy;
  const verify = new VerifyingStream({ expected: descriptor.digest, size: descriptor.size, what });
  const download = async (): Promise<void> => {
    const progress = { offset: 0 };
    for (let failures = 0; ; ) {
      const offset = progress.offset;
      const response = await client.send({
        method: 'GET',
        path: `/v2/${target.repository}/blobs/${descriptor.digest}`,
        headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
        scopes: [pullScope(target.repository)],
        what,
        action: offset > 0 ? `GET blob (resuming at byte ${offset})` : 'GET blob',
        accept: [],
      });
      if (verify.destroyed) {
        response.body.destroy();
        return;
      }
      try {
        await pumpBody({ body: response.body, into: verify, skip: offset > 0 && response.status !== 206 ? offset : 0, progress });
        if (progress.offset >= descriptor.size || progress.offset === 0) {
          verify.end();
          return;
        }
        // The body ended early without an error (a truncated response): resume like a reset.
        throw Object.assign(new Error(`body ended after ${progress.offset} of ${descriptor.size} bytes`), { code: 'UND_ERR_SOCKET' });
      } catch (error) {
        failures += 1;
        if (!isRetryableNetworkError(error)) throw error;
        if (failures > policy.retries) {
          // Out of retries: a CaissonError naming the blob, not a bare socket error.
          throw new CaissonError({
            code: 'ERR_REGISTRY_UNAVAILABLE',
            message: redactSecrets(`${what}: GET blob failed ${failures} times, the last at byte ${progress.offset} of ${descriptor.size}: ${(error as Error).message}`),
            hint: 'The connection to the registry kept dropping; retry later, or raise --image-download-retry.',
            cause: error,
          });
        }
        await sleepFor(policy, backoffDelay({ policy, attempt: failures }));
      }
    }
  };
  download().catch((error: unknown) => {
    if (!verify.destroyed) verify.destroy(error as Error);
  });
  return verify;
}

export interface UploadBlobOptions extends RepositoryTarget {
  readonly descriptor: Descriptor;
  readonly open: () => Promise<Readable>;
  /** A repository of the same registry that may hold the blob. */
  readonly mountFrom?: string;
  readonly chunkedUploadThreshold: number;
  readonly chunkSize: number;
}

function uploadLocation(target: RepositoryTarget, response: RegistryResponse, what: string): URL {
  const location = header(response.headers, 'location');
  if (location === undefined) {
    throw new CaissonError({ code: 'ERR_REGISTRY_PROTOCOL', message: `${what}: the registry started an upload without a Location header`, hint: `${target.client.registry} does not follow the distribution spec.` });
  }
  return new URL(location, response.url);
}

/** Yields exactly `size` bytes from the iterator, keeping what is left over for the next call. */
function chunker(source: AsyncIterator<Buffer>): (size: number) => AsyncGenerator<Buffer> {
  let pending: Buffer = Buffer.alloc(0);
  return async function* take(size: number): AsyncGenerator<Buffer> {
    let left = size;
    while (left > 0) {
      if (pending.length === 0) {
        const next = await source.next();
        if (next.done === true) return;
        pending = next.value;
        continue;
      }
      const piece = pending.subarray(0, left);
      pending = pending.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
  };
}

async function uploadOnce(options: UploadBlobOptions): Promise<'mounted' | 'written'> {
  const { client, repository, descriptor } = options;
  const what = blobName(options, descriptor);
  const scopes = options.mountFrom === undefined ? [pushScope(repository)] : [pushScope(repository), pullScope(options.mountFrom)];
  const query = options.mountFrom === undefined ? '' : `?mount=${encodeURIComponent(descriptor.digest)}&from=${encodeURIComponent(options.mountFrom)}`;
  const started = await client.send({ method: 'POST', path: `/v2/${repository}/blobs/uploads/${query}`, scopes, what, action: options.mountFrom === undefined ? 'POST blob upload' : `mount blob from ${options.mountFrom}`, accept: [], retry: client.noRetry });
  await started.body.dump();
  if (started.status === 201) return 'mounted';
  let location = uploadLocation(options, started, what);
  const octets = { 'content-type': 'application/octet-stream' };
  if (descriptor.size >= options.chunkedUploadThreshold) {
    const source = (await options.open())[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const take = chunker(source);
    for (let start = 0; start < descriptor.size; start += options.chunkSize) {
      const length = Math.min(options.chunkSize, descriptor.size - start);
      const response = await client.send({
        method: 'PATCH',
        path: location.toString(),
        headers: { ...octets, 'content-length': String(length), 'content-range': `${start}-${start + length - 1}` },
        body: async () => Readable.from(take(length)),
        scopes,
        what,
        action: `PATCH blob chunk at byte ${start}`,
        accept: [],
        retry: client.noRetry,
      });
      await response.body.dump();
      location = uploadLocation(options, response, what);
    }
    location.searchParams.set('digest', descriptor.digest);
    const done = await client.send({ method: 'PUT', path: location.toString(), headers: { 'content-length': '0' }, scopes, what, action: 'PUT blob (closing the chunked upload)', accept: [], retry: client.noRetry });
    await done.body.dump();
    return 'written';
  }
  location.searchParams.set('digest', descriptor.digest);
  const response = await client.send({
    method: 'PUT',
    path: location.toString(),
    headers: { ...octets, 'content-length': String(descriptor.size) },
    body: options.open,
    scopes,
    what,
    action: 'PUT blob',
    accept: [],
    retry: client.noRetry,
  });
  await response.body.dump();
  return 'written';
}

/** Puts a blob in the repository unless it is there; retries the whole upload on transient failures. */
export async function uploadBlob(options: UploadBlobOptions): Promise<'exists' | 'mounted' | 'written'> {
  if (await headBlob(options)) return 'exists';
  const policy = options.client.pushRetryPolicy;
  for (let failures = 0; ; ) {
    try {
      return await uploadOnce(options);
    } catch (error) {
      failures += 1;
      const transient = isRetryableNetworkError(error) || (error instanceof CaissonError && (error.code === 'ERR_REGISTRY_UNAVAILABLE' || error.code === 'ERR_REGISTRY_TOOMANYREQUESTS'));
      if (!transient || failures > policy.retries) throw error;
      await sleepFor(policy, backoffDelay({ policy, attempt: failures }));
    }
  }
}
