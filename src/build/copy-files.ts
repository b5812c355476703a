/**
 * The file work of COPY and ADD: matching sources (Go `filepath.Match` wildcards per path
 * component, .dockerignore applied), deciding the destination as BuildKit does (a trailing slash,
 * several sources or a wildcard, or an existing directory make it a directory; a source
 * directory's contents are copied, not the directory), and writing the result into the step's
 * layer (a LayerSink: a directory, or the layer's tar directly): parents copied up from the stage with their metadata (or made 0755), files with
 * their mode and mtime, owner from --chown (else 0:0 from the context, the source's own from a
 * stage or image), mode from --chmod.
 */
import { readlinkSync } from 'node:fs';
import { CaissonError, type SourceLocation } from '../errors.js';
import { applyChmod, type ChmodSpec, type InlineFile } from '../dockerfile/index.js';
import type { SourceTree } from './context-tree.js';
import type { LayerSink } from './layer-sink.js';
import type { LayerView } from './layer-view.js';
import { goMatch, hasGlob, type IgnoreMatcher } from './patterns/index.js';

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

export interface MatchedSource {
  /** Clean path in the tree, symlinks resolved. */
  readonly path: string;
  /** The path as matched (before resolving a final symlink): its base name names the copy. */
  readonly matched: string;
}

function notFound(options: { readonly source: string; readonly tree: SourceTree; readonly location: SourceLocation; readonly detail: string }): CaissonError {
  return new CaissonError({
    code: 'ERR_BUILD_CONTEXT',
    message: `"${options.source}": ${options.detail} in the ${options.tree.what}`,
    location: options.location,
    hint: options.tree.what === 'build context' ? 'Check the path (relative to the context root) and .dockerignore; the context is the directory given with -c or as the last argument.' : 'Check the path in that stage or image.',
  });
}

/** A COPY/ADD source's path elements, without empty and `.` ones. */
export function sourceParts(source: string): string[] {
  return source.split('/').filter((part) => part !== '' && part !== '.');
}

/** Every path a COPY source names, in order; a source naming nothing is an error. */
export function matchSources(options: { readonly tree: SourceTree; readonly source: string; readonly location: SourceLocation }): MatchedSource[] {
  const { tree, source, location } = options;
  const parts = sourceParts(source);
  let candidates = [''];
  for (const part of parts) {
    const next: string[] = [];
    for (const candidate of candidates) {
      if (!hasGlob(part)) {
        next.push(candidate === '' ? part : `${candidate}/${part}`);
        continue;
      }
      const directory = tree.resolve({ path: candidate, followFinal: true });
      const entry = directory === '' ? undefined : tree.lstat(directory);
      if (directory !== '' && entry?.stats.isDirectory() !== true) continue;
      for (const name of tree.readdir(directory)) {
        const path = candidate === '' ? name : `${candidate}/${name}`;
        if (goMatch({ pattern: part, name }) && !tree.excluded(path)) next.push(path);
      }
    }
    candidates = next;
  }
  const matches: MatchedSource[] = [];
  for (const matched of candidates) {
    const path = tree.resolve({ path: matched, followFinal: true });
    if (path !== '' && (tree.excluded(matched) || tree.lstat(path) === undefined)) continue;
    matches.push({ path, matched });
  }
  if (matches.length === 0) {
    throw notFound({ tree, source, location, detail: hasGlob(source) ? 'matches no files' : 'not found (or excluded by .dockerignore)' });
  }
  return matches;
}

export interface WriteOptions {
  /** Where the layer's entries go: a step's directory, or straight into its tar. */
  readonly sink: LayerSink;
  /** The stage as it is before this step (parents are copied up from it); empty for --link. */
  readonly view: LayerView | undefined;
  readonly owner: Owner | undefined;
  readonly chmod: ChmodSpec | undefined;
  /** Seconds since the epoch for directories this step creates and inline files. */
  readonly now: number;
}

/** ADD's archives and downloads, which write into the step's directory itself (`sink` writes there too). */
export interface DirectoryWrite extends WriteOptions {
  readonly layer: string;
}

/** Mkdir -p of `path` (clean, relative) inside the layer, each new parent copied up from the view or made fresh. */
export function makeParents(options: WriteOptions & { readonly path: string; readonly created: string[] }): void {
  const parts = options.path === '' ? [] : options.path.split('/');
  for (let i = 1; i <= parts.length; i += 1) {
    const relative = parts.slice(0, i).join('/');
    if (options.sink.kind(relative) !== undefined) continue;
    const below = options.view?.lstat(relative);
    if (below !== undefined && !below.stats.isDirectory()) {
      throw new CaissonError({ code: 'ERR_BUILD_STEP', message: `/${relative} is not a directory in the stage`, hint: 'The destination path runs through a file; choose another destination.' });
    }
    const stats = below?.stats;
    options.sink.mkdir(relative, { mode: stats === undefined ? 0o755 : stats.mode & 0o7777, uid: stats?.uid ?? options.owner?.uid ?? 0, gid: stats?.gid ?? options.owner?.gid ?? 0 });
    options.created.push(relative);
  }
}

/** The mtime in seconds of `relative` in the stage, if it has it. */
function viewSeconds(view: LayerView | undefined, relative: string): number | undefined {
  const mtimeMs = view?.lstat(relative)?.stats.mtimeMs;
  return mtimeMs === undefined ? undefined : mtimeMs / 1000;
}

/** Sets directory times last (creating children changes them), deepest first. */
export function settleDirectories(options: { readonly sink: LayerSink; readonly view: LayerView | undefined; readonly created: readonly string[]; readonly times: ReadonlyMap<string, number>; readonly now: number }): void {
  const ordered = [...options.created].sort((a, b) => b.split('/').length - a.split('/').length);
  for (const relative of ordered) {
    const seconds = options.times.get(relative) ?? viewSeconds(options.view, relative) ?? options.now;
    options.sink.setTime(relative, seconds);
  }
}

interface TreeCopy extends WriteOptions {
  readonly tree: SourceTree;
  readonly exclude: IgnoreMatcher | undefined;
  readonly created: string[];
  /** Directory mtimes (seconds) to set at the end, by layer-relative path. */
  readonly times: Map<string, number>;
}

function mode(options: TreeCopy, original: number, isDirectory: boolean): number {
  return options.chmod === undefined ? original & 0o7777 : applyChmod({ spec: options.chmod, mode: original, isDirectory });
}

/**
 * Whether .dockerignore leaves `source` out of the tree: it matches, and it is not a directory a
 * `!` pattern may bring back something below.
 */
export function leftOut(tree: SourceTree, source: string): boolean {
  return tree.excluded(source) && !(tree.lstat(source)?.stats.isDirectory() === true && tree.mayIncludeChildren(source));
}

/**
 * The children of a directory `source` that a copy brings: those .dockerignore leaves out
 * ({@link leftOut}) are not, and --exclude applies to their path relative to the copied source.
 */
export function copiedChildren(options: { readonly tree: SourceTree; readonly exclude: IgnoreMatcher | undefined; readonly source: string; readonly relative: string }): { readonly name: string; readonly source: string; readonly relative: string }[] {
  const { tree } = options;
  return tree.readdir(options.source).flatMap((name) => {
    const source = options.source === '' ? name : `${options.source}/${name}`;
    const relative = options.relative === '' ? name : `${options.relative}/${name}`;
    if (leftOut(tree, source)) return [];
    return options.exclude?.matches(relative) === true ? [] : [{ name, source, relative }];
  });
}

/** Copies one entry of the tree (recursively for directories) to `target` (layer-relative). */
export function copyEntry(options: TreeCopy & { readonly source: string; readonly target: string; readonly relative: string }): void {
  const entry = options.tree.lstat(options.source);
  if (entry === undefined) return;
  const { stats } = entry;
  const { sink, target } = options;
  const uid = options.owner?.uid ?? (options.tree.keepsOwners ? stats.uid : 0);
  const gid = options.owner?.gid ?? (options.tree.keepsOwners ? stats.gid : 0);
  const seconds = stats.mtimeMs / 1000;
  if (stats.isDirectory()) {
    const meta = { mode: mode(options, stats.mode, true), uid, gid };
    if (sink.kind(target) !== 'directory') {
      sink.mkdir(target, meta);
      options.created.push(target);
    } else {
      sink.setMeta(target, meta);
    }
    options.times.set(target, seconds);
    for (const { name, source, relative } of copiedChildren(options)) {
      copyEntry({ ...options, source, target: target === '' ? name : `${target}/${name}`, relative });
    }
    return;
  }
  // A later source of the same COPY wins over an earlier one of the same name.
  if (sink.kind(target) !== undefined) sink.remove(target);
  if (stats.isSymbolicLink()) {
    sink.symlink(target, { target: readlinkSync(entry.hostPath), uid, gid, seconds });
    return;
  }
  if (!stats.isFile()) return;
  sink.copyFile(target, { source: entry.hostPath, size: stats.size, meta: { mode: mode(options, stats.mode, false), uid, gid }, seconds });
}

/** Writes a heredoc source as a file (mode 0644 unless --chmod). */
export function writeInline(options: WriteOptions & { readonly file: InlineFile; readonly target: string }): void {
  const mode = options.chmod === undefined ? 0o644 : applyChmod({ spec: options.chmod, mode: 0o644, isDirectory: false });
  options.sink.writeFile(options.target, { content: Buffer.from(options.file.content), meta: { mode, uid: options.owner?.uid ?? 0, gid: options.owner?.gid ?? 0 }, seconds: options.now });
}
