/**
 * Paths a build may not touch when its root is the machine's own (container mode): caisson's
 * files, mount points, the cache. Relative to the root, clean ('' is the root itself).
 */
import { lstatSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { joinPath } from './paths.js';

/** `path` is a kept path or inside one. */
export function isKept(path: string, keep: readonly string[]): boolean {
  return keep.some((kept) => path === kept || path.startsWith(`${kept}/`));
}

/** A kept path is inside `path` (so `path` must stay a directory). */
export function holdsKept(path: string, keep: readonly string[]): boolean {
  return keep.some((kept) => path === '' || kept.startsWith(`${path}/`));
}

/**
 * Removes `path` under `root` with everything in it, except kept paths: a directory holding one
 * is emptied around it and stays.
 */
export async function removeKeeping(options: { readonly root: string; readonly path: string; readonly keep: readonly string[] }): Promise<void> {
  const { root, path, keep } = options;
  if (isKept(path, keep)) return;
  const absolute = path === '' ? root : `${root.replace(/\/$/, '')}/${path}`;
  const stats = lstatSync(absolute, { throwIfNoEntry: false });
  if (stats === undefined) return;
  if (stats.isDirectory() && holdsKept(path, keep)) {
    for (const name of await readdir(absolute)) await removeKeeping({ root, path: joinPath(path, name), keep });
    return;
  }
  await rm(absolute, { recursive: true, force: true });
}
