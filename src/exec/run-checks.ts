/**
 * What every RUN sandbox checks and reports alike: the command line, environment and ids before
 * anything starts; the errors for a failed set-up and for an interrupted command.
 */
import { CaissonError } from '../errors.js';
import type { SandboxMount, SandboxUser } from './types.js';

const MAX_ID = 2 ** 32 - 2;

/** What a secret variable may be called: a shell identifier, since the set-up script exports it. */
export const SECRET_ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function sandboxError(message: string, hint?: string): CaissonError {
  return new CaissonError({ code: 'ERR_SANDBOX', message: `RUN sandbox: ${message}`, ...(hint === undefined ? {} : { hint }) });
}

export function interrupted(): CaissonError {
  return new CaissonError({ code: 'ERR_BUILD_INTERRUPTED', message: 'RUN interrupted: the command was killed' });
}

/** Whether the build was interrupted (a function: TypeScript keeps no narrowing across awaits). */
export function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

export interface RunCheck {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: readonly string[];
  readonly user: SandboxUser;
  /** uid 0 of the machine (or a chroot/container sandbox as root): any USER can be had. */
  readonly rootful: boolean;
  readonly secretEnv?: ReadonlyMap<string, Buffer>;
  readonly mounts?: readonly SandboxMount[];
}

/** Throws ERR_SANDBOX for a command the sandbox cannot run as given. */
export function validateRun(options: RunCheck): void {
  if (options.argv.length === 0) throw sandboxError('no command to run');
  if (!options.cwd.startsWith('/')) throw sandboxError(`working directory ${options.cwd} is not absolute`);
  for (const entry of options.env) {
    if (entry.indexOf('=') <= 0) throw sandboxError(`environment entry ${JSON.stringify(entry.split('=')[0])} is not KEY=VALUE`);
  }
  const { uid, gid, additionalGids } = options.user;
  for (const id of [uid, gid, ...additionalGids]) {
    if (!Number.isInteger(id) || id < 0 || id > MAX_ID) throw sandboxError(`user id ${id} is out of range`);
  }
  if (!options.rootful && (uid !== 0 || gid !== 0 || additionalGids.length > 0)) {
    throw sandboxError(`USER ${uid}:${gid} needs uid 0: without it the sandbox maps only the caller, as root`, 'run caisson as root (or leave USER at root) for RUN steps as another user');
  }
  for (const [name, value] of options.secretEnv ?? []) {
    if (!SECRET_ENV_NAME.test(name)) throw sandboxError(`secret variable ${JSON.stringify(name)} is not a shell identifier`);
    if (value.includes(0)) throw sandboxError(`secret variable ${name} contains a NUL byte, which no environment variable can hold`, 'Mount that secret as a file instead of env=.');
  }
  for (const mount of options.mounts ?? []) {
    if (!mount.target.startsWith('/')) throw sandboxError(`mount target ${mount.target} is not absolute`);
  }
}
