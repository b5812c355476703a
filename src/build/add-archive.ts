/**
 * ADD's local-archive rule (BuildKit's, after Docker's): a source file that is a tar archive —
 * plain, gzip, bzip2, xz or zstd, recognised by its bytes, never its name — is unpacked into the
 * destination, which is always a directory, instead of being copied. A file whose first tar header
 * does not parse is no archive and is copied as it is.
 *
 * Entries keep their mode, mtime, owner and extended attributes (best effort); --chown replaces
 * the owner, --chmod does not apply. Names are confined below the destination: `..` is refused,
 * absolute names are taken as relative, symlinks met on the way (the archive's own or the stage's)
 * are followed as a chroot at the destination would follow them, and a relative symlink or a
 * hardlink pointing above the destination is refused, as Docker's untar does. `.wh.` names are
 * plain files here, not whiteouts. Everything is written into the step's layer directory, so the
 * whole ADD stays one layer. gzip and zstd are decompressed as layers are (../fs); bzip2 and xz by the
 * system's `bzip2 -dc` and `xz -dc` (Debian packages bzip2, xz-utils).
 */
import { chmodSync, chownSync, createReadStream, createWriteStream, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readlinkSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CaissonError, isCaissonError } from '../errors.js';
import { cleanEntryPath, decompressLayer, readTar, writeXattrs, type TarEntry, type XattrAssignment } from '../fs/index.js';
import type { Logger } from '../log.js';
import { makeParents, type DirectoryWrite } from './copy-files.js';
import { components, linkTarget, resolveInside } from './resolve-inside.js';

/** Archive compressions ADD recognises (Docker's DecompressStream). */
export type ArchiveCompression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

/** xz's magic is the longest. */
const MAGIC_BYTES = 6;

export interface UnpackArchiveOptions extends DirectoryWrite {
  /** Host path of the archive. */
  readonly file: string;
  /** Names the archive in messages (its context path, or the redacted URL). */
  readonly what: string;
  /** Layer-relative directory the entries go into (made if missing). */
  readonly directory: string;
  readonly created: string[];
  readonly times: Map<string, number>;
  readonly logger: Logger;
}

/** The compression the leading bytes announce. */
export function sniffArchive(head: Buffer): ArchiveCompression {
  const starts = (bytes: readonly number[]): boolean => bytes.every((byte, i) => head[i] === byte);
  if (starts([0x1f, 0x8b])) return 'gzip';
  if (starts([0x42, 0x5a, 0x68])) return 'bzip2';
  if (starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz';
  if (starts([0x28, 0xb5, 0x2f, 0xfd])) return 'zstd';
  return 'none';
}

async function readHead(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(MAGIC_BYTES);
    const { bytesRead } = await handle.read({ buffer, position: 0 });
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

interface Decompressed {
  readonly chunks: AsyncIterable<Buffer>;
  readonly close: () => void;
}

function corrupt(what: string, compression: ArchiveCompression, detail: string, cause?: unknown): CaissonError {
  return new CaissonError({ code: 'ERR_LAYER_INVALID', message: `${what}: the ${compression} archive is corrupt or truncated: ${detail}`, hint: 'Re-create the archive, or ADD --unpack=false to copy it as a file.', cause });
}

/** gzip and zstd: the layer decompressor of ../fs, its errors told as this archive's. */
function zlibStream(options: { readonly file: string; readonly what: string; readonly compression: 'gzip' | 'zstd' }): Decompressed {
  const input = createReadStream(options.file);
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      yield* (await decompressLayer({ source: input, what: options.what })).chunks;
    } catch (error) {
      const detail = isCaissonError(error) && error.cause instanceof Error ? error.cause.message : (error as Error).message;
      throw corrupt(options.what, options.compression, detail, error);
    }
  }
  return { chunks: chunks(), close: () => input.destroy() };
}

/** bzip2 and xz: Node has no decoder, the system's `<tool> -dc <file>` streams one. */
function programStream(options: { readonly file: string; readonly what: string; readonly compression: 'bzip2' | 'xz' }): Decompressed {
  const command = options.compression;
  const child = process.getBuiltinModule('node:child_process').spawn(command, ['-dc', '--', options.file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  exited.catch(() => undefined);
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of child.stdout) yield chunk as Buffer;
      const code = await exited;
      if (code !== 0) throw corrupt(options.what, options.compression, stderr.trim() || `${command} exited ${code}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        const debian = command === 'xz' ? 'xz-utils' : 'bzip2';
        throw new CaissonError({ code: 'ERR_BUILD_STEP', message: `${options.what}: unpacking a ${command} archive needs the ${command} program, which is not installed`, hint: `Install it (Debian package ${debian}), or ADD --unpack=false to copy the archive as a file.`, cause: error });
      }
      throw error;
    }
  }
  return { chunks: chunks(), close: () => child.kill() };
}

function decompress(options: { readonly file: string; readonly what: string; readonly compression: ArchiveCompression }): Decompressed {
  const { file, what, compression } = options;
  switch (compression) {
    case 'none': {
      const input = createReadStream(file);
      return { chunks: input, close: () => input.destroy() };
    }
    case 'gzip':
    case 'zstd':
      return zlibStream({ file, what, compression });
    case 'bzip2':
    case 'xz':
      return programStream({ file, what, compression });
  }
}

function unsafe(what: string, name: string, detail: string): CaissonError {
  return new CaissonError({ code: 'ERR_LAYER_UNSAFE', message: `${what}: entry ${JSON.stringify(name)} ${detail}`, hint: 'Archive entries must stay inside the ADD destination; the archive is hostile or was built wrong. Nothing was added.' });
}

/** Writes one archive's entries into the layer; see the file comment for the rules. */
class ArchiveWriter {
  readonly #options: UnpackArchiveOptions;
  readonly #xattrs: XattrAssignment[] = [];
  readonly #privileged = process.getuid?.() === 0;

  constructor(options: UnpackArchiveOptions) {
    this.#options = options;
  }

  #host(relative: string): string {
    return join(this.#options.layer, relative);
  }

  /**
   * The layer-relative path of `path` (relative to the destination) with every symlink on the way
   * resolved inside the destination; the final component is never followed.
   */
  #resolve(name: string, path: string): string {
    const { directory, view } = this.#options;
    const base = components(directory);
    const parts = components(path);
    const last = parts.pop();
    if (last === undefined) return directory;
    const inLayer = (relative: string): string => [...base, ...components(relative)].join('/');
    const parent = resolveInside({
      path: parts.join('/'),
      followFinal: true,
      readLink: (relative) => {
        const layerPath = inLayer(relative);
        const upper = lstatSync(this.#host(layerPath), { throwIfNoEntry: false });
        if (upper === undefined) return linkTarget(view?.lstat(layerPath));
        if (upper.isSymbolicLink()) return readlinkSync(this.#host(layerPath), 'utf8');
        if (!upper.isDirectory()) throw unsafe(this.#options.what, name, `needs /${layerPath} to be a directory, but this ADD wrote a file there`);
        return undefined;
      },
      loop: () => unsafe(this.#options.what, name, 'runs through too many levels of symbolic links'),
    });
    return [...base, ...components(parent), last].join('/');
  }

  /** Makes the parents of `relative` (layer-relative) as any COPY would. */
  #parents(relative: string): void {
    const parent = posix.dirname(relative);
    makeParents({ ...this.#options, path: parent === '.' ? '' : parent, created: this.#options.created });
  }

  #own(host: string, entry: TarEntry, link: boolean): void {
    const { owner } = this.#options;
    (link ? lchownSync : chownSync)(host, owner?.uid ?? entry.header.uid, owner?.gid ?? entry.header.gid);
  }

  /** Removes what is at `relative` in the layer unless `keepDirectory` and it is a directory. */
  #clear(relative: string, keepDirectory: boolean): boolean {
    const stats = lstatSync(this.#host(relative), { throwIfNoEntry: false });
    if (stats === undefined) return false;
    if (keepDirectory && stats.isDirectory()) return true;
    rmSync(this.#host(relative), { recursive: true, force: true });
    return false;
  }

  async write(entry: TarEntry): Promise<void> {
    const { header } = entry;
    const { what } = this.#options;
    if (header.sparse !== undefined) {
      throw new CaissonError({ code: 'ERR_LAYER_UNSUPPORTED', message: `${what}: entry ${JSON.stringify(header.name)} is a GNU sparse file, which ADD does not unpack`, hint: 'Re-create the archive without --sparse, or ADD --unpack=false and unpack it in a RUN step.' });
    }
    const path = cleanEntryPath({ name: header.name, what });
    if (path === '' && header.kind !== 'directory') return;
    const relative = this.#resolve(header.name, path);
    const host = this.#host(relative);
    const mode = header.mode & 0o7777;
    switch (header.kind) {
      case 'directory': {
        if (relative === '') return; // the rootfs root keeps its own metadata
        this.#parents(relative);
        if (!this.#clear(relative, true)) {
          mkdirSync(host);
          this.#options.created.push(relative);
        }
        this.#own(host, entry, false);
        chmodSync(host, mode);
        this.#options.times.set(relative, header.mtime);
        break;
      }
      case 'file': {
        this.#parents(relative);
        this.#clear(relative, false);
        await pipeline(entry.content(), createWriteStream(host, { flags: 'wx', mode: 0o600 }));
        this.#own(host, entry, false);
        chmodSync(host, mode);
        utimesSync(host, header.mtime, header.mtime);
        break;
      }
      case 'symlink': {
        if (!header.linkname.startsWith('/') && posix.normalize(posix.join(posix.dirname(path), header.linkname)).split('/')[0] === '..') {
          throw unsafe(what, header.name, `is a symlink to ${JSON.stringify(header.linkname)}, which points above the destination`);
        }
        this.#parents(relative);
        this.#clear(relative, false);
        symlinkSync(header.linkname, host);
        this.#own(host, entry, true);
        lutimesSync(host, header.mtime, header.mtime);
        break;
      }
      case 'hardlink': {
        const linkPath = cleanEntryPath({ name: header.linkname, what });
        const source = this.#resolve(header.linkname, linkPath);
        const stats = linkPath === '' ? undefined : lstatSync(this.#host(source), { throwIfNoEntry: false });
        if (stats === undefined || stats.isDirectory()) {
          throw new CaissonError({ code: 'ERR_LAYER_INVALID', message: `${what}: entry ${JSON.stringify(header.name)} is a hardlink to ${JSON.stringify(header.linkname)}, which is not a file the archive holds`, hint: 'A hardlink must follow the entry it links to in the same archive.' });
        }
        if (source === relative) return;
        this.#parents(relative);
        this.#clear(relative, false);
        linkSync(this.#host(source), host);
        return;
      }
      case 'char':
      case 'block':
      case 'fifo': {
        if (!this.#privileged || (header.kind === 'char' && header.devmajor === 0 && header.devminor === 0)) {
          // A 0/0 character device would read as an overlay whiteout in the layer.
          this.#options.logger.warn(`${what}: ${header.kind} device ${JSON.stringify(header.name)} left out (${this.#privileged ? 'a 0/0 device is a whiteout in a layer' : 'making device nodes needs root'})`);
          return;
        }
        this.#parents(relative);
        this.#clear(relative, false);
        await makeNode({ host, kind: header.kind, major: header.devmajor, minor: header.devminor, what });
        this.#own(host, entry, false);
        chmodSync(host, mode);
        utimesSync(host, header.mtime, header.mtime);
        break;
      }
    }
    const xattrs = new Map([...header.xattrs].filter(([name]) => !name.startsWith('trusted.overlay.')));
    if (xattrs.size > 0) this.#xattrs.push({ path: resolve(host), xattrs });
  }

  /** Extended attributes last (best effort, as BuildKit does). */
  async finish(): Promise<void> {
    if (this.#xattrs.length === 0) return;
    try {
      const refused = await writeXattrs({ assignments: this.#xattrs, what: this.#options.what });
      for (const complaint of refused) this.#options.logger.warn(`${this.#options.what}: extended attribute not set: ${complaint}`);
    } catch (error) {
      this.#options.logger.warn(`${this.#options.what}: extended attributes not set: ${(error as Error).message}`);
    }
  }
}

function makeNode(options: { readonly host: string; readonly kind: 'char' | 'block' | 'fifo'; readonly major: number; readonly minor: number; readonly what: string }): Promise<void> {
  const args = options.kind === 'fifo' ? [options.host, 'p'] : [options.host, options.kind === 'char' ? 'c' : 'b', String(options.major), String(options.minor)];
  return new Promise((resolve, reject) => {
    const child = process.getBuiltinModule('node:child_process').spawn('mknod', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new CaissonError({ code: 'ERR_LAYER_UNSUPPORTED', message: `${options.what}: mknod ${args.join(' ')} failed: ${stderr.trim() || `exit ${code}`}`, hint: 'The layer directory cannot hold device nodes here.' }));
    });
  });
}

/**
 * Unpacks `file` into `directory` when it is a tar archive (its first header parses after
 * decompression); returns false, having written nothing, when it is not one.
 */
export async function unpackArchive(options: UnpackArchiveOptions): Promise<boolean> {
  const compression = sniffArchive(await readHead(options.file));
  const stream = decompress({ file: options.file, what: options.what, compression });
  try {
    const entries = readTar(stream.chunks, options.what);
    let first: IteratorResult<TarEntry>;
    try {
      first = await entries.next();
    } catch (error) {
      // A missing decompressor is the machine's problem, not a sign the file is no archive.
      if (isCaissonError(error) && error.code === 'ERR_BUILD_STEP') throw error;
      return false;
    }
    if (first.done === true) return false;
    makeParents({ ...options, path: options.directory });
    const writer = new ArchiveWriter(options);
    await writer.write(first.value);
    for await (const entry of entries) await writer.write(entry);
    await writer.finish();
    return true;
  } finally {
    stream.close();
  }
}
