/**
 * `caisson submit`: builds on a Kubernetes cluster. Creates a TaskRun of the installed Task
 * `caisson` with the build flags as its params, streams the build step's log to stderr, prints
 * the TaskRun's results to stdout and exits with its status. The context is a local directory
 * (the default; packed and pushed next to the destination, or streamed to a plain Pod), a git
 * URL (caisson clones it in the step), an oci:// context artifact, or a PersistentVolumeClaim
 * (--workspace-claim): see submit-context.ts. The Task's optional workspaces are bound from
 * --docker-config-secret, --signing-secret, --cache-claim and --sslcertdir-configmap. On a
 * cluster without Tekton, the Task's step runs as a plain Pod (same image, command, args and
 * securityContext): its log and exit status, but no results and no Chains. SIGINT/SIGTERM
 * cancel the TaskRun (or delete the Pod).
 */
import { homedir } from 'node:os';
import { CaissonError } from '../../errors.js';
import { caissonTask } from '../../tekton/index.js';
import { findKubeConfig, submitBuild, type SubmitOptions, type SubmitParams, type SubmitWorkspaces } from '../../tekton/k8s/index.js';
import { BUILD_OPTIONS } from '../build-flags.js';
import type { CommandContext } from '../context.js';
import type { ParsedArgs } from '../spec.js';
import { submitContext } from '../submit-context.js';
import { parseDuration } from '../units.js';
import { caissonVersion } from '../version.js';

export async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const params = submitParams(args);
  const pollMs = parseDuration({ flag: '--poll-interval', text: args.string('poll-interval') ?? '2s' });
  // The context first: a usage error in it comes before any cluster is looked for.
  const { source, dockerfile, cleanup } = await submitContext({ args, context, image: params.image });
  try {
    await submitTo({ args, context, source, params: dockerfile === undefined ? params : { ...params, dockerfile }, pollMs });
  } finally {
    await cleanup();
  }
}

async function submitTo(options: { args: ParsedArgs; context: CommandContext; source: SubmitOptions['source']; params: SubmitParams; pollMs: number }): Promise<void> {
  const { args, context } = options;
  const kubeconfig = args.string('kubeconfig');
  const cluster = findKubeConfig({
    ...(kubeconfig === undefined ? {} : { explicit: kubeconfig }),
    ...optional('kubeconfigEnv', context.env['KUBECONFIG']),
    ...optional('home', context.env['HOME'] ?? homedir()),
    ...optional('serviceHost', context.env['KUBERNETES_SERVICE_HOST']),
    ...optional('servicePort', context.env['KUBERNETES_SERVICE_PORT']),
  });
  const namespace = args.string('namespace') ?? cluster.namespace ?? 'default';
  const serviceAccount = args.string('service-account');
  context.logger.info(`submitting to ${cluster.server} (kubeconfig: ${cluster.source}), namespace ${namespace}`);
  const outcome = await submitBuild({
    cluster,
    namespace,
    source: options.source,
    params: options.params,
    workspaces: submitWorkspaces(args),
    ...(serviceAccount === undefined ? {} : { serviceAccount }),
    writeLog: context.stderr,
    progress: (message) => context.logger.info(message),
    pollMs: options.pollMs,
    task: caissonTask({ version: caissonVersion(), flags: BUILD_OPTIONS }),
    ...(context.signal === undefined ? {} : { signal: context.signal }),
    ...(args.bool('keep-pod') ? { keepPod: true } : {}),
  });
  if (outcome.kind === 'pod') {
    context.logger.info(`Pod ${namespace}/${outcome.pod} succeeded`);
    return;
  }
  context.logger.info(`TaskRun ${namespace}/${outcome.taskRun} succeeded`);
  for (const [name, value] of outcome.results) context.stdout(`${name}=${value}\n`);
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, string>);
}

/** The Task's params from the flags: the first --destination is IMAGE, the others go to EXTRA_ARGS. */
function submitParams(args: ParsedArgs): SubmitParams {
  const [image, ...more] = args.strings('destination');
  if (image === undefined) throw new CaissonError({ code: 'ERR_USAGE', message: 'caisson submit needs --destination (-d): the cluster pushes the image it builds', hint: 'caisson submit -c git://host/repo#main -d registry/repo:tag' });
  const targets = args.strings('target');
  const extraArgs = [...more.map((ref) => `--destination=${ref}`), ...(targets.length > 1 ? targets.map((stage) => `--target=${stage}`) : []), ...args.rest];
  const pick = (name: string): Record<string, string> => {
    const value = args.string(name);
    return value === undefined ? {} : { [name]: value };
  };
  const dockerfile = pick('dockerfile')['dockerfile'];
  const platform = pick('custom-platform')['custom-platform'];
  const cacheRepo = pick('cache-repo')['cache-repo'];
  const builderImage = pick('builder-image')['builder-image'];
  return {
    image,
    buildArgs: args.strings('build-arg'),
    extraArgs,
    ...(dockerfile === undefined ? {} : { dockerfile }),
    ...(targets.length === 1 && targets[0] !== undefined ? { target: targets[0] } : {}),
    ...(platform === undefined ? {} : { platform }),
    ...(args.bool('cache') ? { cache: true } : {}),
    ...(cacheRepo === undefined ? {} : { cacheRepo }),
    ...(args.bool('sign') ? { sign: true } : {}),
    ...(args.bool('provenance') ? { provenance: true } : {}),
    ...(builderImage === undefined ? {} : { builderImage }),
  };
}

/** The Task's optional workspaces from their flags, each only when given. */
function submitWorkspaces(args: ParsedArgs): SubmitWorkspaces {
  return {
    ...optional('dockerConfigSecret', args.string('docker-config-secret')),
    ...optional('signingSecret', args.string('signing-secret')),
    ...optional('cacheClaim', args.string('cache-claim')),
    ...optional('sslCertConfigMap', args.string('sslcertdir-configmap')),
  };
}
