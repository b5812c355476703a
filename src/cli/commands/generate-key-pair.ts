/**
 * `caisson generate-key-pair [--output-key-prefix cosign] [--key-password-file FILE] [--force]`:
 * cosign's command of the same name, without its prompts. Writes `<prefix>.key` (mode 0600,
 * `ENCRYPTED SIGSTORE PRIVATE KEY`) and `<prefix>.pub` (SPKI PEM). The password is the bytes of
 * --key-password-file, else `COSIGN_PASSWORD`, else empty (with a warning). Existing files are
 * left alone (nothing is written) unless --force.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CaissonError } from '../../errors.js';
import { generateKeyPair, PASSWORD_ENV, resolveKeyPassword } from '../../supplychain/index.js';
import type { CommandContext } from '../context.js';
import type { ParsedArgs } from '../spec.js';

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Writes `text` to `path` with `mode`: created exclusively, or (force) through a renamed temporary file so the mode is new. */
async function writeKeyFile(options: { readonly path: string; readonly text: string; readonly mode: number; readonly force: boolean }): Promise<void> {
  if (!options.force) {
    await writeFile(options.path, options.text, { flag: 'wx', mode: options.mode });
    return;
  }
  const temporary = `${options.path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, options.text, { flag: 'wx', mode: options.mode });
    await rename(temporary, options.path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

interface KeyFile {
  /** As given (relative to the working directory), for messages. */
  readonly shown: string;
  readonly path: string;
  readonly mode: number;
  readonly what: 'Private' | 'Public';
}

export async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const prefix = args.string('output-key-prefix') ?? 'cosign';
  const force = args.bool('force');
  const keyFile = (suffix: string, mode: number, what: KeyFile['what']): KeyFile => ({ shown: `${prefix}${suffix}`, path: resolve(context.cwd, `${prefix}${suffix}`), mode, what });
  const files = [keyFile('.key', 0o600, 'Private'), keyFile('.pub', 0o644, 'Public')] as const;
  if (!force) {
    const existing: string[] = [];
    for (const file of files) if (await exists(file.path)) existing.push(file.shown);
    if (existing.length > 0) {
      throw new CaissonError({ code: 'ERR_USAGE', message: `generate-key-pair: ${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}; nothing written`, hint: 'Pass --force to replace them, or choose another --output-key-prefix.' });
    }
  }
  const password = await resolveKeyPassword({ passwordFile: args.string('key-password-file'), env: context.env, cwd: context.cwd });
  if (password.kind === 'none') context.logger.warn(`no password given (${PASSWORD_ENV} or --key-password-file): the private key is encrypted with the empty password`);
  const pair = await generateKeyPair({ password: password.kind === 'none' ? Buffer.alloc(0) : password.bytes });
  const texts = [pair.privateKeyPem, pair.publicKeyPem] as const;
  for (const [index, file] of files.entries()) {
    try {
      await writeKeyFile({ ...file, text: texts[index] ?? '', force });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new CaissonError({ code: 'ERR_USAGE', message: `generate-key-pair: ${file.shown} already exists`, hint: 'Pass --force to replace it.', cause: error });
      throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `generate-key-pair: cannot write ${file.shown}: ${code ?? (error as Error).message}`, hint: 'Check that the directory of --output-key-prefix exists and is writable.', cause: error });
    }
    context.logger.info(`${file.what} key written to ${file.shown}`);
  }
}
