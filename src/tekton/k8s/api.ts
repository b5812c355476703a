/**
 * The Kubernetes API calls `caisson submit` shares between its TaskRun and plain-Pod paths: a
 * container's log, streamed, and API failures as ERR_CLUSTER.
 */
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ApiException, Log } from '@kubernetes/client-node';
import { CaissonError } from '../../errors.js';
import type { FoundKubeConfig } from './kubeconfig.js';

/** Streams a container's log to its end; false when the container has not started yet. `signal` stops it (and throws its reason). */
export async function followLog(options: { cluster: FoundKubeConfig; namespace: string; pod: string; container: string; writeLog: (text: string) => void; follow: boolean; signal?: AbortSignal }): Promise<boolean> {
  const { signal } = options;
  signal?.throwIfAborted();
  const decoder = new TextDecoder();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      options.writeLog(decoder.decode(chunk, { stream: true }));
      callback();
    },
  });
  // The client pipes the response into the sink without an error listener on it: aborting would crash the process.
  sink.on('pipe', (source: NodeJS.ReadableStream) => source.on('error', (error: Error) => sink.destroy(error)));
  let controller: AbortController;
  try {
    controller = await new Log(options.cluster.config).log(options.namespace, options.pod, options.container, sink, { follow: options.follow });
  } catch (error) {
    if (error instanceof ApiException && (error.code === 400 || error.code === 404)) return false;
    throw clusterError({ error, what: `read the logs of pod ${options.pod}`, server: options.cluster.server });
  }
  const stop = (): void => {
    controller.abort();
    sink.destroy();
  };
  signal?.addEventListener('abort', stop, { once: true });
  if (signal?.aborted === true) stop();
  try {
    await finished(sink);
  } catch (error) {
    signal?.throwIfAborted();
    throw clusterError({ error, what: `read the logs of pod ${options.pod}`, server: options.cluster.server });
  } finally {
    signal?.removeEventListener('abort', stop);
  }
  return true;
}

/** Runs one API request on `cluster`, its failure turned into {@link clusterError} naming `what`. */
export type ClusterCall = <T>(what: string, request: () => Promise<T>) => Promise<T>;

export function clusterCall(cluster: FoundKubeConfig): ClusterCall {
  return (what, request) => request().catch((error: unknown) => { throw clusterError({ error, what, server: cluster.server }); });
}

/** ERR_BUILD_INTERRUPTED after `signal` stopped a submit: `what` says what was done about the run. */
export function interrupted(options: { signal: AbortSignal; what: string; hint: string; cause: unknown }): CaissonError {
  const reason = options.signal.reason instanceof Error ? options.signal.reason.message : 'interrupted';
  return new CaissonError({ code: 'ERR_BUILD_INTERRUPTED', message: `${reason}: ${options.what}`, hint: options.hint, cause: options.cause });
}

/** Throws ERR_BUILD_INTERRUPTED when `signal` was aborted before anything ran in the cluster. */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw interrupted({ signal, what: 'nothing was created in the cluster', hint: 'Run caisson submit again.', cause: signal.reason });
}

/** An API failure as ERR_CLUSTER naming the server and what was asked; never a token. */
export function clusterError(options: { error: unknown; what: string; server: string }): CaissonError {
  const { error, what, server } = options;
  if (error instanceof CaissonError) return error;
  if (error instanceof ApiException) {
    const status = statusMessage(error.body);
    const hint = error.code === 401 || error.code === 403 ? 'Check the kubeconfig user, or the service account\'s RBAC: it needs get on tasks, create, get and patch on taskruns, get on pods/log (without Tekton: create, get and delete on pods, get on pods/log, create on pods/attach for a local context).' : undefined;
    return new CaissonError({ code: 'ERR_CLUSTER', message: `${server} refused to ${what}: HTTP ${error.code}${status === '' ? '' : `: ${status}`}`, ...(hint === undefined ? {} : { hint }) });
  }
  const cause = rootCause(error);
  // @kubernetes/client-node refuses a plain http:// server unless the kubeconfig says insecure-skip-tls-verify.
  const hint = /skipTLSVerify/.test(cause) ? 'For an http:// server (kubectl proxy), set insecure-skip-tls-verify: true on the cluster in the kubeconfig.' : 'Is the cluster up, and is this the kubeconfig for it (--kubeconfig, $KUBECONFIG)?';
  return new CaissonError({ code: 'ERR_CLUSTER', message: `cannot reach the Kubernetes API server ${server} to ${what}: ${cause}`, hint, cause: error });
}

function statusMessage(body: unknown): string {
  const parsed: unknown = typeof body === 'string' ? safeParse(body) : body;
  if (typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string') return parsed.message;
  return '';
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function rootCause(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  if (current instanceof Error) return 'code' in current && typeof current.code === 'string' ? `${current.code} (${current.message})` : current.message;
  return String(current);
}
