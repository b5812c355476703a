/**
 * The Kubernetes API calls `caisson submit` shares between its TaskRun and plain-Pod paths: a
 * container's log, streamed, and API failures as ERR_CLUSTER.
 */
import { Writable } from 'node:stream';
import { ApiException, Log } from '@kubernetes/client-node';
import { CaissonError } from '../../errors.js';
import type { FoundKubeConfig } from './kubeconfig.js';

/** Streams a container's log to its end; false when the container has not started yet. */
export async function followLog(options: { cluster: FoundKubeConfig; namespace: string; pod: string; container: string; writeLog: (text: string) => void; follow: boolean }): Promise<boolean> {
  const decoder = new TextDecoder();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      options.writeLog(decoder.decode(chunk, { stream: true }));
      callback();
    },
  });
  const finished = new Promise<void>((resolve, reject) => {
    sink.on('finish', resolve);
    sink.on('error', reject);
  });
  try {
    await new Log(options.cluster.config).log(options.namespace, options.pod, options.container, sink, { follow: options.follow });
  } catch (error) {
    if (error instanceof ApiException && (error.code === 400 || error.code === 404)) return false;
    throw clusterError({ error, what: `read the logs of pod ${options.pod}`, server: options.cluster.server });
  }
  await finished;
  return true;
}

/** Runs one API request on `cluster`, its failure turned into {@link clusterError} naming `what`. */
export type ClusterCall = <T>(what: string, request: () => Promise<T>) => Promise<T>;

export function clusterCall(cluster: FoundKubeConfig): ClusterCall {
  return (what, request) => request().catch((error: unknown) => { throw clusterError({ error, what, server: cluster.server }); });
}

/** An API failure as ERR_CLUSTER naming the server and what was asked; never a token. */
export function clusterError(options: { error: unknown; what: string; server: string }): CaissonError {
  const { error, what, server } = options;
  if (error instanceof CaissonError) return error;
  if (error instanceof ApiException) {
    const status = statusMessage(error.body);
    const hint = error.code === 401 || error.code === 403 ? 'Check the kubeconfig user, or the service account\'s RBAC: it needs get on tasks, create and get on taskruns, get on pods/log (without Tekton: create and get on pods, get on pods/log).' : undefined;
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
