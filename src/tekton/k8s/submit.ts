/**
 * `caisson submit`'s work: check the Task `caisson` is installed, create a TaskRun of it,
 * stream its build step's logs, and wait for its Succeeded condition. On a cluster without
 * Tekton (no tekton.dev/v1 API), the Task's step runs as a plain Pod instead (pod-run.ts).
 * A local context is pushed to a registry for a TaskRun (a Task step has no stdin) and streamed
 * to the plain Pod's stdin. An abort of `signal` (SIGINT, SIGTERM) cancels the TaskRun as
 * `tkn taskrun cancel` does, or deletes the Pod, and throws ERR_BUILD_INTERRUPTED.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, ApisApi, CustomObjectsApi } from '@kubernetes/client-node';
import { CaissonError } from '../../errors.js';
import type { YamlMap } from '../yaml.js';
import { clusterCall, clusterError, followLog, interrupted, throwIfInterrupted, type ClusterCall } from './api.js';
import type { FoundKubeConfig } from './kubeconfig.js';
import { runPod } from './pod-run.js';
import { taskRunManifest, type SubmitParams, type SubmitSource, type SubmitWorkspaces } from './taskrun.js';

/** The Task's name and its build step's container (Tekton names it step-<step name>). */
export const TASK_NAME = 'caisson';
export const STEP_CONTAINER = 'step-build-and-push';
const GROUP = 'tekton.dev';
const VERSION = 'v1';

export interface SubmitOptions {
  readonly cluster: FoundKubeConfig;
  readonly namespace: string;
  readonly serviceAccount?: string;
  readonly source: SubmitSource | LocalContext;
  readonly params: SubmitParams;
  /** The Task's optional workspaces to bind (the plain Pod mounts them). */
  readonly workspaces?: SubmitWorkspaces;
  /** Receives the build step's log, as it comes. */
  readonly writeLog: (text: string) => void;
  /** Receives caisson's own progress lines (TaskRun created, pod started). */
  readonly progress: (message: string) => void;
  /** How often the TaskRun's (or Pod's) status is read (default 2 s). */
  readonly pollMs?: number;
  /** The Task `caisson` as `caisson tekton task` renders it: the plain Pod runs its step when Tekton is absent. */
  readonly task: YamlMap;
  /** Aborted on SIGINT/SIGTERM: the TaskRun is cancelled, the plain Pod deleted. */
  readonly signal?: AbortSignal;
  /** Keep the plain Pod when it succeeded (it is deleted by default; a failed one is always kept). */
  readonly keepPod?: boolean;
}

/** A context on this machine, packed as one tarball: pushed to a registry for a TaskRun, sent to the plain Pod's stdin. */
export interface LocalContext {
  readonly kind: 'local';
  /** The tarball's bytes (plain, gzip or zstd tar), for the Pod's standard input. */
  readonly open: () => AsyncIterable<Buffer>;
  /** Pushes the tarball as an artifact the cluster can pull; resolves with the CONTEXT to give (oci://…@sha256:…). */
  readonly push: () => Promise<string>;
}

/** What succeeded: a TaskRun with its results, or (without Tekton) a plain Pod, which has none. */
export type SubmitOutcome =
  | { readonly kind: 'taskrun'; readonly taskRun: string; readonly results: ReadonlyMap<string, string> }
  | { readonly kind: 'pod'; readonly pod: string };

interface TaskRunStatus {
  readonly podName?: string;
  readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[];
  readonly results?: readonly { readonly name: string; readonly value: unknown }[];
}

interface TaskRunObject {
  readonly metadata: { readonly name: string };
  readonly status?: TaskRunStatus;
}

/** Creates the TaskRun (or Pod), streams its logs and resolves when it succeeds; a failure throws ERR_TASKRUN_FAILED. */
export async function submitBuild(options: SubmitOptions): Promise<SubmitOutcome> {
  const { cluster, namespace, signal } = options;
  const custom = cluster.config.makeApiClient(CustomObjectsApi);
  const call = clusterCall(cluster);
  if ((await checkTask({ cluster, namespace, custom })) === 'no-tekton') {
    options.progress(`Tekton Pipelines (${GROUP}/${VERSION}) is not installed on ${cluster.server}: running the Task's step as a plain Pod (no results, no Chains)`);
    const given = options.source;
    const pod = await runPod({ ...options, pollMs: options.pollMs ?? 2000, ...(given.kind === 'local' ? { source: { kind: 'stdin' }, stdinData: given.open } : { source: given }) });
    return { kind: 'pod', pod };
  }
  const source: SubmitSource = options.source.kind === 'local' ? { kind: 'artifact', url: await options.source.push() } : options.source;
  const body = taskRunManifest({ namespace, source, params: options.params, task: TASK_NAME, ...(options.workspaces === undefined ? {} : { workspaces: options.workspaces }), ...(options.serviceAccount === undefined ? {} : { serviceAccount: options.serviceAccount }) });
  throwIfInterrupted(signal);
  const created = (await call('create a TaskRun', () => custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'taskruns', body }))) as TaskRunObject;
  const name = created.metadata.name;
  options.progress(`created TaskRun ${namespace}/${name} (Task ${TASK_NAME})`);
  try {
    return await watchTaskRun({ options, custom, call, name });
  } catch (error) {
    if (signal?.aborted !== true) throw error;
    // tkn taskrun cancel: a JSON patch setting spec.status; Tekton stops the pod and marks the run Cancelled.
    await call(`cancel TaskRun ${name}`, () => custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'taskruns', name, body: [{ op: 'add', path: '/spec/status', value: 'TaskRunCancelled' }] }));
    throw interrupted({ signal, what: `cancelled TaskRun ${namespace}/${name}`, hint: `kubectl get taskrun ${name} -n ${namespace} shows it Cancelled once its pod has stopped.`, cause: error });
  }
}

/** Follows the TaskRun until its Succeeded condition is True (its outcome) or False (ERR_TASKRUN_FAILED). */
async function watchTaskRun(watch: { options: SubmitOptions; custom: CustomObjectsApi; call: ClusterCall; name: string }): Promise<SubmitOutcome> {
  const { options, custom, call, name } = watch;
  const { cluster, namespace, signal } = options;
  const read = async (): Promise<TaskRunObject> => (await call(`read TaskRun ${name}`, () => custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'taskruns', name }))) as TaskRunObject;
  const pollMs = options.pollMs ?? 2000;
  let streamed = false;
  for (;;) {
    signal?.throwIfAborted();
    const run = await read();
    const done = succeeded(run.status);
    const pod = run.status?.podName;
    if (!streamed && pod !== undefined && pod !== '') {
      streamed = await followLog({ cluster, namespace, pod, container: STEP_CONTAINER, writeLog: options.writeLog, follow: done === undefined, ...(signal === undefined ? {} : { signal }) });
      if (streamed) continue;
    }
    if (done !== undefined) return finish({ run, done, namespace });
    await sleep(pollMs, undefined, signal === undefined ? {} : { signal });
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
  return { kind: 'taskrun', taskRun: name, results };
}

/** The Succeeded condition once it is True or False; undefined while it runs. */
function succeeded(status: TaskRunStatus | undefined): { ok: boolean; reason: string; message: string } | undefined {
  const condition = status?.conditions?.find((entry) => entry.type === 'Succeeded');
  if (condition === undefined || (condition.status !== 'True' && condition.status !== 'False')) return undefined;
  return { ok: condition.status === 'True', reason: condition.reason ?? 'Unknown', message: condition.message ?? '' };
}

/** The Task caisson must be installed in the namespace; without Tekton at all, 'no-tekton' (the plain Pod's case). */
async function checkTask(options: { cluster: FoundKubeConfig; namespace: string; custom: CustomObjectsApi }): Promise<'installed' | 'no-tekton'> {
  const { cluster, namespace } = options;
  try {
    await options.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'tasks', name: TASK_NAME });
    return 'installed';
  } catch (error) {
    if (!(error instanceof ApiException) || error.code !== 404) throw clusterError({ error, what: `read Task ${TASK_NAME}`, server: cluster.server });
  }
  const groups = await clusterCall(cluster)('list API groups', () => cluster.config.makeApiClient(ApisApi).getAPIVersions());
  const tekton = groups.groups.find((group) => group.name === GROUP);
  if (tekton === undefined || !tekton.versions.some((version) => version.version === VERSION)) return 'no-tekton';
  throw new CaissonError({
    code: 'ERR_CLUSTER',
    message: `the Task ${TASK_NAME} is not installed in namespace ${namespace} on ${cluster.server}`,
    hint: `kubectl apply -n ${namespace} -f tekton/task.yaml (or caisson tekton task | kubectl apply -n ${namespace} -f -)`,
  });
}

