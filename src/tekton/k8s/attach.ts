/**
 * Feeding a container's standard input through the Kubernetes attach API (a websocket,
 * `kubectl attach -i`): how `caisson submit` hands a local context to the plain Pod, whose
 * caisson reads `--context tar://stdin`. The container has `stdin: true, stdinOnce: true`, so its
 * stdin ends when this session closes it (the v5 protocol's close-stdin signal, else detaching).
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Attach } from '@kubernetes/client-node';
import { CaissonError } from '../../errors.js';
import { clusterError } from './api.js';
import type { FoundKubeConfig } from './kubeconfig.js';

/** What caisson uses of the attach session's websocket (the `ws` package's WebSocket). */
interface AttachSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  close(): void;
  terminate(): void;
  once(event: 'close', listener: () => void): void;
  once(event: 'error', listener: (error: Error) => void): void;
}

/** The websocket's OPEN and CLOSED readyState values. */
const OPEN = 1;
const CLOSED = 3;
/** Bytes queued on the socket before the sender waits for them to drain. */
const HIGH_WATER = 4 << 20;

export interface SendStdinOptions {
  readonly cluster: FoundKubeConfig;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** The bytes to send; standard input is closed after the last. */
  readonly data: AsyncIterable<Buffer>;
  readonly signal?: AbortSignal;
}

/** Sends `data` to the container's standard input, then closes it; resolves with the bytes sent. */
export async function sendStdin(options: SendStdinOptions): Promise<number> {
  const { cluster, namespace, pod, container } = options;
  const input = new PassThrough();
  let socket: AttachSocket;
  try {
    socket = (await new Attach(cluster.config).attach(namespace, pod, container, null, null, input, false)) as AttachSocket;
  } catch (error) {
    throw clusterError({ error: asError(error), what: `attach to the standard input of pod ${pod}`, server: cluster.server });
  }
  const closed = new Promise<void>((resolve) => socket.once('close', resolve));
  let failure: Error | undefined;
  socket.once('error', (error) => {
    failure = error;
  });
  let bytes = 0;
  try {
    for await (const chunk of options.data) {
      options.signal?.throwIfAborted();
      if (failure !== undefined || socket.readyState !== OPEN) throw lost({ pod, bytes, cause: failure });
      input.write(chunk);
      bytes += chunk.length;
      while (socket.bufferedAmount > HIGH_WATER && socket.readyState === OPEN) await sleep(5, undefined, options.signal === undefined ? {} : { signal: options.signal });
    }
    // Attach sends the close-stdin signal (v5.channel.k8s.io) or, with an older protocol, closes the socket.
    const ended = once(input, 'end');
    input.end();
    await ended;
    while (socket.bufferedAmount > 0 && socket.readyState === OPEN) await sleep(5, undefined, options.signal === undefined ? {} : { signal: options.signal });
    if (failure !== undefined) throw lost({ pod, bytes, cause: failure });
    if (socket.readyState !== CLOSED) socket.close();
    await closed;
    return bytes;
  } catch (error) {
    socket.terminate();
    throw error;
  }
}

function lost(options: { pod: string; bytes: number; cause: Error | undefined }): CaissonError {
  return new CaissonError({
    code: 'ERR_CLUSTER',
    message: `the attach session to pod ${options.pod} closed after ${options.bytes} bytes of the context${options.cause === undefined ? '' : `: ${options.cause.message}`}`,
    hint: `kubectl describe pod ${options.pod}: did its container end before reading the context?`,
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  });
}

/** The websocket library rejects with an ErrorEvent (`{ message, error }`), not an Error. */
function asError(error: unknown): unknown {
  if (error instanceof Error || typeof error !== 'object' || error === null) return error;
  const inner = 'error' in error ? error.error : undefined;
  if (inner instanceof Error) return inner;
  return new Error('message' in error && typeof error.message === 'string' ? error.message : String(error));
}
