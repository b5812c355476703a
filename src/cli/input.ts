/** Reads the files a command names (a Dockerfile path, or `-` for standard input). */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CaissonError } from '../errors.js';
import type { CommandContext } from './context.js';

/**
 * kaniko's rule for -f: PATH relative to the working directory when it is there, else inside the
 * context; `<context>/Dockerfile` without -f; `-` (standard input) as is.
 */
export function dockerfileLocation(options: { readonly flag: string | undefined; readonly cwd: string; readonly contextDir: string }): string {
  const { flag } = options;
  if (flag === undefined) return resolve(options.contextDir, 'Dockerfile');
  if (flag === '-') return '-';
  const fromCwd = resolve(options.cwd, flag);
  const inContext = resolve(options.contextDir, flag);
  return statSync(fromCwd, { throwIfNoEntry: false }) === undefined && statSync(inContext, { throwIfNoEntry: false }) !== undefined ? inContext : fromCwd;
}

/** Reads the Dockerfile a command names: a path (default `Dockerfile`), or `-` for standard input. */
export async function readDockerfile(context: CommandContext, given: string | undefined): Promise<{ file: string; text: string }> {
  const path = given ?? 'Dockerfile';
  let text: string;
  if (path === '-') {
    text = await context.readStdin();
  } else {
    try {
      text = await readFile(resolve(context.cwd, path), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CaissonError({
        code: 'ERR_INPUT_NOT_FOUND',
        message: `cannot read Dockerfile ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message}`,
        hint: code === 'EISDIR' ? `name the file inside it, e.g. ${path.replace(/\/$/, '')}/Dockerfile` : 'give the path of a Dockerfile, or - to read standard input',
        cause: error,
      });
    }
  }
  const file = path === '-' ? '<stdin>' : path;
  context.sources.set(file, text);
  return { file, text };
}
