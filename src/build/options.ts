/**
 * What one build is asked to do, resolved once by the CLI (flags, environment, files) and passed
 * down as one object. Nothing below reads argv or the environment.
 */
import type { BuildJournal } from '../cache/index.js';
import type { SandboxMode } from '../exec/index.js';
import type { SnapshotMode } from '../fs/index.js';
import type { Compression, Digest, Platform } from '../image/index.js';
import type { Logger } from '../log.js';
import type { RegistrySession } from '../registry/index.js';

export type BuildOutput =
  | { readonly kind: 'registry'; readonly reference: string }
  | { readonly kind: 'oci'; readonly dir: string; readonly tag?: string }
  | { readonly kind: 'docker-archive'; readonly path: string; readonly names: readonly string[] };

export type NamedContext = { readonly kind: 'directory'; readonly dir: string } | { readonly kind: 'image'; readonly reference: string };

/** The kinds of step that can be cached (kaniko's --cache-run-layers, --cache-copy-layers); WORKDIR always is. */
export type CachedStepKind = 'run' | 'copy' | 'add';

/** The build cache (see src/cache): always local, in a cache repository with --cache. */
export interface CacheSettings {
  /** Whether steps look for entries (false: `--no-cache`; what is built is still stored). */
  readonly lookup: boolean;
  /** Entries stored longer ago than this are misses (`--cache-ttl`). */
  readonly ttlMs: number;
  /** `--cache-explain`: print each miss's key inputs and what differs from the nearest entry. */
  readonly explain: boolean;
  /** The kinds of step taken from and stored in the caches, local and remote (default: all). */
  readonly kinds?: ReadonlySet<CachedStepKind>;
  /** `--cache` with `--cache-repo` (or `<destination>/cache`): a registry repository or `oci:DIR`. */
  readonly repository?: {
    readonly reference: string;
    /** False with --no-push-cache: looked up, never written. */
    readonly push: boolean;
  };
}

/** kaniko's --cache-ttl default: two weeks. */
export const DEFAULT_CACHE_TTL_MS = 336 * 3_600_000;

export interface BuildOptions {
  /**
   * The Dockerfile's path (for .dockerignore lookup, and messages), its text, and the name messages
   * give it when not its path (`<stdin>`, a path relative to where caisson runs).
   */
  readonly dockerfile: { readonly path: string; readonly text: string; readonly name?: string };
  /** The context directory (a tar or git context is unpacked to one first). */
  readonly contextDir: string;
  /** The context directory was unpacked or cloned for this build: the digests of its files are not kept for the next. */
  readonly contextTemporary?: boolean;
  readonly buildArgs: ReadonlyMap<string, string>;
  /** `--build-context name=…`: a directory, or an image (`docker-image://REF`), replacing stages and images of that name. */
  readonly namedContexts: ReadonlyMap<string, NamedContext>;
  /** `--secret id=…` values by id, for RUN --mount=type=secret (never logged, never in a layer). */
  readonly secrets: ReadonlyMap<string, Buffer>;
  /** Stage names; empty builds the last stage. */
  readonly targets: readonly string[];
  /**
   * The target platforms, at least one. One gives an image; several give an index (an OCI image
   * index, or a Docker manifest list with format docker) of one image per platform.
   */
  readonly platforms: readonly Platform[];
  readonly labels: ReadonlyMap<string, string>;
  readonly annotations: ReadonlyMap<string, string>;
  readonly outputs: readonly BuildOutput[];
  readonly format: 'oci' | 'docker';
  readonly compression: Compression;
  readonly compressionLevel?: number;
  /** Clamp every timestamp to this (seconds): `--reproducible` (0) or SOURCE_DATE_EPOCH. */
  readonly clampTime?: number;
  /** `--single-snapshot`: the layers added on top of the base image become one. */
  readonly singleSnapshot?: boolean;
  /** `--ignore-path`: absolute, clean paths left out of every layer a step makes (kaniko's meaning). */
  readonly ignorePaths?: readonly string[];
  /** RUN's sandbox (exec's resolution of `--sandbox`); default: namespaces as root of the machine, else rootless. */
  readonly sandbox?: SandboxMode;
  /** `--snapshot-mode`, for the walk snapshots of the chroot and container sandboxes (default redo). */
  readonly snapshotMode?: SnapshotMode;
  /**
   * Container mode: absolute paths the build leaves alone besides caisson's own, the mount points,
   * the cache and the context (its outputs, credentials, Tekton's results).
   */
  readonly keepPaths?: readonly string[];
  /** The cache directory holding the layer store and the local build cache. */
  readonly cacheDir: string;
  /** The build cache; absent: local, looked up, default TTL, no explain. */
  readonly cache?: CacheSettings;
  readonly registry: RegistrySession;
  readonly logger: Logger;
  /** Interrupts the build (SIGINT/SIGTERM): RUN is killed, temp dirs removed. */
  readonly signal?: AbortSignal;
  /** The time the build started (for `created` and history), injected for tests. */
  readonly now?: () => Date;
  /** Where binfmt_misc is mounted (default /proc/sys/fs/binfmt_misc): RUN for a foreign platform needs a handler there. */
  readonly binfmtDir?: string;
  /** Digest the whole context as the build sees it (.dockerignore applied), for provenance. */
  readonly digestContext?: boolean;
  /** Told what the build reads (context paths, resolved tags) and what a build record could not vouch for (cache/build-record.ts). */
  readonly journal?: BuildJournal;
}

/** An image the build read (a FROM base, `COPY --from`/`--mount from=` an image), by manifest digest. */
export interface ReadImage {
  /** `registry/repository`. */
  readonly name: string;
  readonly digest: Digest;
}

export interface BuiltOutput {
  readonly output: BuildOutput;
  /** `registry/repo:tag` or the location as given. */
  readonly name: string;
}

/** One platform's image of a build. */
export interface BuiltPlatform {
  /** The platform asked for (`--platform`). */
  readonly platform: Platform;
  /** The image manifest's digest. */
  readonly digest: Digest;
  readonly layers: number;
}

export interface BuildResult {
  /** The digest of what was written: the image manifest, or the index of a multi-platform build. */
  readonly digest: string;
  readonly mediaType: string;
  /** The manifest's (or index's) size. */
  readonly size: number;
  /** Configs plus compressed layers, each blob counted once. */
  readonly imageBytes: number;
  /** Layers of the image (of every platform's image, for an index). */
  readonly layers: number;
  /** Seconds spent building the stages and writing the outputs. */
  readonly phases: { readonly build: number; readonly write: number };
  readonly outputs: readonly BuiltOutput[];
  /** The manifest's (or index's) bytes. */
  readonly manifest: Buffer;
  /** Each platform's image, in the order asked for. */
  readonly platforms: readonly BuiltPlatform[];
  /** Every image the build read, each once, in the order first asked for. */
  readonly images: readonly ReadImage[];
  /** With `digestContext`: a digest over every entry of the context (path, type, mode, content or link). */
  readonly contextDigest?: Digest;
}
