/**
 * A directory tree as deterministic tar entries: names sorted bytewise within each directory,
 * parents before children, numeric uid/gid, no atime or ctime, hardlinked files written once and
 * then as links, mtimes optionally clamped (`--reproducible`, SOURCE_DATE_EPOCH). Sockets have no
 * tar form and are left out.
 */
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Dirent, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { EntryKind, TarHeader } from './tar-format.js';
import type { TarInput } from './tar-writer.js';
import { compareBytes } from './byte-order.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './paths.js';
import { isOpaqueMarked } from './overlay-xattrs.js';
import { isOverlayXattr, type Xattrs } from './xattrs.js';

export interface TreeOptions {
  readonly root: string;
  /** Every mtime later than this (seconds) becomes this. */
  readonly clampMtime?: number;
  /** Include an entry for the root directory itself (`./`)? Default false. */
  readonly includeRoot?: boolean;
  /** Extended attributes by path relative to root (from readTreeXattrs); overlay's own are dropped. */
  readonly xattrs?: ReadonlyMap<string, Xattrs>;
  /**
   * The root is an overlayfs upperdir: a 0/0 character device is a deleted path (an OCI whiteout
   * `.wh.<name>`), a directory marked opaque gets `.wh..wh..opq` first among its children.
   */
  readonly overlay?: boolean;
}

const READ_CHUNK = 1 << 16;

export function kindOf(stats: Stats): EntryKind | undefined {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isCharacterDevice()) return 'char';
  if (stats.isBlockDevice()) return 'block';
  if (stats.isFIFO()) return 'fifo';
  return undefined;
}

/** Linux's dev_t split (glibc's gnu_dev_major / gnu_dev_minor). */
export function deviceNumbers(rdev: number): { readonly major: number; readonly minor: number } {
  const high = Math.floor(rdev / 2 ** 32);
  const low = rdev % 2 ** 32;
  return {
    major: ((low >>> 8) & 0xfff) | ((high & 0xfffff000) >>> 0),
    minor: (low & 0xff) | ((low >>> 12) & 0xfff00),
  };
}

function compareNames(a: Dirent, b: Dirent): number {
  return compareBytes(a.name, b.name);
}

/** The content of a file, read lazily when the tar writer gets to it. */
/** Files up to this size are read in one synchronous call (see treeEntries). */
const SMALL_FILE = 1 << 20;

/** A small file whole, plus one byte more if it grew since its lstat (the writer's size check catches it). */
function readSmallFile(path: string, size: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(size + 1);
    let filled = 0;
    for (let read = 1; read > 0 && filled < buffer.length; filled += read) read = readSync(fd, buffer, filled, buffer.length - filled, null);
    return buffer.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

export async function* fileContent(path: string, size: number): AsyncGenerator<Buffer> {
  if (size <= SMALL_FILE) {
    yield readSmallFile(path, size);
    return;
  }
  const file = await open(path, 'r');
  try {
    let left = size;
    while (left > 0) {
      const { bytesRead, buffer } = await file.read({ buffer: Buffer.allocUnsafe(Math.min(READ_CHUNK, left)) });
      if (bytesRead === 0) break;
      left -= bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
    // A file that grew is caught by the writer's size check: yield one more byte if there is one.
    if (left === 0) {
      const { bytesRead, buffer } = await file.read({ buffer: Buffer.alloc(1) });
      if (bytesRead > 0) yield buffer;
    }
  } finally {
    await file.close();
  }
}

/** The tar header for `path` (relative name `name`) from its lstat. */
function clampedMtime(stats: Stats, clampMtime: number | undefined): number {
  const mtime = Math.floor(stats.mtimeMs / 1000);
  return clampMtime !== undefined && mtime > clampMtime ? clampMtime : mtime;
}

export async function headerFor(options: { readonly path: string; readonly name: string; readonly stats: Stats; readonly kind: EntryKind; readonly clampMtime?: number; readonly linkname?: string; readonly xattrs?: Xattrs | undefined }): Promise<TarHeader> {
  const { stats, kind } = options;
  const device = kind === 'char' || kind === 'block' ? deviceNumbers(stats.rdev) : { major: 0, minor: 0 };
  return {
    name: kind === 'directory' ? `${options.name}/` : options.name,
    kind,
    mode: stats.mode & 0o7777,
    uid: stats.uid,
    gid: stats.gid,
    size: kind === 'file' ? stats.size : 0,
    mtime: clampedMtime(stats, options.clampMtime),
    linkname: options.linkname ?? (kind === 'symlink' ? readlinkSync(options.path) : ''),
    devmajor: device.major,
    devminor: device.minor,
    xattrs: imageXattrs(options.xattrs),
  };
}

/** The attributes that belong in an image: all but overlayfs's bookkeeping. */
function imageXattrs(xattrs: Xattrs | undefined): Xattrs {
  if (xattrs === undefined) return new Map();
  return new Map([...xattrs].filter(([name]) => !isOverlayXattr(name)));
}

/** An OCI whiteout entry for `name` (`dir/.wh.file`, or `dir/.wh..wh..opq` for an opaque dir). */
export function whiteoutHeader(options: { readonly name: string; readonly mtime: number }): TarHeader {
  return { name: options.name, kind: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: options.mtime, linkname: '', devmajor: 0, devminor: 0, xattrs: new Map() };
}

function isOverlayWhiteout(stats: Stats): boolean {
  return stats.isCharacterDevice() && stats.rdev === 0;
}


/**
 * The tree's entries in order. Metadata and small files are read with synchronous calls: each
 * async fs call is a round trip through libuv's thread pool, which on a busy machine costs more
 * than the syscall (as for extraction).
 */
export async function* treeEntries(options: TreeOptions): AsyncGenerator<TarInput> {
  const firstPaths = new Map<string, string>();
  if (options.includeRoot === true) {
    const stats = lstatSync(options.root);
    yield { header: { ...(await headerFor({ path: options.root, name: '.', stats, kind: 'directory', ...clamp(options), xattrs: options.xattrs?.get('') })), name: './' } };
  }
  async function* walk(directory: string, prefix: string): AsyncGenerator<TarInput> {
    const children = readdirSync(directory, { withFileTypes: true }).sort(compareNames);
    for (const child of children) {
      const path = join(directory, child.name);
      const name = prefix === '' ? child.name : `${prefix}/${child.name}`;
      const stats = lstatSync(path);
      const kind = kindOf(stats);
      if (kind === undefined) continue;
      const clamped = clampedMtime(stats, options.clampMtime);
      if (options.overlay === true && isOverlayWhiteout(stats)) {
        yield { header: whiteoutHeader({ name: prefix === '' ? `${WHITEOUT_PREFIX}${child.name}` : `${prefix}/${WHITEOUT_PREFIX}${child.name}`, mtime: clamped }) };
        continue;
      }
      const xattrs = options.xattrs?.get(name);
      if (kind === 'file' && stats.nlink > 1) {
        const key = `${stats.dev}:${stats.ino}`;
        const first = firstPaths.get(key);
        if (first !== undefined) {
          yield { header: await headerFor({ path, name, stats, kind: 'hardlink', linkname: first, ...clamp(options), xattrs }) };
          continue;
        }
        firstPaths.set(key, name);
      }
      const header = await headerFor({ path, name, stats, kind, ...clamp(options), xattrs });
      yield kind === 'file' ? { header, content: fileContent(path, stats.size) } : { header };
      if (kind !== 'directory') continue;
      if (options.overlay === true && isOpaqueMarked(xattrs)) yield { header: whiteoutHeader({ name: `${name}/${OPAQUE_WHITEOUT}`, mtime: clamped }) };
      yield* walk(path, name);
    }
  }
  yield* walk(options.root, '');
}

function clamp(options: TreeOptions): { clampMtime?: number } {
  return options.clampMtime === undefined ? {} : { clampMtime: options.clampMtime };
}
