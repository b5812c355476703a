/**
 * The cache directory of `build`, `warm` and `cache`: --cache-dir, else the default
 * (`defaultCacheDirectory`: $CAISSON_CACHE_DIR, $XDG_CACHE_HOME/caisson, ~/.cache/caisson),
 * resolved against the working directory. A file on its way (the directory itself, or a parent)
 * is a usage error naming it at once, not an ENOTDIR from deep inside the command.
 */
import { statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CaissonError } from '../errors.js';
import type { CommandContext } from './context.js';
import type { ParsedArgs } from './spec.js';

/** The stat of `path`, or undefined when it (or a parent) does not exist or a parent is a file. */
function statOf(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/**
 * The default cache directory: $CAISSON_CACHE_DIR, else $XDG_CACHE_HOME/caisson, else
 * ~/.cache/caisson (bin/caisson.js puts node's compile cache under it by the same rule).
 */
export function defaultCacheDirectory(env: Readonly<Record<string, string | undefined>>): string {
  if (env['CAISSON_CACHE_DIR'] !== undefined && env['CAISSON_CACHE_DIR'] !== '') return env['CAISSON_CACHE_DIR'];
  if (env['XDG_CACHE_HOME'] !== undefined && env['XDG_CACHE_HOME'] !== '') return join(env['XDG_CACHE_HOME'], 'caisson');
  if (env['HOME'] === undefined || env['HOME'] === '') throw new CaissonError({ code: 'ERR_USAGE', message: 'no cache directory: HOME, XDG_CACHE_HOME and CAISSON_CACHE_DIR are all unset', hint: 'Pass --cache-dir DIR.' });
  return join(env['HOME'], '.cache', 'caisson');
}

export function cacheDirectory(args: ParsedArgs, context: CommandContext): string {
  const given = args.string('cache-dir');
  const directory = resolve(context.cwd, given ?? defaultCacheDirectory(context.env));
  // The nearest path that exists, the directory or a parent, must be a directory (the rest is made).
  for (let path = directory; ; path = dirname(path)) {
    const stats = statOf(path);
    if (stats?.isDirectory() === true || path === dirname(path)) return directory;
    if (stats === undefined) continue;
    const flag = given === undefined ? 'the default cache directory' : '--cache-dir';
    throw new CaissonError({
      code: 'ERR_USAGE',
      message: `${flag} ${directory}: ${path === directory ? 'it' : path} is not a directory`,
      hint: given === undefined ? 'Pass --cache-dir DIR, or set CAISSON_CACHE_DIR to a directory (it is made if missing).' : 'Give --cache-dir a directory (it is made if missing).',
    });
  }
}
