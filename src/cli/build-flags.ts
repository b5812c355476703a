/**
 * `caisson build`'s flags: kaniko's executor flags with kaniko's meanings, Docker's spellings as
 * aliases (`--file`, `-t/--tag`, `--platform`), and the kaniko flags caisson refuses, each
 * declared so that giving it is an error that says why rather than a silent no-op.
 */
import type { SandboxChoice } from '../exec/index.js';
import type { SnapshotMode } from '../fs/index.js';
import { REGISTRY_OPTIONS } from './registry-flags.js';
import { BUILD_SIGNING_OPTIONS } from './sign-flags.js';
import type { OptionSpec } from './spec.js';

/** --snapshot-mode's choices (declared here, not imported, so that parsing flags loads no fs code). */
const SNAPSHOT_MODES = ['full', 'redo', 'time'] as const satisfies readonly SnapshotMode[];

/** --sandbox's choices (exec/sandbox-mode.ts resolves them). */
const SANDBOX_CHOICES = ['auto', 'namespaces', 'rootless', 'chroot', 'container'] as const satisfies readonly SandboxChoice[];

function refused(name: string, type: 'boolean' | 'string', reason: string): OptionSpec {
  return { name, type, describe: reason, unsupported: reason };
}

/** The kaniko flags refused that kaniko's warmer has too: `caisson warm` refuses them alike. */
export const REFUSED_WARMER_OPTIONS: readonly OptionSpec[] = [
  refused('skip-default-registry-fallback', 'boolean', 'mirrors (--registry-mirror) always fall back to the registry'),
  refused('log-timestamp', 'boolean', 'use --log-format json, whose lines carry the time'),
];

export const BUILD_OPTIONS: readonly OptionSpec[] = [
  { name: 'dockerfile', short: 'f', aliases: ['file'], type: 'string', placeholder: 'PATH', describe: 'the Dockerfile (default: <context>/Dockerfile): a path, an http(s) URL, or - for standard input' },
  { name: 'context', short: 'c', type: 'string', placeholder: 'DIR', describe: 'the build context: a directory, dir://DIR, tar://FILE (.tar, .tar.gz, .tar.zst), tar://stdin, a git URL (git://host/repo#ref:subdir, https://host/repo.git#ref), or oci://REGISTRY/REPO@sha256:… (a context artifact, as caisson submit pushes) (default: the positional argument, else .)' },
  { name: 'git', type: 'string', placeholder: 'branch=REF,recurse-submodules=BOOL,insecure-skip-tls=BOOL', describe: "kaniko's options for a git context: the branch when the URL names none (#ref wins), submodules, no TLS verification (single-branch= accepted)" },
  { name: 'context-sub-path', type: 'string', placeholder: 'PATH', describe: 'use this subdirectory of the context as the context' },
  { name: 'destination', short: 'd', aliases: ['tag', 't'], type: 'string', multiple: true, placeholder: 'REF', describe: 'push the image to this reference' },
  { name: 'no-push', type: 'boolean', describe: 'build without pushing (with --tar-path / --oci-layout-path, or just to test the build)' },
  { name: 'tar-path', type: 'string', placeholder: 'FILE', describe: 'also write the image as a docker-archive tarball (docker load)' },
  { name: 'oci-layout-path', type: 'string', placeholder: 'DIR', describe: 'also write the image into an OCI image layout' },
  { name: 'build-arg', type: 'string', multiple: true, placeholder: 'KEY[=VALUE]', describe: 'a build argument; a bare KEY takes its value from the environment' },
  { name: 'target', type: 'string', multiple: true, placeholder: 'STAGE', describe: 'build this stage (repeat to build several; the last one is the image written)' },
  { name: 'label', type: 'string', multiple: true, placeholder: 'KEY=VALUE', describe: 'add a label to the image config' },
  { name: 'annotation', type: 'string', multiple: true, placeholder: 'KEY=VALUE', describe: 'add an annotation to the image manifest (OCI format)' },
  { name: 'custom-platform', aliases: ['platform'], type: 'string', placeholder: 'OS/ARCH[/VARIANT]', describe: 'the platform to build for, or a comma-separated list (linux/amd64,linux/arm64): one image per platform, written as one index (default: this machine)' },
  { name: 'build-context', type: 'string', multiple: true, placeholder: 'NAME=DIR|docker-image://REF', describe: 'a named context for COPY --from=NAME, RUN --mount from=NAME, FROM NAME (images)' },
  { name: 'secret', type: 'string', multiple: true, placeholder: 'id=ID[,src=FILE|env=VAR]', describe: 'a secret for RUN --mount=type=secret (never stored in the image or logs)' },
  { name: 'digest-file', type: 'string', placeholder: 'FILE', describe: 'write the image digest to this file' },
  { name: 'image-name-with-digest-file', type: 'string', placeholder: 'FILE', describe: 'write REPO@DIGEST for each destination to this file' },
  { name: 'image-name-tag-with-digest-file', type: 'string', placeholder: 'FILE', describe: 'write REPO:TAG@DIGEST for each destination to this file' },
  { name: 'results-dir', type: 'string', placeholder: 'DIR', describe: 'write the Tekton results here (IMAGE_DIGEST, IMAGE_URL, IMAGES, IMAGE_ARTIFACT_OUTPUTS, SIGNATURE_REF, ATTESTATION_REF, PROVENANCE_DIGEST; default in a Tekton step: /tekton/results)' },
  { name: 'image-format', type: 'string', choices: ['oci', 'docker'], default: 'oci', describe: 'manifest and config media types' },
  { name: 'compression', type: 'string', choices: ['gzip', 'zstd', 'none'], default: 'gzip', describe: 'layer compression' },
  { name: 'compression-level', type: 'string', placeholder: 'N', describe: 'gzip 1-9 (default 6), zstd 1-19 (default 3)' },
  { name: 'reproducible', type: 'boolean', describe: 'clamp every timestamp to 1970-01-01 (also SOURCE_DATE_EPOCH=seconds)' },
  { name: 'single-snapshot', type: 'boolean', describe: 'merge every layer the build adds on top of the base image into one' },
  { name: 'ignore-path', type: 'string', multiple: true, placeholder: 'PATH', describe: 'leave this absolute path, and everything under it, out of every layer the build makes (repeatable)' },
  { name: 'snapshot-mode', type: 'string', choices: SNAPSHOT_MODES, default: 'redo', describe: "kaniko's snapshot mode; caisson's overlay snapshots need none, the walk fallback uses it" },
  { name: 'sandbox', type: 'string', choices: SANDBOX_CHOICES, default: 'auto', describe: "RUN's sandbox: auto (the strongest available, logged), namespaces (root with CAP_SYS_ADMIN: mount, pid, ipc, uts namespaces), rootless (a user namespace), chroot (root with CAP_SYS_CHROOT: a directory root), container (kaniko's model: this container's own root; caisson's image only)" },
  { name: 'force', type: 'boolean', describe: "with --sandbox container: build even where caisson does not recognize a container (kaniko's --force); it overwrites this machine's root filesystem" },
  { name: 'skip-unused-stages', type: 'boolean', default: 'true', describe: 'build only the stages the target needs (always on)' },
  { name: 'cache-dir', type: 'string', placeholder: 'DIR', describe: 'the layer store and local build cache (default $CAISSON_CACHE_DIR, $XDG_CACHE_HOME/caisson or ~/.cache/caisson)' },
  { name: 'no-cache', type: 'boolean', describe: 'run every step: look up no cache entry and no build record (what is built is still cached)' },
  { name: 'cache', type: 'boolean', describe: 'also keep the build cache in a cache repository (--cache-repo), shared by every machine and pod' },
  { name: 'cache-repo', type: 'string', placeholder: 'REF|oci:DIR', describe: 'the cache repository for --cache (default: <first destination repository>/cache)' },
  { name: 'cache-ttl', type: 'string', placeholder: 'DURATION', default: '336h', describe: 'cache entries stored longer ago than this are not used (e.g. 336h, 14d)' },
  { name: 'cache-copy-layers', type: 'boolean', default: 'true', describe: 'COPY and ADD steps are cached, locally and in the cache repository (kaniko defaults to false); =false: they always run' },
  { name: 'cache-run-layers', type: 'boolean', default: 'true', describe: 'RUN steps are cached, locally and in the cache repository; =false: they always run (as kaniko)' },
  { name: 'no-push-cache', type: 'boolean', describe: 'with --cache: look entries up in the cache repository but push none' },
  { name: 'compressed-caching', type: 'boolean', default: 'true', describe: "accepted for kaniko: caisson never holds a layer in memory, so there is nothing to turn off" },
  { name: 'cache-explain', type: 'boolean', describe: 'for each step that misses the cache, print its key inputs, which differ from the nearest stored entry, and the context files read that changed' },
  ...BUILD_SIGNING_OPTIONS,
  ...REGISTRY_OPTIONS,
  refused('use-new-run', 'boolean', 'caisson always runs RUN in its own sandbox with overlay snapshots'),
  refused('ignore-var-run', 'boolean', "container mode leaves every mount point (a /var/run volume too) out of its snapshots; the other sandboxes never touch caisson's filesystem"),
  refused('kaniko-dir', 'string', 'caisson keeps its state in --cache-dir'),
  refused('cleanup', 'boolean', 'caisson always removes what a build made outside --cache-dir'),
  refused('skip-push-permission-check', 'boolean', 'caisson does not check push permission before building'),
  refused('push-ignore-immutable-tag-errors', 'boolean', 'a refused tag is always an error'),
  refused('image-fs-extract-retry', 'string', 'extraction is verified by digest and not retried'),
  ...REFUSED_WARMER_OPTIONS,
  refused('force-build-metadata', 'boolean', 'caisson always writes build metadata'),
];
