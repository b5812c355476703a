/**
 * `caisson submit`'s work: check the Task `caisson` is installed, create a TaskRun of it,
 * stream its build step's logs, and wait for its Succeeded condition.
 */
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, ApisApi, CustomObjectsApi, Log } from '@kubernetes/client-node';
import { CaissonError } from '../../errors.js';
import type { FoundKubeConfig } from './kubeconfig.js';
import { taskRunManifest, type SubmitParams, type SubmitSource } from './taskrun.js';

/** The Task's name and its build step's container (Tekton names it step-<step name>). */
export const TASK_NAME = 'caisson';
export const STEP_CONTAINER = 'step-build-and-push';
const GROUP = 'tekton.dev';
const VERSION = 'v1';

export interface SubmitOptions {
  readonly cluster: FoundKubeConfig;
  readonly namespace: string;
  readonly serviceAccount?: string;
  readonly source: SubmitSource;
  readonly params: SubmitParams;
  /** Receives the build step's log, as it comes. */
  readonly writeLog: (text: string) => void;
  /** Receives caisson's own progress lines (TaskRun created, pod started). */
  readonly progress: (message: string) => void;
  /** How often the TaskRun's status is read (default 2 s). */
  readonly pollMs?: number;
}

/** A TaskRun that succeeded: its name and results. */
export interface SubmitOutcome {
  readonly taskRun: string;
  readonly results: ReadonlyMap<string, string>;
}

interface TaskRunStatus {
  readonly podName?: string;
  readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[];
  readonly results?: readonly { readonly name: string; readonly value: unknown }[];
}

interface TaskRunObject {
  readonly metadata: { readonly name: string };
  readonly status?: TaskRunStatus;
}

/** Creates the TaskRun, streams its logs and resolves when it succeeds; a failure throws ERR_TASKRUN_FAILED. */
export async function submitBuild(options: SubmitOptions): Promise<SubmitOutcome> {
  const { cluster, namespace } = options;
  const custom = cluster.config.makeApiClient(CustomObjectsApi);
  const call = <T>(what: string, request: () => Promise<T>): Promise<T> => request().catch((error: unknown) => { throw clusterError({ error, what, server: cluster.server }); });
  await checkTask({ cluster, namespace, custom });
  const body = taskRunManifest({ namespace, source: options.source, params: options.params, task: TASK_NAME, ...(options.serviceAccount === undefined ? {} : { serviceAccount: options.serviceAccount }) });
  const created = (await call('create a TaskRun', () => custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'taskruns', body }))) as TaskRunObject;
  const name = created.metadata.name;
  options.progress(`created TaskRun ${namespace}/${name} (Task ${TASK_NAME})`);
  const read = async (): Promise<TaskRunObject> => (await call(`read TaskRun ${name}`, () => custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'taskruns', name }))) as TaskRunObject;
  const pollMs = options.pollMs ?? 2000;
  let streamed = false;
  for (;;) {
    const run = await read();
    const done = succeeded(run.status);
    const pod = run.status?.podName;
    if (!streamed && pod !== undefined && pod !== '') {
      streamed = await followLog({ cluster, namespace, pod, writeLog: options.writeLog, follow: done === undefined });
      if (streamed) continue;
    }
    if (done !== undefined) return finish({ run, done, namespace });
    await sleep(pollMs);
  }
}

function finish(options: { run: TaskRunObject; done: { ok: boolean; reason: string; message: string }; namespace: string }): SubmitOutcome {
  const name = options.run.metadata.name;
  if (!options.done.ok) {
    throw new CaissonError({
      code: 'ERR_TASKRUN_FAILED',
      message: `TaskRun ${options.namespace}/${name} failed: ${options.done.reason}${options.done.message === '' ? '' : `: ${options.done.message}`}`,
      hint: `kubectl describe taskrun ${name} -n ${options.namespace}`,
    });
  }
  const results = new Map<string, string>();
  for (const result of options.run.status?.results ?? []) results.set(result.name, typeof result.value === 'string' ? result.value : JSON.stringify(result.value));
  return { taskRun: name, results };
}

/** The Succeeded condition once it is True or False; undefined while it runs. */
function succeeded(status: TaskRunStatus | undefined): { ok: boolean; reason: string; message: string } | undefined {
  const condition = status?.conditions?.find((entry) => entry.type === 'Succeeded');
  if (condition === undefined || (condition.status !== 'True' && condition.status !== 'False')) return undefined;
  return { ok: condition.status === 'True', reason: condition.reason ?? 'Unknown', message: condition.message ?? '' };
}

/** Streams the build step's log to its end; false when the container has not started yet. */
async function followLog(options: { cluster: FoundKubeConfig; namespace: string; pod: string; writeLog: (text: string) => void; follow: boolean }): Promise<boolean> {
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
    await new Log(options.cluster.config).log(options.namespace, options.pod, STEP_CONTAINER, sink, { follow: options.follow });
  } catch (error) {
    if (error instanceof ApiException && (error.code === 400 || error.code === 404)) return false;
    throw clusterError({ error, what: `read the logs of pod ${options.pod}`, server: options.cluster.server });
  }
  await finished;
  return true;
}

/** The Task caisson must be installed in the namespace; a missing Tekton is told apart from a missing Task. */
async function checkTask(options: { cluster: FoundKubeConfig; namespace: string; custom: CustomObjectsApi }): Promise<void> {
  const { cluster, namespace } = options;
  try {
    await options.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'tasks', name: TASK_NAME });
    return;
  } catch (error) {
    if (!(error instanceof ApiException) || error.code !== 404) throw clusterError({ error, what: `read Task ${TASK_NAME}`, server: cluster.server });
  }
  const groups = await cluster.config.makeApiClient(ApisApi).getAPIVersions().catch((error: unknown) => { throw clusterError({ error, what: 'list API groups', server: cluster.server }); });
  const tekton = groups.groups.find((group) => group.name === GROUP);
  if (tekton === undefined || !tekton.versions.some((version) => version.version === VERSION)) {
    throw new CaissonError({
      code: 'ERR_CLUSTER',
      message: `Tekton Pipelines (${GROUP}/${VERSION}) is not installed on ${cluster.server}`,
      hint: 'Install Tekton Pipelines 0.50 or later, then kubectl apply -f tekton/task.yaml.',
    });
  }
  throw new CaissonError({
    code: 'ERR_CLUSTER',
    message: `the Task ${TASK_NAME} is not installed in namespace ${namespace} on ${cluster.server}`,
    hint: `kubectl apply -n ${namespace} -f tekton/task.yaml (or caisson tekton task | kubectl apply -n ${namespace} -f -)`,
  });
}

/** An API failure as ERR_CLUSTER naming the server and what was asked; never a token. */
export function clusterError(options: { error: unknown; what: string; server: string }): CaissonError {
  const { error, what, server } = options;
  if (error instanceof CaissonError) return error;
  if (error instanceof ApiException) {
    const status = statusMessage(error.body);
    const hint = error.code === 401 || error.code === 403 ? 'Check the kubeconfig user, or the service account\'s RBAC: it needs get on tasks, create and get on taskruns, get on pods/log.' : undefined;
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
