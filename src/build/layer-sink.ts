/**
 * Where COPY's file work goes. `DirectorySink` writes into a real directory (a step's upperdir,
 * a RUN --mount copy); `TarSink` only records what the directory would hold, and streams it as the
 * layer's tar straight from the sources: COPY never writes its files to disk and reads them back
 * (a later step that needs the layer's files extracts the blob, once). Both give the same tar for
 * the same calls: entries in tree order, numeric owners, modes as set, mtimes in whole seconds.
 */
import { chmodSync, chownSync, copyFileSync, lchownSync, lstatSync, lutimesSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareTreePaths, fileContent, type TarHeader, type TarInput } from '../fs/index.js';

export interface EntryMeta {
  /** Permission bits (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface LayerSink {
  /** What this step has written at `path` (clean, relative; '' is the layer's root). */
  kind(path: string): 'directory' | 'other' | undefined;
  /** A new directory (nothing may be at `path`). */
  mkdir(path: string, meta: EntryMeta): void;
  /** Owner, then mode, of an existing entry. */
  setMeta(path: string, meta: EntryMeta): void;
  /** The mtime (seconds) of an existing entry. */
  setTime(path: string, seconds: number): void;
  /** Removes `path` and everything under it. */
  remove(path: string): void;
  symlink(path: string, options: { readonly target: string; readonly uid: number; readonly gid: number; readonly seconds: number }): void;
  /** A copy of the host file `source` (`size` bytes now). */
  copyFile(path: string, options: { readonly source: string; readonly size: number; readonly meta: EntryMeta; readonly seconds: number }): void;
  writeFile(path: string, options: { readonly content: Buffer; readonly meta: EntryMeta; readonly seconds: number }): void;
}

/** Writes into `root` (made by the first mkdir of '' when it does not exist). */
export class DirectorySink implements LayerSink {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  #host(path: string): string {
    return path === '' ? this.root : join(this.root, path);
  }

  kind(path: string): 'directory' | 'other' | undefined {
    const stats = lstatSync(this.#host(path), { throwIfNoEntry: false });
    return stats === undefined ? undefined : stats.isDirectory() ? 'directory' : 'other';
  }

  mkdir(path: string, meta: EntryMeta): void {
    mkdirSync(this.#host(path));
    this.setMeta(path, meta);
  }

  setMeta(path: string, meta: EntryMeta): void {
    // Owner first: chown clears setuid and setgid, which the mode then sets.
    chownSync(this.#host(path), meta.uid, meta.gid);
    chmodSync(this.#host(path), meta.mode);
  }

  setTime(path: string, seconds: number): void {
    utimesSync(this.#host(path), seconds, seconds);
  }

  remove(path: string): void {
    rmSync(this.#host(path), { recursive: true, force: true });
  }

  symlink(path: string, options: { readonly target: string; readonly uid: number; readonly gid: number; readonly seconds: number }): void {
    const host = this.#host(path);
    symlinkSync(options.target, host);
    lchownSync(host, options.uid, options.gid);
    lutimesSync(host, options.seconds, options.seconds);
  }

  copyFile(path: string, options: { readonly source: string; readonly size: number; readonly meta: EntryMeta; readonly seconds: number }): void {
    copyFileSync(options.source, this.#host(path));
    this.setMeta(path, options.meta);
    this.setTime(path, options.seconds);
  }

  writeFile(path: string, options: { readonly content: Buffer; readonly meta: EntryMeta; readonly seconds: number }): void {
    writeFileSync(this.#host(path), options.content);
    this.setMeta(path, options.meta);
    this.setTime(path, options.seconds);
  }
}

type Recorded =
  | { readonly kind: 'directory'; meta: EntryMeta; seconds: number | undefined }
  | { readonly kind: 'symlink'; readonly target: string; meta: EntryMeta; seconds: number }
  | { readonly kind: 'file'; readonly source: string | Buffer; readonly size: number; meta: EntryMeta; seconds: number };

function exists(path: string): Error {
  return Object.assign(new Error(`EEXIST: file already exists, mkdir '${path}'`), { code: 'EEXIST' });
}

/** Records the layer; `entries` streams it as tar. */
export class TarSink implements LayerSink {
  readonly #entries = new Map<string, Recorded>();
  /** When the directories were made (seconds): their mtime unless set. */
  readonly #now: number;

  constructor(options: { readonly now: number }) {
    this.#now = options.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  kind(path: string): 'directory' | 'other' | undefined {
    if (path === '') return 'directory';
    const entry = this.#entries.get(path);
    return entry === undefined ? undefined : entry.kind === 'directory' ? 'directory' : 'other';
  }

  mkdir(path: string, meta: EntryMeta): void {
    if (path === '') return;
    if (this.#entries.has(path)) throw exists(path);
    this.#entries.set(path, { kind: 'directory', meta, seconds: undefined });
  }

  setMeta(path: string, meta: EntryMeta): void {
    const entry = this.#entries.get(path);
    if (entry !== undefined) entry.meta = meta;
  }

  setTime(path: string, seconds: number): void {
    const entry = this.#entries.get(path);
    if (entry !== undefined) entry.seconds = seconds;
  }

  remove(path: string): void {
    const inside = `${path}/`;
    for (const key of [...this.#entries.keys()]) if (key === path || key.startsWith(inside)) this.#entries.delete(key);
  }

  symlink(path: string, options: { readonly target: string; readonly uid: number; readonly gid: number; readonly seconds: number }): void {
    // A symlink's mode is 0777 whatever the umask, as the kernel makes it.
    this.#add(path, { kind: 'symlink', target: options.target, meta: { mode: 0o777, uid: options.uid, gid: options.gid }, seconds: options.seconds });
  }

  copyFile(path: string, options: { readonly source: string; readonly size: number; readonly meta: EntryMeta; readonly seconds: number }): void {
    this.#add(path, { kind: 'file', source: options.source, size: options.size, meta: options.meta, seconds: options.seconds });
  }

  writeFile(path: string, options: { readonly content: Buffer; readonly meta: EntryMeta; readonly seconds: number }): void {
    this.#add(path, { kind: 'file', source: options.content, size: options.content.length, meta: options.meta, seconds: options.seconds });
  }

  #add(path: string, entry: Recorded): void {
    if (this.#entries.has(path)) throw exists(path);
    this.#entries.set(path, entry);
  }

  /** The layer's tar entries in tree order; file contents are read when the writer gets to them. */
  *entries(options: { readonly clampMtime?: number }): Generator<TarInput> {
    for (const path of [...this.#entries.keys()].sort(compareTreePaths)) {
      const entry = this.#entries.get(path) as Recorded;
      const whole = Math.floor(entry.seconds ?? this.#now);
      const header: TarHeader = {
        name: entry.kind === 'directory' ? `${path}/` : path,
        kind: entry.kind,
        mode: entry.meta.mode & 0o7777,
        uid: entry.meta.uid,
        gid: entry.meta.gid,
        size: entry.kind === 'file' ? entry.size : 0,
        mtime: options.clampMtime !== undefined && whole > options.clampMtime ? options.clampMtime : whole,
        linkname: entry.kind === 'symlink' ? entry.target : '',
        devmajor: 0,
        devminor: 0,
        xattrs: new Map(),
      };
      if (entry.kind !== 'file') yield { header };
      else yield { header, content: typeof entry.source === 'string' ? fileContent(entry.source, entry.size) : entry.source };
    }
  }
}
