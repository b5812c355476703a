/**
 * `--sandbox container`: the paths of this machine a build must leave alone besides caisson's own,
 * the mount points, the cache and the context: every file or directory a build flag names (what
 * it writes afterwards, keys and certificates it reads), and the registry credentials.
 */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BUILD_OPTIONS } from './build-flags.js';
import type { CommandContext } from './context.js';
import type { ParsedArgs } from './spec.js';

const PATH_PLACEHOLDERS = new Set(['PATH', 'FILE', 'DIR']);

/** A directory as given; a file (or something not made yet) by its directory. */
function keptDirectory(path: string): string {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true ? path : dirname(path);
}

export function containerKeepPaths(args: ParsedArgs, context: CommandContext): string[] {
  const named = BUILD_OPTIONS.filter((option) => PATH_PLACEHOLDERS.has(option.placeholder ?? '')).flatMap((option) => (option.multiple === true ? args.strings(option.name) : [args.string(option.name) ?? '']));
  const dockerConfig = context.env['DOCKER_CONFIG'] ?? join(context.env['HOME'] ?? '/root', '.docker');
  return [...named.filter((path) => path !== '' && path !== '-').map((path) => keptDirectory(resolve(context.cwd, path))), dockerConfig];
}
