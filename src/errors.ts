/**
 * errors: the error catalogue, a leaf every folder may import.
 *
 * Exports `CaissonError` (a stable `code`, a one-line message that names the input, an optional
 * `hint` and source `location`), the table of codes with their process exit codes, and the
 * `SourceLocation` shape used by the Dockerfile frontend, and `suggest` ("did you mean …?" for
 * hints). Imports nothing.
 *
 * Exit codes: 0 ok; 1 internal bug (or `lint` findings); 2 usage; a failed RUN exits with the
 * command's own status (kaniko-compatible); everything else comes from `EXIT_CODES` below.
 */

/** Every stable error code with the exit code a command ends with when it fails with it. */
export const EXIT_CODES = {
  /** A bug in caisson: the CLI prints the stack. */
  ERR_INTERNAL: 1,
  /** Bad flags or arguments on the command line. */
  ERR_USAGE: 2,
  /** The Dockerfile text cannot be parsed (lexing, directives, heredocs, JSON forms). */
  ERR_DOCKERFILE_SYNTAX: 3,
  /** An instruction is malformed: wrong arguments, unknown or misplaced flag, bad flag value. */
  ERR_DOCKERFILE_INSTRUCTION: 3,
  /** Variable expansion failed (`${v:?msg}`, bad substitution, unterminated quote). */
  ERR_DOCKERFILE_EXPANSION: 3,
  /** The stages do not form a buildable graph (unknown stage, cycle, bad base name). */
  ERR_DOCKERFILE_STAGE: 3,
  /** A file or directory named on the command line does not exist or cannot be read. */
  ERR_INPUT_NOT_FOUND: 4,
  /** Registry credentials are unusable: a malformed Docker `config.json`, a bad `auth` entry. */
  ERR_REGISTRY_AUTH: 5,
  /** A docker-credential-<name> helper is missing, failed, timed out or returned garbage. */
  ERR_CREDENTIAL_HELPER: 5,
  /** The registry refused the credentials (401 after authenticating) or offered no usable auth. */
  ERR_REGISTRY_UNAUTHORIZED: 5,
  /** The credentials are valid but lack the permission (403, DENIED). */
  ERR_REGISTRY_DENIED: 5,
  /** The repository does not exist (NAME_UNKNOWN). */
  ERR_REGISTRY_NAME_UNKNOWN: 5,
  /** Rate limited (429, TOOMANYREQUESTS) after every retry. */
  ERR_REGISTRY_TOOMANYREQUESTS: 5,
  /** The registry cannot be reached or keeps failing (connection, TLS, 5xx after every retry). */
  ERR_REGISTRY_UNAVAILABLE: 5,
  /** The registry answered something the distribution spec does not allow. */
  ERR_REGISTRY_PROTOCOL: 5,
  /** An image reference is not `[registry/]repository[:tag][@digest]`. */
  ERR_IMAGE_REFERENCE: 6,
  /** No manifest for the tag or digest (MANIFEST_UNKNOWN), or no image for the platform. */
  ERR_MANIFEST_UNKNOWN: 6,
  /** A blob the manifest names is missing (BLOB_UNKNOWN). */
  ERR_BLOB_UNKNOWN: 6,
  /** A manifest, index, config or layout breaks the OCI image spec. */
  ERR_IMAGE_INVALID: 6,
  /** Content does not match its digest or size. */
  ERR_DIGEST_MISMATCH: 6,
  /** A layer tar is malformed (bad header, checksum, truncated body, unknown compression). */
  ERR_LAYER_INVALID: 7,
  /** A layer entry would escape its target (`..`, a symlink in its parent path, a hardlink outside). */
  ERR_LAYER_UNSAFE: 7,
  /** The machine cannot represent an entry (a device node without privileges). */
  ERR_LAYER_UNSUPPORTED: 7,
  /** A COPY/ADD source is missing from the build context, or escapes it. */
  ERR_BUILD_CONTEXT: 4,
  /** An instruction cannot be carried out on this stage (e.g. a destination that is not a directory). */
  ERR_BUILD_STEP: 8,
  /** A RUN command exited non-zero: caisson exits with the command's own status (kaniko-compatible). */
  ERR_RUN_FAILED: 1,
  /** A path pattern is malformed: a `.dockerignore` line, a COPY/ADD wildcard, an exclude pattern. */
  ERR_BUILD_PATTERN: 4,
  /** The RUN sandbox could not be set up (namespaces, mounts, user switch): not the command's own failure. */
  ERR_SANDBOX: 8,
  /** `USER` names a user or group the image's /etc/passwd or /etc/group lacks, or an id out of range. */
  ERR_BUILD_USER: 8,
  /** A build cache entry is unreadable or its blob does not match its digest (warned about, evicted, rebuilt). */
  ERR_CACHE_CORRUPT: 8,
  /** A signing key cannot be read: a wrong password, an unknown PEM type, an unsupported algorithm. */
  ERR_SIGNING_KEY: 9,
  /** Signing failed: no key or identity given, Fulcio or Rekor refused, the signature cannot be stored. */
  ERR_SIGNING: 9,
  /** Signature or attestation is malformed: bad simple-signing payload, DSSE envelope, bundle or statement. */
  ERR_SIGNATURE_INVALID: 10,
  /** Verification failed: no signature, none verifies, a digest or claim does not match, a bad tlog entry. */
  ERR_VERIFY_FAILED: 10,
  /** The Kubernetes cluster cannot be reached, refuses a request, or lacks Tekton or the Task caisson (caisson submit). */
  ERR_CLUSTER: 11,
  /** The TaskRun caisson submit created failed (its build's own messages are in the logs streamed). */
  ERR_TASKRUN_FAILED: 8,
  /**
   * The build was interrupted (a signal, an aborted step); 130 = 128 + SIGINT, as shells report it.
   * bin/caisson.js exits 128 + the signal received (143 for SIGTERM) when a signal caused it.
   */
  ERR_BUILD_INTERRUPTED: 130,
} as const;

export type ErrorCode = keyof typeof EXIT_CODES;

/** A place in a source file; lines are 1-based, columns 1-based when known. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly endLine?: number;
  readonly column?: number;
}

export interface CaissonErrorOptions {
  readonly code: ErrorCode;
  /** One line; names the input (file:line, image ref, path). Never contains a secret. */
  readonly message: string;
  readonly hint?: string;
  readonly location?: SourceLocation;
  readonly cause?: unknown;
  /** The process exit status, when it is not the code's (a failed RUN's own status). */
  readonly exitStatus?: number;
}

/** The one error class of caisson: a stable code, a message naming the input, a hint. */
export class CaissonError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly location: SourceLocation | undefined;
  readonly #exitStatus: number | undefined;

  constructor(options: CaissonErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CaissonError';
    this.code = options.code;
    this.hint = options.hint;
    this.location = options.location;
    this.#exitStatus = options.exitStatus;
  }

  /** The process exit code for this error. */
  get exitCode(): number {
    return this.#exitStatus ?? EXIT_CODES[this.code];
  }

  /** `file:line:` prefix plus message, the form every renderer starts from. */
  get detail(): string {
    return this.location === undefined ? this.message : `${formatLocation(this.location)}: ${this.message}`;
  }

  /** A JSON-friendly view (for `--error-file` and `--log-format json`). */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.location === undefined ? {} : { location: this.location }),
    };
  }
}

/** `Dockerfile:3`, `Dockerfile:3-5` or `Dockerfile:3:7`. */
export function formatLocation(location: SourceLocation): string {
  let text = `${location.file}:${location.line}`;
  if (location.endLine !== undefined && location.endLine !== location.line) {
    text += `-${location.endLine}`;
  } else if (location.column !== undefined) {
    text += `:${location.column}`;
  }
  return text;
}

export function isCaissonError(value: unknown): value is CaissonError {
  return value instanceof CaissonError;
}

// "Did you mean …?" for hints: the closest candidate within an edit distance of 2, as BuildKit
// suggests instructions, flags, stage names and variables.

function levenshtein(a: readonly string[], b: readonly string[]): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

function matchCase(candidate: string, original: string): string {
  if (original === original.toLowerCase()) return candidate.toLowerCase();
  if (original === original.toUpperCase()) return candidate.toUpperCase();
  return candidate;
}

export interface SuggestOptions {
  readonly value: string;
  readonly candidates: Iterable<string>;
  readonly caseSensitive: boolean;
}

/** The best candidate, or undefined when none is close or `value` is itself a candidate. */
export function suggest(options: SuggestOptions): string | undefined {
  const fold = (text: string): string => (options.caseSensitive ? text : text.toLowerCase());
  const value = Array.from(fold(options.value));
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of options.candidates) {
    const folded = fold(candidate);
    if (folded === fold(options.value)) return undefined;
    const distance = levenshtein(value, Array.from(folded));
    if (distance < bestDistance) {
      best = options.caseSensitive ? candidate : matchCase(folded, options.value);
      bestDistance = distance;
    }
  }
  return best;
}
