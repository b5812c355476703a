/**
 * `caisson submit` without Tekton: create the plain Pod (pod.ts), stream its container's log and
 * wait for the Pod's phase. No Tekton means no results and no Chains: the log is the outcome.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { CaissonError } from '../../errors.js';
import { clusterCall, followLog } from './api.js';
import { podManifest } from './pod.js';
import type { SubmitOptions } from './submit.js';

/** What `submitBuild` was given, its poll interval resolved. */
export type PodRunOptions = Omit<SubmitOptions, 'pollMs'> & { readonly pollMs: number };

/** Waiting reasons a container does not recover from by itself. */
const STUCK = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

/** Runs the build as a Pod and resolves with its name when it succeeds; a failure throws ERR_TASKRUN_FAILED. */
export async function runPod(options: PodRunOptions): Promise<string> {
  const { cluster, namespace } = options;
  const core = cluster.config.makeApiClient(CoreV1Api);
  const call = clusterCall(cluster);
  const body = podManifest({ namespace, task: options.task, source: options.source, params: options.params, ...(options.workspaces === undefined ? {} : { workspaces: options.workspaces }), ...(options.serviceAccount === undefined ? {} : { serviceAccount: options.serviceAccount }) }) as V1Pod;
  const container = body.spec?.containers[0]?.name ?? 'build-and-push';
  const created = await call('create a Pod', () => core.createNamespacedPod({ namespace, body }));
  const name = created.metadata?.name ?? '';
  options.progress(`created Pod ${namespace}/${name} (image ${body.spec?.containers[0]?.image ?? ''})`);
  let streamed = false;
  for (;;) {
    const pod = await call(`read Pod ${name}`, () => core.readNamespacedPod({ namespace, name }));
    const phase = pod.status?.phase ?? 'Pending';
    const done = phase === 'Succeeded' || phase === 'Failed';
    const state = pod.status?.containerStatuses?.find((status) => status.name === container)?.state;
    const waiting = state?.waiting?.reason;
    if (waiting !== undefined && STUCK.has(waiting)) throw podFailed({ namespace, name, why: `container ${container} is stuck: ${waiting}${state?.waiting?.message === undefined ? '' : `: ${state.waiting.message}`}` });
    if (!streamed && (phase !== 'Pending' || state?.running !== undefined || state?.terminated !== undefined)) {
      streamed = await followLog({ cluster, namespace, pod: name, container, writeLog: options.writeLog, follow: !done });
      if (streamed) continue;
    }
    if (phase === 'Succeeded') return name;
    if (phase === 'Failed') {
      const ended = state?.terminated;
      const why = ended === undefined ? (pod.status?.reason ?? pod.status?.message ?? 'no container status') : `container ${container} ended ${ended.reason ?? 'Error'}, exit code ${ended.exitCode}${ended.message === undefined ? '' : `: ${ended.message}`}`;
      throw podFailed({ namespace, name, why });
    }
    await sleep(options.pollMs);
  }
}

function podFailed(options: { namespace: string; name: string; why: string }): CaissonError {
  return new CaissonError({
    code: 'ERR_TASKRUN_FAILED',
    message: `Pod ${options.namespace}/${options.name} failed: ${options.why}`,
    hint: `kubectl describe pod ${options.name} -n ${options.namespace}`,
  });
}
