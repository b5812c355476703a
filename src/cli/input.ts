/** Reads the files a command names (a Dockerfile path, an http(s) URL, or `-` for standard input). */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CaissonError } from '../errors.js';
import type { CommandContext } from './context.js';

/** A Dockerfile given as a URL larger than this is refused: a Dockerfile is text. */
const MAX_DOCKERFILE_BYTES = 4 * 1024 * 1024;

/** Whether -f names an http(s) URL (build's isHttpSource, without loading the build code for parse and lint). */
export function isDockerfileUrl(given: string): boolean {
  return /^https?:\/\//i.test(given);
}

/**
 * kaniko's rule for -f: PATH relative to the working directory when it is there, else inside the
 * context; `<context>/Dockerfile` without -f; `-` (standard input) and an http(s) URL as they are.
 */
export function dockerfileLocation(options: { readonly flag: string | undefined; readonly cwd: string; readonly contextDir: string }): string {
  const { flag } = options;
  if (flag === undefined) return resolve(options.contextDir, 'Dockerfile');
  if (flag === '-' || isDockerfileUrl(flag)) return flag;
  const fromCwd = resolve(options.cwd, flag);
  const inContext = resolve(options.contextDir, flag);
  return statSync(fromCwd, { throwIfNoEntry: false }) === undefined && statSync(inContext, { throwIfNoEntry: false }) !== undefined ? inContext : fromCwd;
}

/** Reads the Dockerfile a command names: a path (default `Dockerfile`), an http(s) URL, or `-` for standard input. */
export async function readDockerfile(context: CommandContext, given: string | undefined): Promise<{ file: string; text: string }> {
  const path = given ?? 'Dockerfile';
  let text: string;
  let shown: string | undefined;
  if (path === '-') {
    text = await context.readStdin();
  } else if (isDockerfileUrl(path)) {
    // As kaniko's executor and warmer take one: downloaded (userinfo sent as basic auth, never shown).
    const { downloadText, redactUrl } = await import('../build/index.js');
    shown = redactUrl(path);
    try {
      text = await downloadText({ source: path, maxBytes: MAX_DOCKERFILE_BYTES });
    } catch (error) {
      if (!(error instanceof CaissonError)) throw error;
      throw new CaissonError({ code: error.code, message: `cannot read Dockerfile ${error.message}`, cause: error, ...(error.hint === undefined ? {} : { hint: error.hint }) });
    }
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
  const file = path === '-' ? '<stdin>' : (shown ?? path);
  context.sources.set(file, text);
  return { file, text };
}
