/**
 * The plain Pod `caisson submit` creates when the cluster has no Tekton: the Task `caisson`'s
 * step as a container, its placeholders resolved here since no Tekton substitutes them.
 *
 * The step is taken from the Task itself (command, args, env, securityContext, image), so the
 * two cannot drift: `$(params.NAME)` becomes the TaskRun's value for NAME, else the Task's
 * default; an array param spread as `$(params.NAME[*])` becomes one arg per element; `$(VAR)`
 * naming one of the step's env entries becomes that entry's value; `$(workspaces.NAME.path)`
 * is where that workspace's volume is mounted (Tekton's /workspace/NAME) and an unbound optional
 * workspace is empty, as Tekton makes it. `$(context.taskRun.uid)` becomes the pod's own uid, through the downward API.
 * Kubernetes still expands `$(VAR)` in a container's args and env, so every `$` of a value is
 * doubled (`$$` is its escape): a build arg holding `$(HOME)` reaches caisson unchanged.
 */
import type { YamlMap, YamlValue } from '../yaml.js';
import { taskRunParams, workspaceVolumes, type SubmitParams, type SubmitSource, type SubmitWorkspaces } from './taskrun.js';
import { TASK_VERSION } from '../task.js';

/** Where the source volume is mounted (Tekton's path for the workspace `source`). */
export const SOURCE_PATH = workspacePath('source');

/** Where a workspace's volume is mounted: Tekton's default, /workspace/<name>. */
export function workspacePath(name: string): string {
  return `/workspace/${name}`;
}

/** The environment variable holding the pod's uid: the build's invocation id. */
const UID_VAR = 'CAISSON_POD_UID';

export interface PodOptions {
  readonly namespace: string;
  /** The Task `caisson` as `caisson tekton task` renders it. */
  readonly task: YamlMap;
  readonly source: SubmitSource;
  readonly params: SubmitParams;
  /** The optional workspaces to mount (none when absent). */
  readonly workspaces?: SubmitWorkspaces;
  readonly serviceAccount?: string;
}

/** Volumes mounted read-only: Secrets and ConfigMaps. */
function readOnlyVolume(volume: Record<string, unknown>): boolean {
  return 'secret' in volume || 'configMap' in volume;
}

/** The Pod (v1), named by the server from generateName `caisson-`; its one container is the Task's step. */
export function podManifest(options: PodOptions): Record<string, unknown> {
  const spec = mapAt(options.task, 'spec');
  const step = mapAt({ step: listAt(spec, 'steps')[0] ?? null }, 'step');
  const values = paramValues({ task: spec, given: taskRunParams(options) });
  const volumes = workspaceVolumes(options);
  const bound = new Set(volumes.map((volume) => volume.name));
  const stepEnv = listAt(step, 'env').map((entry) => asMap(entry, 'a step env entry'));
  const scalar = (name: string): string => {
    const value = values.get(name);
    if (typeof value !== 'string') throw new Error(`the Task's step names $(params.${name}), which is not a string param`);
    return value;
  };
  // Env first: an env value names params and workspaces only.
  const env = new Map<string, string>();
  const kept: { name: string; value: string }[] = [];
  for (const entry of stepEnv) {
    const name = stringAt(entry, 'name');
    const resolved = substitute({ template: stringAt(entry, 'value'), scalar, env, bound });
    env.set(name, resolved.value);
    if (!resolved.unbound) kept.push({ name, value: escape(resolved.value) });
  }
  const args: string[] = [];
  for (const arg of listAt(step, 'args')) {
    const template = asString(arg, 'a step arg');
    const spread = /^\$\(params\.([A-Za-z0-9_-]+)\[\*\]\)$/.exec(template);
    if (spread !== null) {
      const value = values.get(spread[1] ?? '') ?? [];
      args.push(...(typeof value === 'string' ? [value] : value).map(escape));
      continue;
    }
    args.push(substitute({ template, scalar, env, bound, escapeValues: true }).value);
  }
  const container = {
    name: stringAt(step, 'name'),
    image: substitute({ template: stringAt(step, 'image'), scalar, env, bound }).value,
    workingDir: substitute({ template: stringAt(step, 'workingDir'), scalar, env, bound }).value,
    command: listAt(step, 'command').map((word) => asString(word, 'a step command word')),
    args,
    env: [...kept, { name: UID_VAR, valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } }],
    securityContext: plain(step['securityContext'] ?? null),
    volumeMounts: volumes.map((volume) => ({ name: volume.name, mountPath: workspacePath(volume.name), ...(readOnlyVolume(volume) ? { readOnly: true } : {}) })),
    // tar://stdin: the context arrives on standard input, which closes when caisson submit detaches.
    ...(options.source.kind === 'stdin' ? { stdin: true, stdinOnce: true } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'caisson-', namespace: options.namespace, labels: { 'app.kubernetes.io/managed-by': 'caisson', 'app.kubernetes.io/version': TASK_VERSION } },
    spec: {
      restartPolicy: 'Never',
      ...(options.serviceAccount === undefined ? {} : { serviceAccountName: options.serviceAccount }),
      containers: [container],
      volumes,
    },
  };
}

/** Every param's value: the TaskRun's, else the Task's default. */
function paramValues(options: { task: YamlMap; given: readonly { name: string; value: string | readonly string[] }[] }): Map<string, string | readonly string[]> {
  const values = new Map<string, string | readonly string[]>();
  for (const param of listAt(options.task, 'params').map((entry) => asMap(entry, 'a Task param'))) {
    const fallback = param['default'];
    if (typeof fallback === 'string') values.set(stringAt(param, 'name'), fallback);
    else if (Array.isArray(fallback)) values.set(stringAt(param, 'name'), fallback.map((word: YamlValue) => asString(word, 'a param default')));
  }
  for (const param of options.given) values.set(param.name, param.value);
  return values;
}

/** One template with its placeholders replaced; `unbound` when it named an unbound optional workspace. */
function substitute(options: { template: string; scalar: (name: string) => string; env: ReadonlyMap<string, string>; bound: ReadonlySet<string>; escapeValues?: boolean }): { value: string; unbound: boolean } {
  let unbound = false;
  const quote = (text: string): string => (options.escapeValues === true ? escape(text) : text);
  const value = options.template.replace(/\$\(([^)]+)\)/g, (_match, name: string) => {
    const param = /^params\.(.+)$/.exec(name);
    if (param !== null) return quote(options.scalar(param[1] ?? ''));
    const workspace = /^workspaces\.([^.]+)\.path$/.exec(name);
    if (workspace !== null) {
      const workspaceName = workspace[1] ?? '';
      if (options.bound.has(workspaceName)) return workspacePath(workspaceName);
      unbound = true;
      return '';
    }
    if (name === 'context.taskRun.uid') return `$(${UID_VAR})`;
    const variable = options.env.get(name);
    if (variable !== undefined) return quote(variable);
    throw new Error(`the Task's step names $(${name}), which a plain Pod cannot resolve`);
  });
  return { value, unbound };
}

/** A literal for a container's args or env: Kubernetes reads `$$` as `$`, so no `$(VAR)` in it expands. */
function escape(text: string): string {
  return text.replaceAll('$', '$$$$');
}

/** The data without the emitter's `#` comment keys. */
function plain(value: YamlValue): unknown {
  if (Array.isArray(value)) return value.map((item: YamlValue) => plain(item));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value as YamlMap).filter(([key]) => !key.startsWith('#')).map(([key, item]) => [key, plain(item)]));
}

function asMap(value: YamlValue | undefined, what: string): YamlMap {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`the Task's ${what} is not a mapping`);
  return value as YamlMap;
}

function asString(value: YamlValue | undefined, what: string): string {
  if (typeof value !== 'string') throw new Error(`the Task's ${what} is not a string`);
  return value;
}

function mapAt(map: YamlMap, key: string): YamlMap {
  return asMap(map[key], key);
}

function listAt(map: YamlMap, key: string): readonly YamlValue[] {
  const value = map[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`the Task's ${key} is not a list`);
  return value as readonly YamlValue[];
}

function stringAt(map: YamlMap, key: string): string {
  return asString(map[key], key);
}
