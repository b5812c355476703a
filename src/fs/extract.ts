/**
 * Secure layer extraction onto a directory. Every entry is confined to the target: names are
 * cleaned (`..` refused, absolute names taken as relative), each parent directory is checked to
 * be a real directory (a symlink anywhere in the parent path is refused, never followed),
 * hardlinks must point at an existing non-directory inside the target, and files are created
 * with O_EXCL after whatever was at their path is removed, so nothing is written through a link.
 * OCI whiteouts delete what lower layers put there; an opaque directory drops their children.
 */
import { createHash } from 'node:crypto';
import { closeSync, fchmodSync, fchownSync, futimesSync, lstatSync, openSync, writeSync, type Stats } from 'node:fs';
import { chmod, lchown, link, lutimes, mkdir, open, readdir, rm, symlink, utimes } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { CaissonError } from '../errors.js';
import { digestMismatch, type Compression, type Digest } from '../image/index.js';
import { decompressLayer } from './decompress.js';
import { runProgram } from './program.js';
import { ConfinedParents } from './confined-parents.js';
import { holdsKept, isKept, removeKeeping } from './kept-paths.js';
import { isOpaqueMarked, opaqueXattrName } from './overlay-xattrs.js';
import { cleanEntryPath, joinPath, parentOf, whiteoutOf } from './paths.js';
import { writeSparse } from './sparse.js';
import { readTar, type TarEntry } from './tar-reader.js';
import type { TarHeader } from './tar-format.js';
import { isOverlayXattr, writeXattrs, type XattrAssignment, type Xattrs } from './xattrs.js';

export interface ExtractOptions {
  /** The layer blob as it is stored: gzip, zstd or plain tar, detected by magic bytes. */
  readonly source: AsyncIterable<Buffer>;
  /** An existing directory: the rootfs the layer is applied to. */
  readonly target: string;
  /** Names the layer in errors (`sha256:…` or a file). */
  readonly what: string;
  /**
   * Running as uid 0 (in the machine's or a user namespace): ownership is set from the tar and
   * device nodes are made. Unprivileged, files belong to the caller and device nodes are left out
   * (reported in `skipped`), as rootless builders do. Default: whether uid is 0.
   */
  readonly privileged?: boolean;
  /**
   * `apply` (default): whiteouts delete what lower layers put in the target. `overlay`: the target
   * is one layer of an overlay stack, so whiteouts are kept as overlayfs marks them — a 0/0
   * character device for a deleted path, `trusted.overlay.opaque=y` on an opaque directory.
   */
  readonly whiteouts?: 'apply' | 'overlay';
  /** The layer's diffID: the uncompressed stream is hashed while it is read and must match. */
  readonly diffId?: Digest;
  /**
   * Paths (relative, clean) the layer may not touch: caisson's own files, mount points and the
   * cache when the target is the machine's root (container mode). Entries at or under them are
   * left out; whiteouts and opaque directories spare them; a directory holding one is emptied
   * around it instead of removed, and a non-directory entry at such a directory is left out.
   */
  readonly keep?: readonly string[];
}

/** An entry caisson could not reproduce exactly, and what it did instead. */
export interface SkippedEntry {
  readonly path: string;
  readonly reason: string;
}

export interface ExtractResult {
  readonly compression: Compression;
  readonly entries: number;
  readonly bytes: number;
  readonly skipped: readonly SkippedEntry[];
  /** Overlay form: the directories marked opaque, relative to the target ('' for the root). */
  readonly opaqueDirectories: readonly string[];
}

function unsafe(what: string, path: string, detail: string): CaissonError {
  return new CaissonError({ code: 'ERR_LAYER_UNSAFE', message: `${what}: entry ${JSON.stringify(path)} ${detail}`, hint: 'Layer entries must stay inside the image root; the layer is hostile or was built wrong. Nothing outside the target was touched.' });
}

/**
 * lstat, or undefined when nothing is there. Synchronous on purpose: a missing path is common
 * (whiteouts of what no lower layer had), and the async form builds an Error for each.
 */
function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

async function runTool(command: string, args: readonly string[]): Promise<void> {
  const { code, stderr } = await runProgram({ command, args });
  if (code !== 0) throw new Error(`${command} ${args.join(' ')}: ${stderr.trim() || `exit ${code}`}`);
}

/** The uncompressed stream, hashed as the tar reader pulls it; `drain` reads what it left. */
class HashingSource implements AsyncIterable<Buffer> {
  readonly #iterator: AsyncIterator<Buffer>;
  readonly #hash = createHash('sha256');

  constructor(source: AsyncIterable<Buffer>) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return { next: () => this.#next() };
  }

  async #next(): Promise<IteratorResult<Buffer>> {
    const next = await this.#iterator.next();
    if (next.done !== true) this.#hash.update(next.value);
    return next;
  }

  /** Reads past the end-of-archive blocks and returns the digest of everything. */
  async digest(): Promise<Digest> {
    while ((await this.#next()).done !== true);
    return `sha256:${this.#hash.digest('hex')}` as Digest;
  }
}

/** Files up to this size are read whole and written with synchronous calls. */
const SMALL_FILE = 1 << 20;

/** One layer's extraction; state lives here, not in the module. */
class Extraction {
  readonly #options: ExtractOptions;
  readonly #privileged: boolean;
  /** trusted.overlay.opaque as root, user.overlay.opaque in a user namespace. */
  readonly #opaqueXattr = opaqueXattrName();
  /** Parent paths checked to be real directories (not links) in the target. */
  readonly #confined: ConfinedParents;
  /** Paths this layer named: an opaque marker keeps them and drops only what lower layers had. */
  readonly #created = new Set<string>();
  /** Directories this layer made (not merely named): nothing else can be inside them. */
  readonly #made = new Set<string>();
  /** Directory modes and times are set last: creating children changes the time, and a read-only mode would stop them. */
  readonly #directoryMetadata: { path: string; mode: number; mtime: number }[] = [];
  /** Extended attributes, set in one batch at the end (after ownership, which clears capabilities). */
  readonly #xattrs: XattrAssignment[] = [];
  /** The target had nothing in it: paths this layer has not made cannot exist. */
  readonly #emptyTarget: boolean;
  readonly #ids: { readonly uid: number; readonly gid: number };
  readonly skipped: SkippedEntry[] = [];
  entries = 0;
  bytes = 0;

  constructor(options: ExtractOptions & { readonly emptyTarget: boolean }) {
    this.#options = options;
    this.#emptyTarget = options.emptyTarget;
    this.#ids = { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
    this.#privileged = options.privileged ?? process.getuid?.() === 0;
    this.#confined = new ConfinedParents({
      target: options.target,
      unsafe: (name, detail) => unsafe(options.what, name, detail),
      made: (made) => {
        this.#created.add(made);
        this.#made.add(made);
      },
    });
  }

  #absolute(path: string): string {
    return path === '' ? this.#options.target : join(this.#options.target, path);
  }

  #kept(path: string): boolean {
    return isKept(path, this.#options.keep ?? []);
  }

  async #remove(path: string): Promise<void> {
    const stats = lstatOrUndefined(this.#absolute(path));
    if (stats === undefined) return;
    if (this.#options.keep !== undefined) {
      // Emptied around a kept path or gone: either way nothing known below it holds.
      await removeKeeping({ root: this.#options.target, path, keep: this.#options.keep });
      this.#forgetRemoved(path, stats);
      return;
    }
    await rm(this.#absolute(path), { recursive: true, force: true });
    this.#forgetRemoved(path, stats);
  }

  #forgetRemoved(path: string, stats: Stats): void {
    this.#forgetXattrs(this.#absolute(path));
    if (stats.isDirectory()) this.#confined.forget(path);
  }

  #recordXattrs(path: string, xattrs: Xattrs): void {
    const kept = new Map([...xattrs].filter(([name]) => !isOverlayXattr(name)));
    if (kept.size < xattrs.size) this.skipped.push({ path, reason: 'overlayfs attributes (trusted.overlay.*) in a layer are ignored' });
    if (kept.size > 0) this.#xattrs.push({ path: this.#absolute(path), xattrs: kept });
  }

  /** What was removed gets no attributes: its path may become a symlink, which setfattr would follow. */
  #forgetXattrs(absolute: string): void {
    if (this.#xattrs.length === 0) return;
    const inside = `${absolute}/`;
    const kept = this.#xattrs.filter(({ path }) => path !== absolute && !path.startsWith(inside));
    this.#xattrs.splice(0, this.#xattrs.length, ...kept);
  }

  async #applyWhiteout(path: string, target: string): Promise<void> {
    if (target === '') throw unsafe(this.#options.what, path, 'deletes the root');
    const overlay = this.#options.whiteouts === 'overlay';
    if (!(await this.#confined.ensure(target, overlay))) return;
    await this.#remove(target);
    if (!overlay) return;
    if (!this.#privileged) throw new CaissonError({ code: 'ERR_LAYER_UNSUPPORTED', message: `${this.#options.what}: whiteout ${JSON.stringify(path)} needs a 0/0 device node for overlayfs, which needs root`, hint: 'Run as root (or in a user namespace), or let caisson use the walk snapshotter.' });
    await runTool('mknod', [this.#absolute(target), 'c', '0', '0']);
    this.#created.add(target);
  }

  async #applyOpaque(directory: string): Promise<void> {
    if (this.#options.whiteouts === 'overlay') {
      await this.#confined.ensure(joinPath(directory, 'x'), true);
      this.#xattrs.push({ path: this.#absolute(directory), xattrs: new Map([[this.#opaqueXattr, Buffer.from('y')]]) });
      return;
    }
    if (!(await this.#confined.ensure(joinPath(directory, 'x'), false))) return;
    let names: string[];
    try {
      names = await readdir(this.#absolute(directory));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw error;
    }
    for (const name of names) {
      const child = joinPath(directory, name);
      if (!this.#created.has(child)) await this.#remove(child);
    }
  }

  /** Ownership, mode and times of anything but a regular file (those are set through the handle). */
  async #metadata(path: string, header: TarHeader): Promise<void> {
    const absolute = this.#absolute(path);
    if (this.#privileged) await lchown(absolute, header.uid, header.gid);
    if (header.kind === 'symlink') {
      await lutimes(absolute, header.mtime, header.mtime);
      return;
    }
    if (header.kind === 'directory') {
      this.#directoryMetadata.push({ path: absolute, mode: header.mode, mtime: header.mtime });
    } else {
      // After chown, which clears setuid and setgid.
      await chmod(absolute, header.mode);
      await utimes(absolute, header.mtime, header.mtime);
    }
  }

  /** Ownership, mode and times of a file just written, through its descriptor (large and small files alike). */
  #fileMetadata(fd: number, header: TarHeader): void {
    if (this.#privileged && (header.uid !== this.#ids.uid || header.gid !== this.#ids.gid)) fchownSync(fd, header.uid, header.gid);
    // After chown, which clears setuid and setgid.
    fchmodSync(fd, header.mode);
    futimesSync(fd, header.mtime, header.mtime);
  }

  async #writeFile(path: string, entry: TarEntry): Promise<void> {
    const { header } = entry;
    const file = await open(this.#absolute(path), 'wx', 0o600);
    try {
      if (header.sparse !== undefined) {
        this.bytes += await writeSparse({ content: entry.content(), file, realSize: header.sparse.realSize, what: `${this.#options.what}: ${path}` });
      } else {
        for await (const chunk of entry.content()) {
          await file.write(chunk);
          this.bytes += chunk.length;
        }
      }
      this.#fileMetadata(file.fd, header);
    } finally {
      await file.close();
    }
  }

  /**
   * A small file in one go, synchronously: open, write, owner, mode, times, close. Each async
   * call is a round trip through libuv's thread pool, and on a busy machine those hand-offs, not
   * the syscalls, dominate; tar(1) makes the same calls in one thread.
   */
  #writeSmallFile(path: string, header: TarHeader, content: Buffer): void {
    const fd = openSync(this.#absolute(path), 'wx', 0o600);
    try {
      if (content.length > 0) writeSync(fd, content);
      this.#fileMetadata(fd, header);
    } finally {
      closeSync(fd);
    }
    this.bytes += content.length;
  }

  /** Nothing can be at `path` yet: it is new in an empty target, or its directory is this layer's own. */
  #isFresh(path: string): boolean {
    return !this.#created.has(path) && (this.#emptyTarget || this.#made.has(parentOf(path)));
  }

  async #node(path: string, header: TarHeader): Promise<boolean> {
    const absolute = this.#absolute(path);
    if (header.kind === 'fifo') {
      await runTool('mknod', [absolute, 'p']);
      return true;
    }
    if (!this.#privileged) {
      // Unprivileged: device nodes cannot be made; leave them out, as rootless builders do.
      this.skipped.push({ path, reason: `${header.kind} device ${header.devmajor}:${header.devminor} left out (creating device nodes needs root)` });
      return false;
    }
    await runTool('mknod', [absolute, header.kind === 'char' ? 'c' : 'b', String(header.devmajor), String(header.devminor)]);
    return true;
  }

  async apply(entry: TarEntry): Promise<void> {
    const { header } = entry;
    const what = this.#options.what;
    const path = cleanEntryPath({ name: header.name, what });
    this.entries += 1;
    const whiteout = whiteoutOf({ path, what });
    if (this.#kept(whiteout.kind === 'whiteout' ? whiteout.target : whiteout.kind === 'opaque' ? whiteout.directory : path)) return;
    if (header.kind !== 'directory' && holdsKept(path, this.#options.keep ?? [])) {
      this.skipped.push({ path, reason: `left out: a ${header.kind} where caisson keeps a directory in use` });
      return;
    }
    if (whiteout.kind !== 'none') {
      return whiteout.kind === 'whiteout' ? this.#applyWhiteout(path, whiteout.target) : this.#applyOpaque(whiteout.directory);
    }
    if (header.xattrs.size > 0 && header.kind !== 'hardlink') this.#recordXattrs(path, header.xattrs);
    if (path === '') {
      if (header.kind !== 'directory') throw unsafe(what, header.name, `is a ${header.kind} where the root directory is`);
      return this.#metadata(path, header);
    }
    await this.#confined.ensure(path, true);
    const existing = this.#isFresh(path) ? undefined : lstatOrUndefined(this.#absolute(path));
    if (existing !== undefined && !(existing.isDirectory() && header.kind === 'directory')) await this.#remove(path);
    if (header.kind === 'file' && header.sparse === undefined && header.size <= SMALL_FILE) {
      const parts: Buffer[] = [];
      for await (const chunk of entry.content()) parts.push(chunk);
      this.#created.add(path);
      this.#writeSmallFile(path, header, parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
      return;
    }
    this.#created.add(path);
    switch (header.kind) {
      case 'directory':
        if (existing === undefined || !existing.isDirectory()) {
          await mkdir(this.#absolute(path), { mode: 0o700 });
          this.#made.add(path);
        }
        this.#confined.add(path);
        break;
      case 'file':
        // Ownership, mode and times go through the open file.
        return this.#writeFile(path, entry);
      case 'symlink':
        await symlink(header.linkname, this.#absolute(path));
        break;
      case 'hardlink': {
        const target = cleanEntryPath({ name: header.linkname, what });
        if (target === '' || !(await this.#confined.ensure(target, false))) throw unsafe(what, path, `is a hardlink to ${JSON.stringify(header.linkname)}, which is not in the layer or below it`);
        const stats = lstatOrUndefined(this.#absolute(target));
        if (stats === undefined) throw unsafe(what, path, `is a hardlink to ${JSON.stringify(header.linkname)}, which does not exist`);
        if (stats.isDirectory()) throw unsafe(what, path, `is a hardlink to the directory ${JSON.stringify(header.linkname)}`);
        await link(this.#absolute(target), this.#absolute(path));
        // A hardlink shares its target's inode and metadata.
        return;
      }
      case 'char':
      case 'block':
      case 'fifo':
        if (!(await this.#node(path, header))) return;
        break;
    }
    await this.#metadata(path, header);
  }

  /** Directories that carry overlay's opaque marker, relative to the target. */
  opaqueDirectories(): string[] {
    return this.#xattrs.filter(({ xattrs }) => isOpaqueMarked(xattrs)).map(({ path }) => relative(this.#options.target, path));
  }

  async finish(): Promise<void> {
    const refused = await writeXattrs({ assignments: this.#xattrs, what: this.#options.what });
    for (const reason of refused) this.skipped.push({ path: '', reason: `extended attribute not applied: ${reason}` });
    for (const { path, mode, mtime } of this.#directoryMetadata.reverse()) {
      // A later entry of the layer may have removed or replaced it.
      if ((lstatOrUndefined(path))?.isDirectory() !== true) continue;
      await chmod(path, mode);
      await utimes(path, mtime, mtime);
    }
  }
}

/** Applies one layer to `target`; throws a CaissonError naming the layer and entry on bad input. */
export async function extractLayer(options: ExtractOptions): Promise<ExtractResult> {
  const stats = lstatOrUndefined(options.target);
  if (stats === undefined || !stats.isDirectory()) {
    throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `${options.target}: extraction target is not a directory`, hint: 'Create the rootfs directory before extracting layers into it.' });
  }
  const emptyTarget = (await readdir(options.target)).length === 0;
  const { compression, chunks } = await decompressLayer({ source: options.source, what: options.what });
  const extraction = new Extraction({ ...options, emptyTarget });
  const source = options.diffId === undefined ? chunks : new HashingSource(chunks);
  for await (const entry of readTar(source, options.what)) await extraction.apply(entry);
  if (source instanceof HashingSource) {
    const actual = await source.digest();
    if (actual !== options.diffId) throw digestMismatch({ what: `${options.what} (uncompressed, its diffID)`, expected: options.diffId as Digest, actual });
  }
  await extraction.finish();
  return { compression, entries: extraction.entries, bytes: extraction.bytes, skipped: extraction.skipped, opaqueDirectories: extraction.opaqueDirectories() };
}
