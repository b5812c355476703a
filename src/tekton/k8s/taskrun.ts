/**
 * The TaskRun `caisson submit` creates: the Task `caisson` with params from the build flags,
 * the source workspace (a claim, else an emptyDir: caisson clones a git context, pulls a pushed
 * one) and the optional workspaces the flags bind (dockerconfig, signing-secrets, cache, sslcertdir).
 */
import { TASK_VERSION } from '../task.js';

/** Where the build context comes from in the cluster. */
export type SubmitSource =
  /** A git URL: caisson clones it itself; the source workspace is an emptyDir. */
  | { readonly kind: 'git'; readonly url: string }
  /** A PersistentVolumeClaim holding the context; `path` is the context inside it. */
  | { readonly kind: 'claim'; readonly claim: string; readonly path: string }
  /** A context tarball pushed to a registry (`oci://registry/repo@sha256:…`): caisson pulls it; the source workspace is an emptyDir. */
  | { readonly kind: 'artifact'; readonly url: string }
  /** The plain Pod's standard input (`tar://stdin`), which `caisson submit` feeds through the attach API; an emptyDir source. */
  | { readonly kind: 'stdin' };

/**
 * The Task's optional workspaces `caisson submit` binds, each only when its flag is given;
 * the plain Pod mounts the same volumes at Tekton's paths (/workspace/<name>).
 */
export interface SubmitWorkspaces {
  /** A `kubernetes.io/dockerconfigjson` Secret (`kubectl create secret docker-registry`): its `.dockerconfigjson` becomes `config.json` of workspace dockerconfig. */
  readonly dockerConfigSecret?: string;
  /** A Secret in Tekton Chains' signing-secrets layout (cosign.key, cosign.password, or x509.pem): workspace signing-secrets. */
  readonly signingSecret?: string;
  /** A PersistentVolumeClaim kept between builds: workspace cache (caisson's --cache-dir). */
  readonly cacheClaim?: string;
  /** A ConfigMap whose key `ca.crt` holds more CA certificates (PEM) for registries: workspace sslcertdir (NODE_EXTRA_CA_CERTS). */
  readonly sslCertConfigMap?: string;
}

/** One workspace binding (TaskRun) or volume (Pod): the workspace's name and its volume source. */
export type WorkspaceVolume = { readonly name: string } & Record<string, unknown>;

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
  /** The optional workspaces to bind (none when absent). */
  readonly workspaces?: SubmitWorkspaces;
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
  add('CONTEXT', contextParam(source));
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

/** The CONTEXT param: what `caisson build --context` reads in the step. */
function contextParam(source: SubmitSource): string {
  switch (source.kind) {
    case 'git':
    case 'artifact':
      return source.url;
    case 'claim':
      return source.path;
    case 'stdin':
      return 'tar://stdin';
  }
}

/** The source workspace's volume: the claim, else an emptyDir (caisson clones, pulls or unpacks the context itself). */
export function sourceVolume(source: SubmitSource): { readonly name: 'source' } & Record<string, unknown> {
  return source.kind === 'claim' ? { name: 'source', persistentVolumeClaim: { claimName: source.claim } } : { name: 'source', emptyDir: {} };
}

/**
 * Every workspace `caisson submit` binds, as volumes: source first, then each optional one
 * whose flag is given. A TaskRun's workspace binding and a Pod's volume share this shape.
 */
export function workspaceVolumes(options: { readonly source: SubmitSource; readonly workspaces?: SubmitWorkspaces }): WorkspaceVolume[] {
  const workspaces = options.workspaces ?? {};
  const list: WorkspaceVolume[] = [sourceVolume(options.source)];
  if (workspaces.dockerConfigSecret !== undefined) list.push({ name: 'dockerconfig', secret: { secretName: workspaces.dockerConfigSecret, items: [{ key: '.dockerconfigjson', path: 'config.json' }] } });
  if (workspaces.signingSecret !== undefined) list.push({ name: 'signing-secrets', secret: { secretName: workspaces.signingSecret } });
  if (workspaces.cacheClaim !== undefined) list.push({ name: 'cache', persistentVolumeClaim: { claimName: workspaces.cacheClaim } });
  if (workspaces.sslCertConfigMap !== undefined) list.push({ name: 'sslcertdir', configMap: { name: workspaces.sslCertConfigMap } });
  return list;
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
      workspaces: workspaceVolumes(options),
    },
  };
}
