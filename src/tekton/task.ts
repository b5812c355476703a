/**
 * caisson's Tekton resources as plain data (printed as YAML by `caisson tekton`): the Task
 * `caisson`, the StepAction `caisson-build` and a Pipeline git-clone → caisson → verify.
 *
 * Each param's description is the `describe` of the `caisson build` flag it feeds (passed in by
 * the CLI, which owns the flags), so the Task cannot drift from the command line. Scalar params
 * reach the step through `env` only; the args name those variables as `$(VAR)`, which Kubernetes
 * expands from the container's own environment (no shell, no script: each arg stays one argv
 * entry, whatever the value holds). Array params (BUILD_ARGS, EXTRA_ARGS) can only be spread into
 * args (`$(params.NAME[*])`, each element one argv entry); BUILD_ARGS go after `--`, where
 * `caisson build` takes KEY=VALUE words as build args.
 */
import { RESULT_NAMES, type ResultName } from './results.js';

/**
 * How a step starts caisson in caisson's image: the ENTRYPOINT of the repository's Dockerfile
 * (node through the image's own dynamic loader and libraries, so it runs whatever the root
 * filesystem holds). A test keeps the two equal.
 */
export const CAISSON_COMMAND: readonly string[] = ['/caisson/lib/ld.so', '--library-path', '/caisson/lib', '/caisson/node/bin/node', '/caisson/app/bin/caisson.js'];
import type { YamlMap, YamlValue } from './yaml.js';

/** The catalog version of the Task (`catalog/task/caisson/<version>/`). */
export const TASK_VERSION = '0.1';

/** The oldest Tekton Pipelines the Task runs on (v1 API, object results, array params in args). */
export const TASK_MIN_PIPELINES = '0.50.0';

/** The oldest Tekton Pipelines with StepActions (tekton.dev/v1beta1) and step results. */
export const STEP_ACTION_MIN_PIPELINES = '0.59.0';

/** Where caisson's image (the repository's Dockerfile) is published, tagged with caisson's version. */
export const BUILDER_REPOSITORY = 'ghcr.io/caisson-dev/caisson';

/** A `caisson build` flag as the CLI declares it (structurally `OptionSpec`). */
export interface FlagDescription {
  readonly name: string;
  readonly describe: string;
}

export interface TektonResourceOptions {
  /** caisson's version: BUILDER_IMAGE's default tag. */
  readonly version: string;
  /** `caisson build`'s flags: the params' descriptions. */
  readonly flags: readonly FlagDescription[];
}

type ParamType = 'string' | 'array';

interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  /** The `caisson build` flag it feeds (its describe is the description), or a fixed description. */
  readonly source: { readonly kind: 'flag'; readonly flag: string } | { readonly kind: 'text'; readonly text: string };
  /** Absent: required. */
  readonly default?: string | readonly string[];
}

function params(version: string): readonly ParamSpec[] {
  const flag = (name: string) => ({ kind: 'flag', flag: name }) as const;
  return [
    { name: 'IMAGE', type: 'string', source: flag('destination') },
    { name: 'DOCKERFILE', type: 'string', source: flag('dockerfile'), default: './Dockerfile' },
    { name: 'CONTEXT', type: 'string', source: flag('context'), default: './' },
    { name: 'BUILD_ARGS', type: 'array', source: flag('build-arg'), default: [] },
    { name: 'TARGET', type: 'string', source: flag('target'), default: '' },
    { name: 'PLATFORMS', type: 'string', source: flag('custom-platform'), default: '' },
    { name: 'EXTRA_ARGS', type: 'array', source: { kind: 'text', text: 'more caisson build flags, one per element (e.g. --cache-ttl=24h, --tlog-upload=false)' }, default: [] },
    { name: 'CACHE_REPO', type: 'string', source: flag('cache-repo'), default: '' },
    { name: 'CACHE', type: 'string', source: flag('cache'), default: 'false' },
    { name: 'SIGN', type: 'string', source: flag('sign'), default: 'false' },
    { name: 'PROVENANCE', type: 'string', source: flag('provenance'), default: 'false' },
    { name: 'BUILDER_IMAGE', type: 'string', source: { kind: 'text', text: "caisson's image (built from caisson's Dockerfile; the step runs caisson through the image's own loader)" }, default: `${BUILDER_REPOSITORY}:${version}` },
  ];
}

/** Scalar params passed to the step as environment variables of the same name, and the flag each feeds. */
const ENV_FLAGS: readonly (readonly [param: string, flag: string])[] = [
  ['IMAGE', 'destination'],
  ['DOCKERFILE', 'dockerfile'],
  ['CONTEXT', 'context'],
  ['TARGET', 'target'],
  ['PLATFORMS', 'custom-platform'],
  ['CACHE', 'cache'],
  ['CACHE_REPO', 'cache-repo'],
  ['SIGN', 'sign'],
  ['PROVENANCE', 'provenance'],
];

const RESULT_DESCRIPTIONS: Record<ResultName, string> = {
  IMAGE_DIGEST: 'the digest of the image built (sha256:<hex>; the index digest for a multi-platform image)',
  IMAGE_URL: 'the first pushed destination (registry/repo:tag): with IMAGE_DIGEST, the subject Tekton Chains signs and attests',
  IMAGES: 'every pushed repository as name@digest, one a line (Chains type hint)',
  IMAGE_ARTIFACT_OUTPUTS: 'the image as {uri, digest, isBuildArtifact} (Chains slsa/v2alpha4 type hint: a build output, hence a subject)',
  SIGNATURE_REF: "the image signature caisson pushed (--sign): its .sig tag or bundle referrer; empty without --sign",
  ATTESTATION_REF: "the provenance attestation caisson pushed (--provenance): its .att tag or bundle referrer; empty without --provenance",
  PROVENANCE_DIGEST: 'sha256 of the in-toto SLSA v1 provenance statement caisson attested; empty without provenance',
};

function description(spec: ParamSpec, flags: readonly FlagDescription[]): string {
  if (spec.source.kind === 'text') return spec.source.text;
  const name = spec.source.flag;
  const flag = flags.find((candidate) => candidate.name === name);
  if (flag === undefined) throw new Error(`the Tekton param ${spec.name} names --${name}, which caisson build does not declare`);
  return `${flag.describe} (caisson build --${name})`;
}

function paramList(options: TektonResourceOptions, skip: readonly string[] = []): YamlMap[] {
  return params(options.version)
    .filter((spec) => !skip.includes(spec.name))
    .map((spec) => ({
      name: spec.name,
      type: spec.type,
      description: description(spec, options.flags),
      ...(spec.default === undefined ? {} : { default: spec.default }),
    }));
}

function resultList(): YamlMap[] {
  return RESULT_NAMES.map((name) => ({
    name,
    description: RESULT_DESCRIPTIONS[name],
    ...(name === 'IMAGE_ARTIFACT_OUTPUTS' ? { type: 'object', properties: { uri: { type: 'string' }, digest: { type: 'string' }, isBuildArtifact: { type: 'string' } } } : { type: 'string' }),
  }));
}

const SECURITY_COMMENT = [
  'runAsUser 0: RUN instructions run in new mount and PID namespaces over a root-owned build root,',
  'which the kernel allows to root holding CAP_SYS_ADMIN (no user namespace is needed); layers',
  'keep files owned by root. Not privileged, no privilege escalation; every capability dropped',
  'but those RUN needs: file ownership and modes (CHOWN, DAC_OVERRIDE, FOWNER, FSETID, SETFCAP),',
  'switching to USER (SETUID, SETGID), ending its processes (KILL), chroot/pivot_root and mounts',
  '(SYS_CHROOT, SYS_ADMIN). RuntimeDefault seccomp allows unshare and mount to CAP_SYS_ADMIN.',
].join('\n');

function securityContext(): YamlMap {
  return {
    '#': SECURITY_COMMENT,
    runAsUser: 0,
    privileged: false,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'SETFCAP', 'SETUID', 'SETGID', 'KILL', 'SYS_CHROOT', 'SYS_ADMIN'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** The step's env (params by name, then `extra`) and its args: flags from those variables, then `extraArgs`, the arrays last. */
function invocation(options: { readonly paramRef: (name: string) => string; readonly extraEnv: readonly YamlMap[]; readonly extraArgs: readonly string[] }): { env: YamlMap[]; args: string[] } {
  const env: YamlMap[] = [...ENV_FLAGS.map(([name]) => ({ name, value: options.paramRef(name) })), ...options.extraEnv];
  const args = [
    'build',
    ...ENV_FLAGS.map(([name, flag]) => `--${flag}=$(${name})`),
    ...options.extraArgs,
    `${options.paramRef('EXTRA_ARGS[*]')}`,
    '--',
    `${options.paramRef('BUILD_ARGS[*]')}`,
  ];
  return { env, args };
}

const TASK_DESCRIPTION = [
  'Build a container image from a Dockerfile with caisson, push it, and optionally sign it and attest its SLSA v1 provenance.',
  "caisson is a daemonless builder with kaniko's flags and BuildKit's Dockerfile semantics. The step is not",
  'privileged. Its results (IMAGE_URL, IMAGE_DIGEST, IMAGES, IMAGE_ARTIFACT_OUTPUTS) are the type hints',
  "Tekton Chains reads; SIGNATURE_REF, ATTESTATION_REF and PROVENANCE_DIGEST name what caisson pushed itself",
  "with --sign and --provenance, keyed from Chains' signing-secrets layout.",
  '',
].join('\n');

function metadata(options: { readonly name: string; readonly minVersion: string; readonly displayName: string }): YamlMap {
  return {
    name: options.name,
    labels: { 'app.kubernetes.io/version': TASK_VERSION },
    annotations: {
      'tekton.dev/pipelines.minVersion': options.minVersion,
      'tekton.dev/categories': 'Image Build, Security',
      'tekton.dev/tags': 'image-build, dockerfile, sign, provenance',
      'tekton.dev/displayName': options.displayName,
      'tekton.dev/platforms': 'linux/amd64,linux/arm64',
    },
  };
}

/** The Task `caisson`: one step running `caisson build` in caisson's image. */
export function caissonTask(options: TektonResourceOptions): YamlMap {
  const { env, args } = invocation({
    paramRef: (name) => `$(params.${name})`,
    extraEnv: [
      { '#': 'Unbound optional workspaces have an empty path; caisson treats an empty DOCKER_CONFIG, and empty flag values, as not given.', name: 'DOCKER_CONFIG', value: '$(workspaces.dockerconfig.path)' },
      { name: 'NODE_EXTRA_CA_CERTS', value: '$(workspaces.sslcertdir.path)/ca.crt' },
    ],
    extraArgs: ['--cache-dir=$(workspaces.cache.path)', '--signing-secrets=$(workspaces.signing-secrets.path)', '--invocation-id=$(context.taskRun.uid)'],
  });
  const step: YamlMap = {
    name: 'build-and-push',
    image: '$(params.BUILDER_IMAGE)',
    workingDir: '$(workspaces.source.path)',
    command: [...CAISSON_COMMAND],
    '#': 'caisson writes the results itself into /tekton/results (it exists in every Tekton step).',
    args,
    env,
    securityContext: securityContext(),
  };
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'Task',
    metadata: metadata({ name: 'caisson', minVersion: TASK_MIN_PIPELINES, displayName: 'caisson: build, sign and attest an image' }),
    spec: {
      description: TASK_DESCRIPTION,
      params: paramList(options),
      workspaces: [
        { name: 'source', description: 'the build context: DOCKERFILE and CONTEXT are relative to it' },
        { name: 'dockerconfig', optional: true, description: 'a Docker config.json with registry credentials (becomes DOCKER_CONFIG)' },
        { name: 'signing-secrets', optional: true, description: "Tekton Chains' signing-secrets layout: x509.pem, else cosign.key + cosign.password (--signing-secrets)" },
        { name: 'cache', optional: true, description: "caisson's layer store and local build cache, kept between runs (--cache-dir)" },
        { name: 'sslcertdir', optional: true, description: 'ca.crt: more CA certificates (PEM) to trust for registries (NODE_EXTRA_CA_CERTS)' },
      ],
      results: resultList(),
      steps: [step],
    },
  };
}

/** The StepAction `caisson-build`: the Task's step, with workspace paths as params and step results. */
export function caissonStepAction(options: TektonResourceOptions): YamlMap {
  const pathParams: YamlMap[] = [
    { name: 'SOURCE_PATH', type: 'string', description: 'the directory of the build context (the step runs there): DOCKERFILE and CONTEXT are relative to it' },
    { name: 'DOCKER_CONFIG_PATH', type: 'string', description: 'a directory with a Docker config.json (becomes DOCKER_CONFIG); empty for none', default: '' },
    { name: 'SIGNING_SECRETS_PATH', type: 'string', description: "Tekton Chains' signing-secrets layout (--signing-secrets); empty for none", default: '' },
    { name: 'CACHE_PATH', type: 'string', description: "caisson's layer store and local build cache (--cache-dir); empty for the default", default: '' },
  ];
  const { env, args } = invocation({
    paramRef: (name) => `$(params.${name})`,
    extraEnv: [{ name: 'DOCKER_CONFIG', value: '$(params.DOCKER_CONFIG_PATH)' }, { name: 'SIGNING_SECRETS', value: '$(params.SIGNING_SECRETS_PATH)' }, { name: 'CACHE_DIR', value: '$(params.CACHE_PATH)' }],
    extraArgs: ['--cache-dir=$(CACHE_DIR)', '--signing-secrets=$(SIGNING_SECRETS)', '--results-dir=$(step.results.IMAGE_DIGEST.path)/..'],
  });
  return {
    apiVersion: 'tekton.dev/v1beta1',
    kind: 'StepAction',
    metadata: metadata({ name: 'caisson-build', minVersion: STEP_ACTION_MIN_PIPELINES, displayName: 'caisson build (StepAction)' }),
    spec: {
      description: TASK_DESCRIPTION,
      params: [...paramList(options), ...pathParams],
      results: resultList(),
      image: '$(params.BUILDER_IMAGE)',
      workingDir: '$(params.SOURCE_PATH)',
      command: [...CAISSON_COMMAND],
      '#': 'Step results live in their own directory; --results-dir takes it from a result path (.. is resolved lexically).',
      args,
      env,
      securityContext: securityContext(),
    },
  };
}

/** A Pipeline: git-clone (the catalog Task, resolved from the hub by the git resolver) → caisson → `caisson verify`. */
/** A Pipeline param. */
export function pipelineParam(name: string, type: 'string' | 'array', text: string, value?: YamlValue): YamlMap {
  return { name, type, description: text, ...(value === undefined ? {} : { default: value }) };
}

/** The params every caisson Pipeline takes around `image` (git-url, git-revision first; build-args, builder-image last). */
export function sourceParams(options: TektonResourceOptions, image: YamlMap): YamlMap[] {
  return [
    pipelineParam('git-url', 'string', 'the repository to clone'),
    pipelineParam('git-revision', 'string', 'the branch, tag or commit', 'main'),
    image,
    pipelineParam('build-args', 'array', 'build arguments, KEY=VALUE each', []),
    pipelineParam('builder-image', 'string', "caisson's image", `${BUILDER_REPOSITORY}:${options.version}`),
  ];
}

/** The catalog's git-clone Task (through the git resolver) into the `source` workspace. */
export const FETCH_SOURCE_TASK: YamlMap = {
  name: 'fetch-source',
  taskRef: { resolver: 'git', params: [{ name: 'url', value: 'https://github.com/tektoncd/catalog.git' }, { name: 'revision', value: 'main' }, { name: 'pathInRepo', value: 'task/git-clone/0.9/git-clone.yaml' }] },
  params: [{ name: 'url', value: '$(params.git-url)' }, { name: 'revision', value: '$(params.git-revision)' }],
  workspaces: [{ name: 'output', workspace: 'source' }],
};

export function caissonPipeline(options: TektonResourceOptions): YamlMap {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'Pipeline',
    metadata: { name: 'caisson-build-verify', labels: { 'app.kubernetes.io/version': TASK_VERSION } },
    spec: {
      description: 'Clone a git repository, build and push its Dockerfile with caisson (signed, with provenance), then check the signature with caisson verify.\n',
      params: sourceParams(options, pipelineParam('image', 'string', 'where to push the image (registry/repo:tag)')),
      workspaces: [{ name: 'source' }, { name: 'dockerconfig', optional: true }, { name: 'signing-secrets' }],
      tasks: [
        FETCH_SOURCE_TASK,
        {
          name: 'build',
          runAfter: ['fetch-source'],
          taskRef: { name: 'caisson' },
          params: [
            { name: 'IMAGE', value: '$(params.image)' },
            { name: 'BUILD_ARGS', value: ['$(params.build-args[*])'] },
            { name: 'SIGN', value: 'true' },
            { name: 'PROVENANCE', value: 'true' },
            { name: 'EXTRA_ARGS', value: ['--tlog-upload=false'] },
            { name: 'BUILDER_IMAGE', value: '$(params.builder-image)' },
          ],
          workspaces: [{ name: 'source', workspace: 'source' }, { name: 'dockerconfig', workspace: 'dockerconfig' }, { name: 'signing-secrets', workspace: 'signing-secrets' }],
        },
        {
          name: 'verify',
          runAfter: ['build'],
          params: [{ name: 'image', value: '$(params.image)' }, { name: 'digest', value: '$(tasks.build.results.IMAGE_DIGEST)' }, { name: 'builder-image', value: '$(params.builder-image)' }],
          workspaces: [{ name: 'dockerconfig', workspace: 'dockerconfig' }, { name: 'signing-secrets', workspace: 'signing-secrets' }],
          taskSpec: {
            params: [{ name: 'image', type: 'string' }, { name: 'digest', type: 'string' }, { name: 'builder-image', type: 'string' }],
            workspaces: [{ name: 'dockerconfig', optional: true }, { name: 'signing-secrets' }],
            steps: [
              {
                name: 'verify',
                image: '$(params.builder-image)',
                command: [...CAISSON_COMMAND],
                '#': 'The image by digest: its repository is IMAGE without the tag (caisson resolves REPO:TAG@DIGEST to the digest).',
                args: ['verify', '$(IMAGE)@$(DIGEST)', '--key=$(workspaces.signing-secrets.path)/cosign.pub', '--insecure-ignore-tlog'],
                env: [{ name: 'IMAGE', value: '$(params.image)' }, { name: 'DIGEST', value: '$(params.digest)' }, { name: 'DOCKER_CONFIG', value: '$(workspaces.dockerconfig.path)' }],
                securityContext: { runAsNonRoot: true, runAsUser: 65532, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              },
            ],
          },
        },
      ],
    },
  };
}
