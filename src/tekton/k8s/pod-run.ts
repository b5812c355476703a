/**
 * `caisson submit` without Tekton: create the plain Pod (pod.ts), feed it the context when it
 * reads it from standard input, stream its container's log and wait for the Pod's phase. No
 * Tekton means no results and no Chains: the log is the outcome. A Pod that succeeded is deleted
 * (unless `keepPod`); one that failed is kept for `kubectl logs`; an interrupted one is deleted.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { CaissonError } from '../../errors.js';
import { clusterCall, followLog, interrupted, throwIfInterrupted, type ClusterCall } from './api.js';
import { sendStdin } from './attach.js';
import { podManifest } from './pod.js';
import type { SubmitOptions } from './submit.js';
import type { SubmitSource } from './taskrun.js';

/** What `submitBuild` was given, its poll interval resolved and its source one a Pod can take. */
export type PodRunOptions = Omit<SubmitOptions, 'pollMs' | 'source'> & {
  readonly pollMs: number;
  readonly source: SubmitSource;
  /** For a `stdin` source: the context tarball, sent once the container runs. */
  readonly stdinData?: () => AsyncIterable<Buffer>;
};

/** Waiting reasons a container does not recover from by itself. */
const STUCK = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

/** Runs the build as a Pod and resolves with its name when it succeeds; a failure throws ERR_TASKRUN_FAILED. */
export async function runPod(options: PodRunOptions): Promise<string> {
  const { cluster, namespace, signal } = options;
  const core = cluster.config.makeApiClient(CoreV1Api);
  const call = clusterCall(cluster);
  const body = podManifest({ namespace, task: options.task, source: options.source, params: options.params, ...(options.workspaces === undefined ? {} : { workspaces: options.workspaces }), ...(options.serviceAccount === undefined ? {} : { serviceAccount: options.serviceAccount }) }) as V1Pod;
  const container = body.spec?.containers[0]?.name ?? 'build-and-push';
  throwIfInterrupted(signal);
  const created = await call('create a Pod', () => core.createNamespacedPod({ namespace, body }));
  const name = created.metadata?.name ?? '';
  options.progress(`created Pod ${namespace}/${name} (image ${body.spec?.containers[0]?.image ?? ''})`);
  const remove = async (): Promise<void> => {
    await call(`delete Pod ${name}`, () => core.deleteNamespacedPod({ namespace, name }));
  };
  try {
    await watchPod({ options, core, call, name, container });
  } catch (error) {
    if (signal?.aborted !== true) throw error;
    await remove();
    throw interrupted({ signal, what: `deleted Pod ${namespace}/${name}`, hint: 'The build stopped with its pod; run caisson submit again.', cause: error });
  }
  if (options.keepPod === true) return name;
  await remove();
  options.progress(`deleted Pod ${namespace}/${name} (--keep-pod keeps it)`);
  return name;
}

/** Follows the Pod until it succeeds (resolves) or fails (throws ERR_TASKRUN_FAILED, the Pod kept). */
async function watchPod(watch: { options: PodRunOptions; core: CoreV1Api; call: ClusterCall; name: string; container: string }): Promise<void> {
  const { options, core, call, name, container } = watch;
  const { cluster, namespace, signal } = options;
  let streamed = false;
  let fed = options.stdinData === undefined;
  for (;;) {
    signal?.throwIfAborted();
    const pod = await call(`read Pod ${name}`, () => core.readNamespacedPod({ namespace, name }));
    const phase = pod.status?.phase ?? 'Pending';
    const done = phase === 'Succeeded' || phase === 'Failed';
    const state = pod.status?.containerStatuses?.find((status) => status.name === container)?.state;
    const waiting = state?.waiting?.reason;
    if (waiting !== undefined && STUCK.has(waiting)) throw podFailed({ namespace, name, why: `container ${container} is stuck: ${waiting}${state?.waiting?.message === undefined ? '' : `: ${state.waiting.message}`}` });
    if (!fed && (done || state?.terminated !== undefined)) fed = true;
    if (!fed && state?.running !== undefined && options.stdinData !== undefined) {
      const bytes = await sendStdin({ cluster, namespace, pod: name, container, data: options.stdinData(), ...(signal === undefined ? {} : { signal }) });
      options.progress(`sent the context to Pod ${namespace}/${name} (${bytes} bytes)`);
      fed = true;
    }
    if (fed && !streamed && (phase !== 'Pending' || state?.running !== undefined || state?.terminated !== undefined)) {
      streamed = await followLog({ cluster, namespace, pod: name, container, writeLog: options.writeLog, follow: !done, ...(signal === undefined ? {} : { signal }) });
      if (streamed) continue;
    }
    if (phase === 'Succeeded') return;
    if (phase === 'Failed') {
      const ended = state?.terminated;
      const why = ended === undefined ? (pod.status?.reason ?? pod.status?.message ?? 'no container status') : `container ${container} ended ${ended.reason ?? 'Error'}, exit code ${ended.exitCode}${ended.message === undefined ? '' : `: ${ended.message}`}`;
      throw podFailed({ namespace, name, why });
    }
    await sleep(options.pollMs, undefined, signal === undefined ? {} : { signal });
  }
}

function podFailed(options: { namespace: string; name: string; why: string }): CaissonError {
  return new CaissonError({
    code: 'ERR_TASKRUN_FAILED',
    message: `Pod ${options.namespace}/${options.name} failed: ${options.why}`,
    hint: `The pod is kept: kubectl logs ${options.name} -n ${options.namespace}; kubectl describe pod ${options.name} -n ${options.namespace}; then kubectl delete pod ${options.name} -n ${options.namespace}`,
  });
}
