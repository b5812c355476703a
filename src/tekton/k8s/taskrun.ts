/**
 * The TaskRun `caisson submit` creates: the Task `caisson` with params from the build flags,
 * and the source workspace (a git context needs none: caisson clones it; else a claim).
 */
import { TASK_VERSION } from '../task.js';

/** Where the build context comes from in the cluster. */
export type SubmitSource =
  /** A git URL: caisson clones it itself; the source workspace is an emptyDir. */
  | { readonly kind: 'git'; readonly url: string }
  /** A PersistentVolumeClaim holding the context; `path` is the context inside it. */
  | { readonly kind: 'claim'; readonly claim: string; readonly path: string };

/** The Task's params, each given only when the flag is. */
export interface SubmitParams {
  readonly image: string;
  readonly dockerfile?: string;
  readonly buildArgs: readonly string[];
  readonly target?: string;
  readonly platform?: string;
  readonly cache?: boolean;
  readonly cacheRepo?: string;
  readonly sign?: boolean;
  readonly provenance?: boolean;
  readonly builderImage?: string;
  /** More `caisson build` flags, one per element (EXTRA_ARGS). */
  readonly extraArgs: readonly string[];
}

export interface TaskRunOptions {
  readonly namespace: string;
  readonly source: SubmitSource;
  readonly params: SubmitParams;
  readonly serviceAccount?: string;
  /** The Task's name (caisson). */
  readonly task: string;
}

/** One of the Task's params with its value. */
export type TaskParam = { readonly name: string; readonly value: string | readonly string[] };

/** The Task's params from the build flags, each only when given (the Task's defaults fill the rest). */
export function taskRunParams(options: { readonly source: SubmitSource; readonly params: SubmitParams }): TaskParam[] {
  const { params, source } = options;
  const list: TaskParam[] = [{ name: 'IMAGE', value: params.image }];
  const add = (name: string, value: string | readonly string[] | undefined): void => {
    if (value !== undefined) list.push({ name, value });
  };
  add('DOCKERFILE', params.dockerfile);
  add('CONTEXT', source.kind === 'git' ? source.url : source.path);
  if (params.buildArgs.length > 0) add('BUILD_ARGS', params.buildArgs);
  add('TARGET', params.target);
  add('PLATFORMS', params.platform);
  if (params.cache === true) add('CACHE', 'true');
  add('CACHE_REPO', params.cacheRepo);
  if (params.sign === true) add('SIGN', 'true');
  if (params.provenance === true) add('PROVENANCE', 'true');
  add('BUILDER_IMAGE', params.builderImage);
  if (params.extraArgs.length > 0) add('EXTRA_ARGS', params.extraArgs);
  return list;
}

/** The source workspace's volume: an emptyDir for a git context (caisson clones it), else the claim. */
export function sourceVolume(source: SubmitSource): { readonly name: 'source' } & Record<string, unknown> {
  return source.kind === 'git' ? { name: 'source', emptyDir: {} } : { name: 'source', persistentVolumeClaim: { claimName: source.claim } };
}

/** The TaskRun object (tekton.dev/v1), named by the server from generateName `caisson-`. */
export function taskRunManifest(options: TaskRunOptions): Record<string, unknown> {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { generateName: `${options.task}-`, namespace: options.namespace, labels: { 'app.kubernetes.io/managed-by': 'caisson', 'app.kubernetes.io/version': TASK_VERSION } },
    spec: {
      taskRef: { kind: 'Task', name: options.task },
      ...(options.serviceAccount === undefined ? {} : { serviceAccountName: options.serviceAccount }),
      params: taskRunParams(options),
      workspaces: [sourceVolume(options.source)],
    },
  };
}
