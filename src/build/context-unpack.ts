/**
 * A build context from a tar archive: unpacks a context tarball (plain, gzip or zstd, told apart
 * by magic bytes) into a fresh directory with the confinement of layer extraction — names cleaned
 * (`..` refused, absolute names taken as relative), no parent path through a symlink, files
 * created O_EXCL after whatever was at their path is removed (nothing is written through a link),
 * hardlinks only to files already unpacked. Unlike a layer: `.wh.` names are ordinary files,
 * ownership is not applied (the caller owns everything), device nodes and fifos are left out.
 * Modes and modification times are kept. `removeContextTree` removes what this wrote even when a
 * directory of the archive was read-only.
 */
import { closeSync, fchmodSync, futimesSync, lstatSync, openSync, writeSync, type Stats } from 'node:fs';
import { chmod, link, lutimes, mkdir, open, readdir, rm, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { CaissonError } from '../errors.js';
import { cleanEntryPath, ConfinedParents, decompressLayer, readTar, type TarEntry, type TarHeader } from '../fs/index.js';

export interface UnpackContextOptions {
  /** The archive as stored: plain, gzip or zstd tar. */
  readonly source: AsyncIterable<Buffer>;
  /** An existing, empty directory. */
  readonly target: string;
  /** Names the archive in errors (`build context tar:/abs/ctx.tgz`). */
  readonly what: string;
}

export interface UnpackedContext {
  readonly entries: number;
  readonly bytes: number;
  /** Entries left out (devices, fifos), with the reason. */
  readonly skipped: readonly string[];
}

/** Files up to this size are written with synchronous calls in one go. */
const SMALL_FILE = 1 << 20;

const ARCHIVE_HINT = 'The build context archive must be a tar (plain, gzip or zstd) whose entries stay inside it; nothing outside the unpack directory was written.';

function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

/** One archive's unpacking; its state lives here, not in the module. */
class ContextUnpack {
  readonly #target: string;
  readonly #what: string;
  /** Parent paths checked to be real directories (not links) under the target. */
  readonly #confined: ConfinedParents;
  /** Set last, deepest first: children change a directory's time, a read-only mode would stop them. */
  readonly #directoryMetadata: { path: string; mode: number; mtime: number }[] = [];
  readonly skipped: string[] = [];
  entries = 0;
  bytes = 0;

  constructor(options: { readonly target: string; readonly what: string }) {
    this.#target = options.target;
    this.#what = options.what;
    this.#confined = new ConfinedParents({ target: options.target, unsafe: (name, detail) => this.#unsafe(name, detail) });
  }

  #absolute(path: string): string {
    return path === '' ? this.#target : join(this.#target, path);
  }

  #unsafe(name: string, detail: string): CaissonError {
    return new CaissonError({ code: 'ERR_BUILD_CONTEXT', message: `${this.#what}: entry ${JSON.stringify(name)} ${detail}`, hint: ARCHIVE_HINT });
  }

  async #remove(path: string): Promise<void> {
    const stats = lstatOrUndefined(this.#absolute(path));
    if (stats === undefined) return;
    await rm(this.#absolute(path), { recursive: true, force: true });
    if (stats.isDirectory()) this.#confined.forget(path);
  }

  #writeSmallFile(path: string, header: TarHeader, content: Buffer): void {
    const fd = openSync(this.#absolute(path), 'wx', 0o600);
    try {
      if (content.length > 0) writeSync(fd, content);
      fchmodSync(fd, header.mode & 0o7777);
      futimesSync(fd, header.mtime, header.mtime);
    } finally {
      closeSync(fd);
    }
    this.bytes += content.length;
  }

  async #writeFile(path: string, entry: TarEntry): Promise<void> {
    const file = await open(this.#absolute(path), 'wx', 0o600);
    try {
      for await (const chunk of entry.content()) {
        await file.write(chunk);
        this.bytes += chunk.length;
      }
      fchmodSync(file.fd, entry.header.mode & 0o7777);
      futimesSync(file.fd, entry.header.mtime, entry.header.mtime);
    } finally {
      await file.close();
    }
  }

  async apply(entry: TarEntry): Promise<void> {
    const { header } = entry;
    const path = cleanEntryPath({ name: header.name, what: this.#what });
    this.entries += 1;
    if (header.sparse !== undefined) throw this.#unsafe(header.name, 'is a sparse file, which a build context archive does not hold; write it with a plain POSIX tar');
    if (header.kind === 'char' || header.kind === 'block' || header.kind === 'fifo') {
      this.skipped.push(`${path}: ${header.kind} ${header.kind === 'fifo' ? 'node' : 'device'} left out of the build context`);
      return;
    }
    if (path === '') {
      if (header.kind !== 'directory') throw this.#unsafe(header.name, `is a ${header.kind} where the context's root directory is`);
      this.#directoryMetadata.push({ path: this.#target, mode: header.mode & 0o7777, mtime: header.mtime });
      return;
    }
    await this.#confined.ensure(path, true);
    const existing = lstatOrUndefined(this.#absolute(path));
    if (existing !== undefined && !(existing.isDirectory() && header.kind === 'directory')) await this.#remove(path);
    const absolute = this.#absolute(path);
    switch (header.kind) {
      case 'directory':
        if (existing === undefined || !existing.isDirectory()) await mkdir(absolute, { mode: 0o700 });
        this.#confined.add(path);
        this.#directoryMetadata.push({ path: absolute, mode: header.mode & 0o7777, mtime: header.mtime });
        return;
      case 'file': {
        if (header.size > SMALL_FILE) return this.#writeFile(path, entry);
        const parts: Buffer[] = [];
        for await (const chunk of entry.content()) parts.push(chunk);
        this.#writeSmallFile(path, header, parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
        return;
      }
      case 'symlink':
        // A link is content of the context, kept as it is; nothing is ever written through it.
        await symlink(header.linkname, absolute);
        await lutimes(absolute, header.mtime, header.mtime);
        return;
      case 'hardlink': {
        const target = cleanEntryPath({ name: header.linkname, what: this.#what });
        if (target === '' || !(await this.#confined.ensure(target, false))) throw this.#unsafe(header.name, `is a hardlink to ${JSON.stringify(header.linkname)}, which is not in the archive before it`);
        const stats = lstatOrUndefined(this.#absolute(target));
        if (stats === undefined) throw this.#unsafe(header.name, `is a hardlink to ${JSON.stringify(header.linkname)}, which does not exist`);
        if (stats.isDirectory()) throw this.#unsafe(header.name, `is a hardlink to the directory ${JSON.stringify(header.linkname)}`);
        await link(this.#absolute(target), absolute);
        return;
      }
    }
  }

  async finish(): Promise<void> {
    for (const { path, mode, mtime } of this.#directoryMetadata.reverse()) {
      // A later entry may have replaced it.
      if (lstatOrUndefined(path)?.isDirectory() !== true) continue;
      await chmod(path, mode);
      await utimes(path, mtime, mtime);
    }
  }
}

/** Turns a reader's or decompressor's error into one about the context archive. */
function archiveError(error: unknown, what: string): CaissonError {
  if (error instanceof CaissonError) {
    if (error.code === 'ERR_BUILD_CONTEXT') return error;
    return new CaissonError({ code: 'ERR_BUILD_CONTEXT', message: error.message, hint: ARCHIVE_HINT, cause: error });
  }
  return new CaissonError({ code: 'ERR_BUILD_CONTEXT', message: `${what}: cannot unpack: ${(error as Error).message}`, hint: 'Check that the temporary directory has room and is writable (TMPDIR).', cause: error });
}

/** Unpacks a context archive into `target`; a malformed or hostile archive is an ERR_BUILD_CONTEXT naming it. */
export async function unpackContextArchive(options: UnpackContextOptions): Promise<UnpackedContext> {
  const unpack = new ContextUnpack({ target: options.target, what: options.what });
  try {
    const { chunks } = await decompressLayer({ source: options.source, what: options.what });
    for await (const entry of readTar(chunks, options.what)) await unpack.apply(entry);
    await unpack.finish();
  } catch (error) {
    throw archiveError(error, options.what);
  }
  return { entries: unpack.entries, bytes: unpack.bytes, skipped: unpack.skipped };
}

/** Makes every directory under `path` writable and searchable by its owner, so it can be removed. */
async function openUp(path: string): Promise<void> {
  const stats = lstatOrUndefined(path);
  if (stats === undefined || !stats.isDirectory()) return;
  await chmod(path, 0o700);
  for (const name of await readdir(path)) await openUp(join(path, name));
}

/** Removes `path` and everything under it, read-only directories included. */
export async function removeContextTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch {
    await openUp(path);
    await rm(path, { recursive: true, force: true });
  }
}
