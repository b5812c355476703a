/**
 * Where a signing key's password comes from. cosign reads `COSIGN_PASSWORD` as it is, or prompts
 * on a terminal; caisson never prompts (it runs in CI and Tekton steps), so the sources are a
 * password file (`--key-password-file`, and Tekton Chains' `cosign.password`), then
 * `COSIGN_PASSWORD`, then none, which means the empty password (a valid cosign password).
 * Bytes are used as they are, never trimmed, as Chains does with `cosign.password`; only when
 * a file's exact bytes do not open a key is a final newline (`echo pw > file`) dropped and tried
 * once more (see `passwordCandidates`).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CaissonError } from '../errors.js';

/** The environment variable cosign reads the password from. */
export const PASSWORD_ENV = 'COSIGN_PASSWORD';

/** A resolved password and where it came from (for error hints; the bytes never reach a message). */
export type KeyPassword =
  | { readonly kind: 'none' }
  | { readonly kind: 'env'; readonly bytes: Buffer }
  | { readonly kind: 'file'; readonly path: string; readonly bytes: Buffer };

/**
 * The password: the bytes of `passwordFile` (relative to `cwd`) when given, else `COSIGN_PASSWORD`
 * when set (even to the empty string), else none. An unreadable file is ERR_INPUT_NOT_FOUND.
 */
export async function resolveKeyPassword(options: {
  readonly passwordFile?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}): Promise<KeyPassword> {
  if (options.passwordFile !== undefined) return readPasswordFile({ path: resolve(options.cwd ?? '.', options.passwordFile), shown: options.passwordFile });
  const value = options.env[PASSWORD_ENV];
  if (value !== undefined) return { kind: 'env', bytes: Buffer.from(value, 'utf8') };
  return { kind: 'none' };
}

/** Reads a password file; its bytes as they are. `shown` is the name used in messages (default `path`). */
export async function readPasswordFile(options: { readonly path: string; readonly shown?: string }): Promise<KeyPassword> {
  const shown = options.shown ?? options.path;
  try {
    return { kind: 'file', path: shown, bytes: await readFile(options.path) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CaissonError({
      code: 'ERR_INPUT_NOT_FOUND',
      message: `cannot read the key password file ${shown}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? 'unreadable')}`,
      hint: `Give a readable file holding the password (its bytes are used as they are), or set ${PASSWORD_ENV}.`,
      cause: error,
    });
  }
}

/** The bytes to try, in order: the password as it is, then (files only) without one final newline. */
export function passwordCandidates(password: KeyPassword): readonly Buffer[] {
  switch (password.kind) {
    case 'none':
      return [Buffer.alloc(0)];
    case 'env':
      return [password.bytes];
    case 'file': {
      const newline = /\r?\n$/.exec(password.bytes.toString('latin1'));
      return newline === null ? [password.bytes] : [password.bytes, password.bytes.subarray(0, password.bytes.length - newline[0].length)];
    }
  }
}

/** What to say when the password does not open a key: where it came from, and the other sources. */
export function wrongPasswordHint(password: KeyPassword): string {
  switch (password.kind) {
    case 'none':
      return `No password was given and the empty password does not open it: set ${PASSWORD_ENV} or pass --key-password-file.`;
    case 'env':
      return `The password comes from ${PASSWORD_ENV}; check it, or pass --key-password-file.`;
    case 'file':
      return `The password comes from ${password.path} (its bytes as they are); check it, or set ${PASSWORD_ENV}.`;
  }
}
