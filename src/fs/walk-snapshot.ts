/**
 * The walk snapshotter, for where overlayfs cannot be mounted: the rootfs is one directory, a
 * stat index records every path (inode, size, mtime, ctime, mode, uid/gid), and after a step a
 * second scan is compared with it. Metadata decides: anything written, chmodded, chowned,
 * renamed, retargeted or given an xattr has a new ctime or inode, so content is never hashed in
 * the default mode. kaniko's `--snapshot-mode` values are accepted: `redo` (the default here)
 * compares that metadata, `time` only mtimes, `full` also hashes every regular file's content.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { baseName, joinPath, parentOf, WHITEOUT_PREFIX } from './paths.js';
import { compareBytes } from './byte-order.js';
import { fileContent, headerFor, kindOf, whiteoutHeader } from './tree.js';
import { writeTar, type TarInput } from './tar-writer.js';
import { writeLayer, type WrittenLayer } from './layer-writer.js';
import type { Compression } from '../image/index.js';
import { readXattrs } from './xattrs.js';

export type SnapshotMode = 'full' | 'redo' | 'time';

/** What the index keeps of one path. */
interface StatRecord {
  readonly directory: boolean;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  /** `full` mode: sha256 of a regular file's content. */
  readonly hash?: string;
}

/** Every path under a rootfs (relative, '' excluded) with its metadata. */
export type StatIndex = ReadonlyMap<string, StatRecord>;

export interface ScanOptions {
  readonly root: string;
  readonly mode: SnapshotMode;
  /** Relative paths not looked into (`proc`, `sys`, mount points, `--ignore-path`). */
  readonly ignore?: readonly string[];
}

function record(path: string, stats: Stats, mode: SnapshotMode): StatRecord {
  const base = { directory: stats.isDirectory(), mode: stats.mode, uid: stats.uid, gid: stats.gid, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
  if (mode !== 'full' || !stats.isFile()) return base;
  return { ...base, hash: createHash('sha256').update(readFileSync(path)).digest('hex') };
}

/** One pass over the tree: readdir and lstat only (plus content hashes in `full` mode). */
export function scanTree(options: ScanOptions): StatIndex {
  const index = new Map<string, StatRecord>();
  const ignored = new Set(options.ignore ?? []);
  // Paths are joined by hand: path.join normalizes every one, a third of the scan's time.
  // Without a trailing slash, so that '/' (container mode) gives '/etc', not '//etc'.
  const root = resolve(options.root).replace(/\/$/, '');
  const pending: string[] = [''];
  for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
    const absolute = directory === '' ? root || '/' : `${root}/${directory}`;
    for (const name of readdirSync(absolute)) {
      const path = directory === '' ? name : `${directory}/${name}`;
      if (ignored.has(path)) continue;
      const full = `${root}/${path}`;
      const stats = lstatSync(full, { throwIfNoEntry: false });
      // Gone between readdir and lstat: a step still running in the background; left out.
      if (stats === undefined) continue;
      const entry = record(full, stats, options.mode);
      index.set(path, entry);
      if (entry.directory) pending.push(path);
    }
  }
  return index;
}

function changed(before: StatRecord, after: StatRecord, mode: SnapshotMode): boolean {
  if (before.directory !== after.directory) return true;
  if (mode === 'time') return before.mtimeMs !== after.mtimeMs;
  return (
    before.ino !== after.ino ||
    before.ctimeMs !== after.ctimeMs ||
    before.mtimeMs !== after.mtimeMs ||
    before.size !== after.size ||
    before.mode !== after.mode ||
    before.uid !== after.uid ||
    before.gid !== after.gid ||
    before.hash !== after.hash
  );
}

/** Tree order: component by component, bytewise, so parents come right before their children. */
export function compareTreePaths(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  for (let i = 0; i < Math.min(left.length, right.length); i += 1) {
    const order = compareBytes(left[i] as string, right[i] as string);
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

export interface IndexDiff {
  /** Paths new or changed, with every ancestor directory, in tree order. */
  readonly changed: readonly string[];
  /** Paths gone whose parent is still a directory (a deleted tree is one whiteout). */
  readonly deleted: readonly string[];
}

export function diffIndexes(options: { readonly before: StatIndex; readonly after: StatIndex; readonly mode: SnapshotMode }): IndexDiff {
  const { before, after, mode } = options;
  const include = new Set<string>();
  for (const [path, now] of after) {
    const then = before.get(path);
    if (then !== undefined && !changed(then, now, mode)) continue;
    for (let current = path; current !== '' && !include.has(current); current = parentOf(current)) include.add(current);
  }
  const deleted: string[] = [];
  for (const path of before.keys()) {
    if (after.has(path)) continue;
    const parent = parentOf(path);
    // Under a directory that is gone or became a file, the parent's own entry covers it.
    if (parent !== '' && after.get(parent)?.directory !== true) continue;
    deleted.push(path);
    for (let current = parent; current !== '' && !include.has(current); current = parentOf(current)) include.add(current);
  }
  return { changed: [...include].sort(compareTreePaths), deleted: deleted.sort(compareTreePaths) };
}

export interface WalkDiffOptions {
  readonly root: string;
  readonly diff: IndexDiff;
  readonly clampMtime?: number;
  /** The time written on whiteouts (seconds). */
  readonly whiteoutMtime: number;
}

/**
 * The layer's entries for a diff: each changed path as it is now, a whiteout for each deleted
 * one, all in tree order. A file hardlinked to another changed file is written once, then linked.
 */
export async function* walkDiffEntries(options: WalkDiffOptions): AsyncGenerator<TarInput> {
  const { root, diff } = options;
  const clamp = options.clampMtime === undefined ? {} : { clampMtime: options.clampMtime };
  const xattrs = await readXattrs({ paths: diff.changed.map((path) => join(root, path)) });
  const whiteouts = diff.deleted.map((path) => ({ key: path, name: joinPath(parentOf(path), `${WHITEOUT_PREFIX}${baseName(path)}`) }));
  const entries = [...diff.changed.map((path) => ({ key: path, name: '' })), ...whiteouts].sort((a, b) => compareTreePaths(a.key, b.key));
  const firstPaths = new Map<string, string>();
  for (const { key, name: whiteoutName } of entries) {
    if (whiteoutName !== '') {
      yield { header: whiteoutHeader({ name: whiteoutName, mtime: options.whiteoutMtime }) };
      continue;
    }
    const path = join(root, key);
    const stats = lstatSync(path, { throwIfNoEntry: false });
    const kind = stats === undefined ? undefined : kindOf(stats);
    if (stats === undefined || kind === undefined) continue;
    const fileXattrs = xattrs.get(path);
    if (kind === 'file' && stats.nlink > 1) {
      const first = firstPaths.get(`${stats.dev}:${stats.ino}`);
      if (first !== undefined) {
        yield { header: await headerFor({ path, name: key, stats, kind: 'hardlink', linkname: first, ...clamp, xattrs: fileXattrs }) };
        continue;
      }
      firstPaths.set(`${stats.dev}:${stats.ino}`, key);
    }
    const header = await headerFor({ path, name: key, stats, kind, ...clamp, xattrs: fileXattrs });
    yield kind === 'file' ? { header, content: fileContent(path, stats.size) } : { header };
  }
}

export interface CommitWalkOptions {
  readonly root: string;
  /** The index taken before the step (scanTree). */
  readonly before: StatIndex;
  readonly mode: SnapshotMode;
  readonly ignore?: readonly string[];
  /** Where the blob goes (`store.blobs`, or an OCI layout's `blobs/`). */
  readonly blobs: string;
  readonly compression: Compression;
  readonly level?: number;
  readonly format: 'oci' | 'docker';
  readonly clampMtime?: number;
  /** The time written on whiteouts (seconds); default now, or clampMtime when given. */
  readonly whiteoutMtime?: number;
}

export interface CommittedWalk {
  readonly layer: WrittenLayer;
  /** The index after the step: the next step's `before`. */
  readonly index: StatIndex;
  /** Changed paths plus whiteouts; 0 means the step changed nothing. */
  readonly entries: number;
}

/** Scans the rootfs again, and seals what changed since `before` as a layer. */
export async function commitWalk(options: CommitWalkOptions): Promise<CommittedWalk> {
  const index = scanTree({ root: options.root, mode: options.mode, ...(options.ignore === undefined ? {} : { ignore: options.ignore }) });
  const diff = diffIndexes({ before: options.before, after: index, mode: options.mode });
  const whiteoutMtime = options.whiteoutMtime ?? options.clampMtime ?? Math.floor(Date.now() / 1000);
  const entries = walkDiffEntries({ root: options.root, diff, whiteoutMtime, ...(options.clampMtime === undefined ? {} : { clampMtime: options.clampMtime }) });
  const layer = await writeLayer({ tar: writeTar(entries), compression: options.compression, ...(options.level === undefined ? {} : { level: options.level }), format: options.format, blobs: options.blobs });
  return { layer, index, entries: diff.changed.length + diff.deleted.length };
}
