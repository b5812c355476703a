/**
 * Typed Dockerfile instructions: a discriminated union on `kind`, one member per instruction.
 * Values are as written (not expanded); `expandInstruction` applies variables where BuildKit does.
 * Reference: https://docs.docker.com/reference/dockerfile/
 */
import type { SourceLocation } from '../../errors.js';

interface InstructionBase {
  /** The keyword as written (`RUN`, `run`). */
  readonly keyword: string;
  readonly location: SourceLocation;
  /** The instruction's source, continuations joined, trimmed (BuildKit's `String()`). */
  readonly source: string;
  /** Comment lines directly above it. */
  readonly comments: readonly string[];
}

/** `KEY=value` (ENV, LABEL); `legacy` marks the `ENV KEY value` form. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly legacy: boolean;
}

/** A file written from a heredoc body. */
export interface InlineFile {
  /** The heredoc delimiter word (a COPY/ADD heredoc's name is the file name). */
  readonly name: string;
  /** The body. COPY/ADD: `<<-` tabs already stripped. RUN: as written (the shell sees `<<-`). */
  readonly content: string;
  /** `<<-`: leading tabs are stripped from each line. */
  readonly chomp: boolean;
  /** The delimiter was unquoted: variables in the body are expanded (COPY/ADD only). */
  readonly expand: boolean;
}

/** RUN/CMD/ENTRYPOINT/HEALTHCHECK command: `shell` form runs through SHELL; `exec` is argv. */
export interface CommandLine {
  readonly form: 'shell' | 'exec';
  /** Shell form: one element, the command text. Exec form: argv. */
  readonly args: readonly string[];
  /** Heredoc bodies (RUN only). */
  readonly files: readonly InlineFile[];
}

export interface FromInstruction extends InstructionBase {
  readonly kind: 'from';
  /** The base: an image reference, a stage name, `scratch`; may contain `$ARG`s. */
  readonly image: string;
  /** `AS name`, lower-cased. */
  readonly stageName?: string;
  /** The `AS` keyword as written (for the casing check). */
  readonly asKeyword?: string;
  /** The stage name as written. */
  readonly stageNameAsWritten?: string;
  /** `--platform`; may contain `$ARG`s. */
  readonly platform?: string;
}

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type CacheSharing = 'shared' | 'private' | 'locked';

/** `RUN --mount=...`; fields follow BuildKit's names. Reference: dockerfile docs §RUN --mount. */
export interface RunMount {
  /** The flag value as written (re-parsed after expansion). */
  readonly spec: string;
  readonly type: MountType;
  readonly from?: string;
  readonly source?: string;
  readonly target?: string;
  readonly readOnly: boolean;
  /** tmpfs `size`, in bytes. */
  readonly sizeLimit?: number;
  readonly id?: string;
  readonly sharing?: CacheSharing;
  readonly required: boolean;
  /** secret: the environment variable to expose it as. */
  readonly env?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export type NetworkMode = 'default' | 'none' | 'host';
export type SecurityMode = 'sandbox' | 'insecure';

export interface RunInstruction extends InstructionBase {
  readonly kind: 'run';
  readonly command: CommandLine;
  readonly mounts: readonly RunMount[];
  readonly network: NetworkMode;
  readonly security: SecurityMode;
  /** Flags given, by name (`mount`, `network`, `security`). */
  readonly flagsUsed: readonly string[];
}

export interface CmdInstruction extends InstructionBase {
  readonly kind: 'cmd';
  readonly command: CommandLine;
}

export interface EntrypointInstruction extends InstructionBase {
  readonly kind: 'entrypoint';
  readonly command: CommandLine;
}

export interface ShellInstruction extends InstructionBase {
  readonly kind: 'shell';
  readonly shell: readonly string[];
}

export interface LabelInstruction extends InstructionBase {
  readonly kind: 'label';
  readonly labels: readonly KeyValue[];
}

export interface ExposeInstruction extends InstructionBase {
  readonly kind: 'expose';
  /** `80`, `80/tcp`, `53/udp`, `8000-8010`; sorted as BuildKit sorts them. */
  readonly ports: readonly string[];
}

export interface EnvInstruction extends InstructionBase {
  readonly kind: 'env';
  readonly env: readonly KeyValue[];
}

export interface ArgDefinition {
  readonly key: string;
  /** The default, when `ARG KEY=default`. */
  readonly value?: string;
}

export interface ArgInstruction extends InstructionBase {
  readonly kind: 'arg';
  readonly args: readonly ArgDefinition[];
}

/** What COPY and ADD share. */
export interface FileTransfer {
  /** Source paths (context paths, URLs for ADD, paths in `--from`). */
  readonly sources: readonly string[];
  /** Heredoc sources: files created from inline content. */
  readonly inline: readonly InlineFile[];
  readonly destination: string;
  readonly chown?: string;
  readonly chmod?: string;
  readonly link: boolean;
  readonly exclude: readonly string[];
  /** The JSON form was used. */
  readonly json: boolean;
}

export interface CopyInstruction extends InstructionBase, FileTransfer {
  readonly kind: 'copy';
  /** `--from`: a stage name or index, a named context, or an image reference. */
  readonly from?: string;
  readonly parents: boolean;
}

export interface AddInstruction extends InstructionBase, FileTransfer {
  readonly kind: 'add';
  /** `--checksum`: sha256 for URLs, a commit for git sources. */
  readonly checksum?: string;
  readonly keepGitDir?: boolean;
  readonly unpack?: boolean;
}

export interface WorkdirInstruction extends InstructionBase {
  readonly kind: 'workdir';
  readonly path: string;
}

export interface UserInstruction extends InstructionBase {
  readonly kind: 'user';
  readonly user: string;
}

export interface VolumeInstruction extends InstructionBase {
  readonly kind: 'volume';
  readonly volumes: readonly string[];
}

export interface StopsignalInstruction extends InstructionBase {
  readonly kind: 'stopsignal';
  readonly signal: string;
}

/** Durations in nanoseconds, as the image config stores them; 0 means "inherit the default". */
export interface HealthcheckConfig {
  /** `["NONE"]`, `["CMD", ...argv]` or `["CMD-SHELL", command]` (the image config's Test). */
  readonly test: readonly string[];
  readonly interval: number;
  readonly timeout: number;
  readonly startPeriod: number;
  readonly startInterval: number;
  readonly retries: number;
}

export interface HealthcheckInstruction extends InstructionBase {
  readonly kind: 'healthcheck';
  readonly health: HealthcheckConfig;
}

export interface OnbuildInstruction extends InstructionBase {
  readonly kind: 'onbuild';
  /** The trigger's text, stored in the image config's OnBuild list. */
  readonly expression: string;
  /** The trigger, parsed (validated now, run by builds that use this image as a base). */
  readonly trigger: Instruction;
}

export interface MaintainerInstruction extends InstructionBase {
  readonly kind: 'maintainer';
  readonly maintainer: string;
}

/** Every Dockerfile instruction. */
export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | LabelInstruction
  | ExposeInstruction
  | EnvInstruction
  | ArgInstruction
  | CopyInstruction
  | AddInstruction
  | WorkdirInstruction
  | UserInstruction
  | VolumeInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | OnbuildInstruction
  | MaintainerInstruction;

export type InstructionKind = Instruction['kind'];

/** Instructions inside a stage (everything but FROM). */
export type StageInstruction = Exclude<Instruction, FromInstruction>;
