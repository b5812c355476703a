/**
 * Symlink resolution confined to a root, one component at a time, as the container would see
 * it. Shared by the stage's layer view, the build context and ADD's archive unpacker, which
 * differ only in how a component is looked up and in what `..` at the root, an absolute target
 * and a link loop mean to them (stay at the root / restart there, or refuse).
 */

import { readlinkSync, type Stats } from 'node:fs';

/** Links followed before a path counts as a loop (Linux's MAXSYMLINKS is 40; BuildKit's fs uses 255). */
const MAX_LINKS = 255;

export interface ResolveInsideOptions {
  /** A path relative to the root (leading `/`, `.` and empty components are ignored). */
  readonly path: string;
  /** Follow the final component when it is a symlink. */
  readonly followFinal: boolean;
  /** The target when `relative` (clean, relative to the root) is a symlink; undefined otherwise or when missing. */
  readonly readLink: (relative: string) => string | undefined;
  /** Called for `..` at the root (with the links followed so far); stays at the root unless it throws. */
  readonly aboveRoot?: (links: number) => void;
  /** Called for an absolute link target; restarts at the root unless it throws. */
  readonly absolute?: (target: string) => void;
  /** The error for a link loop. */
  readonly loop: () => Error;
}

/** Splits a container path into clean components (no '', '.'). */
export function components(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

/** `path` with every symlink in it resolved inside the root, as a clean relative path; missing components are kept as written. */
export function resolveInside(options: ResolveInsideOptions): string {
  const pending = components(options.path);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      if (resolved.length === 0) options.aboveRoot?.(links);
      resolved.pop();
      continue;
    }
    const final = pending.length === 0;
    const target = final && !options.followFinal ? undefined : options.readLink([...resolved, part].join('/'));
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    links += 1;
    if (links > MAX_LINKS) throw options.loop();
    if (target.startsWith('/')) {
      options.absolute?.(target);
      resolved.length = 0;
    }
    pending.unshift(...components(target));
  }
  return resolved.join('/');
}

/** The target of a looked-up entry when it is a symlink: the usual `readLink`. */
export function linkTarget(entry: { readonly stats: Stats; readonly hostPath: string } | undefined): string | undefined {
  return entry?.stats.isSymbolicLink() === true ? readlinkSync(entry.hostPath, 'utf8') : undefined;
}
