/**
 * Every command's declaration: name, positionals and options, which drive argv parsing,
 * validation and --help. Each command's code (commands/<name>.ts) is loaded only when that
 * command runs, so `caisson --version`, `--help` and a usage error load none of it.
 */
import { BUILD_OPTIONS, REFUSED_WARMER_OPTIONS } from './build-flags.js';
import { REGISTRY_OPTIONS } from './registry-flags.js';
import { SIGNING_OPTIONS, VERIFY_OPTIONS } from './sign-flags.js';
import type { CommandSpec } from './spec.js';

/** `caisson cache gc`'s default --max-age (kaniko's --cache-ttl default). */
export const DEFAULT_MAX_AGE = '336h';

export const BUILD_COMMAND: CommandSpec = {
  name: 'build',
  describe: 'Build an image from a Dockerfile and a context, and push it or write it locally',
  positionals: [{ name: 'context', describe: 'the build context: a directory, dir://DIR, tar://FILE, tar://stdin or a git URL (or give -c/--context)', option: 'context' }],
  rest: { name: 'KEY[=VALUE]', describe: 'after --: build arguments, each as --build-arg (for a Tekton array param)' },
  options: BUILD_OPTIONS,
  load: () => import('./commands/build.js'),
};

export const PARSE_COMMAND: CommandSpec = {
  name: 'parse',
  describe: 'Parse a Dockerfile: stage summary, AST dump (--dump), typed JSON (--json)',
  positionals: [{ name: 'dockerfile', describe: 'path or http(s) URL of the Dockerfile, or - for standard input (default: ./Dockerfile)' }],
  options: [
    { name: 'dump', type: 'boolean', describe: "print the syntax tree in BuildKit's s-expression form", conflicts: ['json'] },
    { name: 'json', type: 'boolean', describe: 'print typed instructions, stages and the build plan as JSON' },
    { name: 'build-arg', type: 'string', multiple: true, placeholder: 'KEY=VALUE', describe: 'a value for an ARG; a bare KEY takes the environment value' },
    { name: 'target', type: 'string', multiple: true, placeholder: '<stage>', describe: 'stage to build (default: the last stage)' },
    { name: 'platform', type: 'string', placeholder: 'os/arch[/variant]', describe: 'target platform (default: this machine)' },
  ],
  load: () => import('./commands/parse.js'),
};

export const LINT_COMMAND: CommandSpec = {
  name: 'lint',
  describe: 'Check a Dockerfile: syntax errors and BuildKit build-check warnings',
  positionals: [{ name: 'dockerfile', describe: 'path or http(s) URL of the Dockerfile, or - for standard input (default: ./Dockerfile)' }],
  options: [
    { name: 'format', type: 'string', choices: ['text', 'json'], default: 'text', describe: 'output format' },
    { name: 'strict', type: 'boolean', describe: 'exit 1 when there are warnings too' },
    { name: 'build-arg', type: 'string', multiple: true, placeholder: 'KEY=VALUE', describe: 'a value for an ARG' },
  ],
  load: () => import('./commands/lint.js'),
};

export const INSPECT_COMMAND: CommandSpec = {
  name: 'inspect',
  describe: 'Show an image: digest, platform, layers and sizes, config (registry, oci: layout or docker-archive:)',
  positionals: [{ name: 'image', required: true, describe: 'docker://REF (default transport), oci:DIR[:TAG] or docker-archive:FILE[:REF]' }],
  options: [
    { name: 'raw', type: 'boolean', describe: 'print the manifest (or, with --config, the config) exactly as stored' },
    { name: 'config', type: 'boolean', describe: "print the image's config" },
    { name: 'platform', type: 'string', placeholder: 'OS/ARCH[/VARIANT]', describe: "the image of an index to show (default: this machine's platform)" },
    ...REGISTRY_OPTIONS,
  ],
  load: () => import('./commands/inspect.js'),
};

export const COPY_COMMAND: CommandSpec = {
  name: 'copy',
  describe: 'Copy an image between registries, oci: layouts and docker-archive: files, keeping digests',
  positionals: [
    { name: 'source', required: true, describe: 'docker://REF (default transport), oci:DIR[:TAG] or docker-archive:FILE[:REF]' },
    { name: 'destination', required: true, describe: 'docker://REF, oci:DIR[:TAG] or docker-archive:FILE[:NAME:TAG]' },
  ],
  options: [
    { name: 'platform', type: 'string', placeholder: 'OS/ARCH[/VARIANT]', describe: 'copy only this platform of an index (default: the whole index)' },
    ...REGISTRY_OPTIONS,
  ],
  load: () => import('./commands/copy.js'),
};

export const MANIFEST_COMMAND: CommandSpec = {
  name: 'manifest',
  describe: 'Merge images built separately (one per platform) into one index: create writes it to a registry or an oci: layout; push copies a layout\'s index to a registry',
  positionals: [
    { name: 'action', required: true, describe: 'create: make an index of the images at <list>; push: copy the index the oci: layout <list> holds to <images> (one registry REF)' },
    { name: 'list', required: true, describe: 'create: where the index goes, docker://REF (default transport) or oci:DIR[:TAG]; push: the oci:DIR[:TAG] holding it' },
    { name: 'images', variadic: true, describe: 'create: the images, one per platform (docker://REF, oci:DIR[:TAG], docker-archive:FILE[:REF]); an index gives all its images; push: the registry REF to push to' },
  ],
  options: [
    { name: 'image-format', type: 'string', choices: ['oci', 'docker'], describe: 'create: an OCI image index or a Docker manifest list (default: a Docker manifest list when every image is Docker schema 2, else an OCI index)' },
    { name: 'annotation', type: 'string', multiple: true, placeholder: 'KEY=VALUE', describe: 'create: an annotation on the index (OCI format)' },
    { name: 'digest-file', type: 'string', placeholder: 'FILE', describe: 'write the index digest to this file' },
    { name: 'results-dir', type: 'string', placeholder: 'DIR', describe: 'write the Tekton results of the index here (IMAGE_DIGEST, IMAGE_URL, IMAGES, IMAGE_ARTIFACT_OUTPUTS; default in a Tekton step: /tekton/results)' },
    ...REGISTRY_OPTIONS,
  ],
  load: () => import('./commands/manifest.js'),
};

export const CACHE_COMMAND: CommandSpec = {
  name: 'cache',
  describe: 'Show (du) or trim (gc) the local layer store and build cache under the cache directory',
  positionals: [{ name: 'action', required: true, describe: 'du: what the store holds; gc: remove what builds have not used lately' }],
  options: [
    { name: 'cache-dir', type: 'string', placeholder: 'DIR', describe: 'the cache directory (default: $CAISSON_CACHE_DIR, else $XDG_CACHE_HOME/caisson, else ~/.cache/caisson)' },
    { name: 'max-age', type: 'string', placeholder: 'DURATION', default: DEFAULT_MAX_AGE, describe: 'gc: remove entries no build used for this long (336h, 14d, 90m)' },
    { name: 'max-size', type: 'string', placeholder: 'SIZE', describe: 'gc: then remove the least recently used until the store fits (20GiB, 500MB)' },
    { name: 'json', type: 'boolean', describe: 'du: print JSON' },
  ],
  load: () => import('./commands/cache.js'),
};

export const WARM_COMMAND: CommandSpec = {
  name: 'warm',
  describe: "Pre-pull base images into the cache directory's layer store (kaniko's warmer)",
  options: [
    { name: 'image', short: 'i', type: 'string', multiple: true, placeholder: 'REF', describe: 'an image to pull' },
    { name: 'dockerfile', short: 'd', type: 'string', placeholder: 'PATH', describe: "pull every stage's FROM image of this Dockerfile (a path or http(s) URL; - reads standard input)" },
    { name: 'build-arg', type: 'string', multiple: true, placeholder: 'KEY[=VALUE]', describe: 'a value for an ARG used in FROM lines; a bare KEY takes the environment value' },
    { name: 'custom-platform', aliases: ['platform', 'customPlatform'], type: 'string', placeholder: 'OS/ARCH[/VARIANT]', describe: 'the platform to pull for (default: this machine; FROM --platform wins)' },
    { name: 'cache-dir', short: 'c', type: 'string', placeholder: 'DIR', describe: 'the cache directory (default: $CAISSON_CACHE_DIR, else $XDG_CACHE_HOME/caisson, else ~/.cache/caisson)' },
    { name: 'force', short: 'f', type: 'boolean', describe: 'download every blob again, even those the cache has' },
    { name: 'cache-ttl', type: 'string', placeholder: 'DURATION', default: DEFAULT_MAX_AGE, describe: 'an image warmed less than this long ago is not fetched again: a tag still costs one manifest request (it may have moved), a digest none (336h, 14d, 90m)' },
    ...REGISTRY_OPTIONS,
    ...REFUSED_WARMER_OPTIONS,
  ],
  load: () => import('./commands/warm.js'),
};

export const GENERATE_KEY_PAIR_COMMAND: CommandSpec = {
  name: 'generate-key-pair',
  describe: "Make a cosign key pair: <prefix>.key (ECDSA P-256, encrypted as cosign's) and <prefix>.pub",
  options: [
    { name: 'output-key-prefix', type: 'string', placeholder: 'PREFIX', default: 'cosign', describe: 'write PREFIX.key (mode 0600) and PREFIX.pub' },
    { name: 'key-password-file', type: 'string', placeholder: 'FILE', describe: 'the password to encrypt the key with, as the bytes of FILE (default: $COSIGN_PASSWORD, else the empty password)' },
    { name: 'force', short: 'f', type: 'boolean', describe: 'replace existing key files' },
  ],
  load: () => import('./commands/generate-key-pair.js'),
};

export const SIGN_COMMAND: CommandSpec = {
  name: 'sign',
  describe: "Sign an image in a registry, as cosign does: its digest's sha256-<hex>.sig tag (or a Sigstore bundle referrer)",
  positionals: [{ name: 'image', required: true, describe: 'docker://REF or REF: a tag is resolved, the signature is for the digest' }],
  options: [
    { name: 'annotation', short: 'a', type: 'string', multiple: true, placeholder: 'KEY=VALUE', describe: 'an annotation in the signed payload (cosign -a)' },
    ...SIGNING_OPTIONS,
    ...REGISTRY_OPTIONS,
  ],
  load: () => import('./commands/sign.js'),
};

export const VERIFY_COMMAND: CommandSpec = {
  name: 'verify',
  describe: "Check an image's signatures (cosign .sig tags, Sigstore bundle referrers), as cosign verify does",
  positionals: [{ name: 'image', required: true, describe: 'the image: [docker://]REGISTRY/REPO[:TAG|@DIGEST] (a tag is resolved to its digest first)' }],
  options: [
    ...VERIFY_OPTIONS,
    { name: 'annotation', short: 'a', type: 'string', multiple: true, placeholder: 'KEY=VALUE', describe: 'a signed annotation the signature must carry (in its payload\'s "optional")' },
    ...REGISTRY_OPTIONS,
  ],
  load: () => import('./commands/verify.js'),
};

export const VERIFY_ATTESTATION_COMMAND: CommandSpec = {
  name: 'verify-attestation',
  describe: "Check an image's in-toto attestations (.att tags, bundle referrers), as cosign verify-attestation does",
  positionals: [{ name: 'image', required: true, describe: 'the image: [docker://]REGISTRY/REPO[:TAG|@DIGEST] (a tag is resolved to its digest first)' }],
  options: [
    ...VERIFY_OPTIONS,
    {
      name: 'type',
      type: 'string',
      placeholder: 'TYPE',
      default: 'slsaprovenance1',
      describe: "the predicate type: slsaprovenance1, slsaprovenance (v0.2), custom, link, spdx, cyclonedx, vuln, openvex, or a URI (cosign's default is custom)",
    },
    ...REGISTRY_OPTIONS,
  ],
  load: () => import('./commands/verify-attestation.js'),
};

export const TEKTON_COMMAND: CommandSpec = {
  name: 'tekton',
  describe: "Print caisson's Tekton resources as YAML: the Task caisson, the StepAction caisson-build, the Pipelines",
  positionals: [{ name: 'resource', describe: 'task (the default): the Task caisson; step-action: the StepAction caisson-build; pipeline: git-clone, caisson, verify; multi-platform-pipeline: git-clone, caisson per platform (a matrix), caisson manifest create' }],
  options: [{ name: 'step-action', type: 'boolean', describe: 'print the StepAction caisson-build (as the step-action resource does)' }],
  load: () => import('./commands/tekton.js'),
};

/** The `caisson build` flags `caisson submit` maps onto the Task's params (the rest go after `--`, as EXTRA_ARGS). */
export const SUBMIT_FORWARDED = ['destination', 'dockerfile', 'context', 'build-arg', 'target', 'custom-platform', 'cache', 'cache-repo', 'sign', 'provenance'] as const;

export const SUBMIT_COMMAND: CommandSpec = {
  name: 'submit',
  describe: 'Build on a Kubernetes cluster: run the Tekton Task caisson (without Tekton, a plain Pod of its step) with these flags, stream its logs, exit with its status',
  positionals: [{ name: 'context', describe: 'the build context (default .): a local directory (packed, .dockerignore applied, and pushed next to the destination for a TaskRun or streamed to the plain Pod), a git URL (the cluster clones it), an oci:// context artifact, or with --workspace-claim a directory inside the claim (or give -c/--context)', option: 'context' }],
  rest: { name: 'FLAG', describe: 'after --: more caisson build flags, one per argument (the Task\'s EXTRA_ARGS)' },
  options: [
    ...BUILD_OPTIONS.filter((option) => (SUBMIT_FORWARDED as readonly string[]).includes(option.name)),
    { name: 'builder-image', type: 'string', placeholder: 'REF', describe: "caisson's image for the step (the Task's BUILDER_IMAGE; default: the Task's)" },
    { name: 'workspace-claim', type: 'string', placeholder: 'PVC', describe: 'a PersistentVolumeClaim holding the context, bound as the source workspace; --context is then a path inside it (default ./)' },
    { name: 'docker-config-secret', type: 'string', placeholder: 'NAME', describe: "a kubernetes.io/dockerconfigjson Secret (kubectl create secret docker-registry) with registry credentials, bound as the dockerconfig workspace (its .dockerconfigjson becomes config.json, DOCKER_CONFIG)" },
    { name: 'signing-secret', type: 'string', placeholder: 'NAME', describe: "a Secret in Tekton Chains' signing-secrets layout (cosign.key + cosign.password, or x509.pem; Chains' own is signing-secrets), bound as the signing-secrets workspace" },
    { name: 'cache-claim', type: 'string', placeholder: 'PVC', describe: "a PersistentVolumeClaim kept between builds, bound as the cache workspace (caisson's --cache-dir: layer store and local build cache)" },
    { name: 'sslcertdir-configmap', type: 'string', placeholder: 'NAME', describe: 'a ConfigMap whose key ca.crt holds more CA certificates (PEM) to trust for registries, bound as the sslcertdir workspace (NODE_EXTRA_CA_CERTS)' },
    { name: 'keep-pod', type: 'boolean', describe: 'without Tekton: keep the plain Pod when it succeeds (it is deleted then; a failed one is always kept for kubectl logs)' },
    { name: 'namespace', short: 'n', type: 'string', placeholder: 'NS', describe: "the namespace of the Task and the TaskRun (default: the kubeconfig context's, else default)" },
    { name: 'service-account', type: 'string', placeholder: 'NAME', describe: "the TaskRun's (or plain Pod's) service account (its secrets give registry and signing credentials; default: Tekton's default)" },
    { name: 'poll-interval', type: 'string', placeholder: 'DURATION', default: '2s', describe: "how often the TaskRun's (or plain Pod's) status is read (2s, 500ms)" },
    { name: 'kubeconfig', type: 'string', placeholder: 'FILE', describe: "the kubeconfig (default: $KUBECONFIG's files merged as kubectl merges them, else ~/.kube/config, else the pod's service account)" },
  ],
  load: () => import('./commands/submit.js'),
};

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [BUILD_COMMAND, PARSE_COMMAND, LINT_COMMAND, INSPECT_COMMAND, COPY_COMMAND, MANIFEST_COMMAND, CACHE_COMMAND, WARM_COMMAND, GENERATE_KEY_PAIR_COMMAND, SIGN_COMMAND, VERIFY_COMMAND, VERIFY_ATTESTATION_COMMAND, TEKTON_COMMAND, SUBMIT_COMMAND];
