/**
 * What a file's stat says of its content without reading it: inode, size, mtime and ctime. A write
 * changes mtime and ctime, and ctime cannot be set back, so an unchanged stamp means unchanged
 * content — unless the write came within the same clock tick as the change the stamp saw. A stamp
 * is therefore taken only of a file last changed longer ago than a tick: a few milliseconds where
 * the filesystem keeps sub-second times (RACY_MS leaves a margin), up to two seconds where it
 * keeps whole seconds. Git's index trusts file stats the same way.
 */
import type { Stats } from 'node:fs';

const RACY_MS = 100;
const RACY_COARSE_MS = 2000;

export interface FileStamp {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** The stamp of a file whose stat is `stats`, or undefined when it changed too recently to be trusted. */
export function takeStamp(stats: Stats, now: number = Date.now()): FileStamp | undefined {
  const racy = stats.mtimeMs % 1000 === 0 && stats.ctimeMs % 1000 === 0 ? RACY_COARSE_MS : RACY_MS;
  if (now - stats.mtimeMs <= racy || now - stats.ctimeMs <= racy) return undefined;
  return { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs };
}

/** Whether the file whose stat is `stats` is still what `stamp` saw. */
export function matchesStamp<T extends FileStamp>(stamp: T | undefined, stats: Stats): stamp is T {
  return stamp !== undefined && stamp.ino === stats.ino && stamp.size === stats.size && stamp.mtimeMs === stats.mtimeMs && stamp.ctimeMs === stats.ctimeMs;
}

/** Whether a value read back from JSON is a stamp. */
export function isStamp(value: unknown): value is FileStamp {
  const stamp = value as Partial<FileStamp> | null | undefined;
  return typeof stamp === 'object' && stamp !== null && [stamp.ino, stamp.size, stamp.mtimeMs, stamp.ctimeMs].every((field) => typeof field === 'number');
}
