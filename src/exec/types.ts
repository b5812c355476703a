/**
 * The sandbox's public shapes: what a RUN step runs on (rootfs), with (mounts, user) and how it
 * ended (result).
 */

/**
 * The root filesystem of the step. `overlay`: mounted inside the sandbox from `lowers` (bottom, the
 * base's first layer, first; may be empty) with `upper` collecting the changes; `directory`: a
 * plain directory the command changes in place.
 */
export type SandboxRootfs =
  | { readonly kind: 'overlay'; readonly lowers: readonly string[]; readonly upper: string; readonly work: string }
  | { readonly kind: 'directory'; readonly path: string };

/** An extra mount (RUN --mount), applied after the standard ones, in order. */
export type SandboxMount =
  | {
      readonly kind: 'bind';
      /** A host path, a file or a directory. */
      readonly source: string;
      /** Absolute inside the rootfs. */
      readonly target: string;
      readonly readOnly: boolean;
    }
  | { readonly kind: 'tmpfs'; readonly target: string; readonly sizeBytes?: number };

/** Numeric credentials the command runs with (see `resolveUser`). */
export interface SandboxUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: readonly number[];
}

export interface RunInSandboxOptions {
  readonly rootfs: SandboxRootfs;
  /** argv[0] is looked up through the PATH of `env`, inside the rootfs. */
  readonly argv: readonly string[];
  /** `KEY=VALUE` entries: exactly the command's environment, with `secretEnv` (which wins over a same name here). */
  readonly env: readonly string[];
  /**
   * Secret variables (RUN --mount=type=secret,env=NAME) added to the environment. Unlike `env`,
   * they are never on a command line (where every process of the host could read them): they
   * pass through a file in scratch that only root can read. Names are shell identifiers.
   */
  readonly secretEnv?: ReadonlyMap<string, Buffer>;
  /** Absolute inside the rootfs; created (and kept) when missing, owned by the user, 0755. */
  readonly cwd: string;
  readonly user: SandboxUser;
  /**
   * caisson is not root of the machine (a regular user, or uid 0 of a user namespace): the
   * sandbox nests a user namespace mapping the caller to root, mounts overlay with `userxattr`
   * (markers in `user.overlay.*`), and runs the command as root only. Default: uid is not 0.
   */
  readonly rootless?: boolean;
  /** `none`: a new, empty network namespace (loopback up when `ip` is there); otherwise the host's. */
  readonly network: 'default' | 'none' | 'host';
  /** Default `buildkitsandbox`, BuildKit's. */
  readonly hostname?: string;
  readonly mounts?: readonly SandboxMount[];
  /** A host directory for the sandbox's own files (mountpoint, hosts, resolv.conf); the caller deletes it. */
  readonly scratch: string;
  readonly onOutput?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
  /** Abort: the whole process tree is killed, stubs cleaned, then the promise rejects with ERR_BUILD_INTERRUPTED. */
  readonly signal?: AbortSignal;
}

export interface SandboxResult {
  readonly exitCode: number;
  /** The signal's name (`SIGKILL`) when the command was killed by one. */
  readonly signal?: string;
}
