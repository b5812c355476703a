/**
 * Where COPY and ADD read from: the build context (a host directory with .dockerignore applied,
 * nothing reachable outside it), or another stage's or image's filesystem (a LayerView). Both
 * answer the same four questions, so the copy code does not care which it reads.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildJournal } from '../cache/index.js';
import { CaissonError } from '../errors.js';
import { compareBytes } from '../fs/index.js';
import type { LayerView, ViewEntry } from './layer-view.js';
import { IgnoreMatcher, parseIgnoreFile } from './patterns/index.js';
import { linkTarget, resolveInside } from './resolve-inside.js';

export interface SourceTree {
  /** Names the tree in messages: `build context`, `stage "builder"`. */
  readonly what: string;
  lstat(path: string): ViewEntry | undefined;
  readdir(path: string): string[];
  /** A clean relative path with symlinks resolved inside the tree (final one when `followFinal`). */
  resolve(options: { readonly path: string; readonly followFinal: boolean }): string;
  /** Left out by .dockerignore (the context) — such paths read as missing. */
  excluded(path: string): boolean;
  /** Whether an excluded directory may still hold included paths (a `!` pattern below it). */
  mayIncludeChildren(path: string): boolean;
  /**
   * Whether COPY keeps the entries' owners (without --chown): a stage's or image's files keep
   * theirs, as Docker (moby#38599) and BuildKit do; a context's are 0:0, the host's owners
   * meaning nothing in the image.
   */
  readonly keepsOwners: boolean;
}

/** The files whose `.dockerignore` rules apply: `<Dockerfile>.dockerignore` next to the Dockerfile first, else the context's. */
export function contextIgnoreFiles(options: { readonly dockerfile: string; readonly contextDir: string }): string[] {
  return [`${options.dockerfile}.dockerignore`, join(options.contextDir, '.dockerignore')];
}

/**
 * The `.dockerignore` rules of the first of {@link contextIgnoreFiles} that exists; none when
 * neither does. One that exists but cannot be read fails the build: going on without its rules
 * would put what it leaves out (secrets, often) into the image.
 */
export async function readContextIgnore(options: { readonly dockerfile: string; readonly contextDir: string; readonly journal?: BuildJournal }): Promise<IgnoreMatcher> {
  for (const file of contextIgnoreFiles(options)) {
    const text = await readFile(file, 'utf8').catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new CaissonError({ code: 'ERR_BUILD_CONTEXT', message: `${file}: cannot read it (${code ?? String(error)})`, hint: 'Make it a readable file, or remove it; without its rules the files it leaves out would go into the image.', cause: error });
    });
    options.journal?.file(file, text);
    if (text !== undefined) return new IgnoreMatcher({ patterns: parseIgnoreFile({ text, file }) });
  }
  return IgnoreMatcher.empty;
}

function outside(what: string, path: string, detail: string): CaissonError {
  return new CaissonError({
    code: 'ERR_BUILD_CONTEXT',
    message: `${path}: ${detail}`,
    hint: `COPY and ADD read only from inside the ${what}; move the file into it, or use another context (-c) or --build-context.`,
  });
}

export class ContextTree implements SourceTree {
  readonly what: string;
  readonly keepsOwners = false;
  readonly root: string;
  readonly #ignore: IgnoreMatcher;
  /** Told of every host path read: an entry's stat (and through it its content or link), a directory's listing. */
  readonly #journal: BuildJournal | undefined;

  constructor(options: { readonly root: string; readonly ignore: IgnoreMatcher; readonly name?: string; readonly journal?: BuildJournal }) {
    this.root = options.root;
    this.#ignore = options.ignore;
    this.#journal = options.journal;
    this.what = options.name === undefined ? 'build context' : `build context "${options.name}"`;
  }

  excluded(path: string): boolean {
    return path !== '' && this.#ignore.matches(path);
  }

  mayIncludeChildren(path: string): boolean {
    return this.#ignore.mayIncludeChildren(path);
  }

  lstat(path: string): ViewEntry | undefined {
    const hostPath = path === '' ? this.root : `${this.root}/${path}`;
    this.#journal?.read(hostPath);
    if (path === '') return { stats: lstatSync(this.root), hostPath };
    const stats = lstatSync(hostPath, { throwIfNoEntry: false });
    return stats === undefined ? undefined : { stats, hostPath };
  }

  readdir(path: string): string[] {
    const hostPath = path === '' ? this.root : join(this.root, path);
    this.#journal?.read(hostPath);
    return readdirSync(hostPath).sort(compareBytes);
  }

  resolve(options: { readonly path: string; readonly followFinal: boolean }): string {
    const refuse = (detail: string): CaissonError => outside(this.what, options.path, detail);
    return resolveInside({
      ...options,
      readLink: (relative) => linkTarget(this.lstat(relative)),
      aboveRoot: (links) => {
        throw refuse(links === 0 ? 'is outside the build context' : 'leads outside the build context through a symlink');
      },
      absolute: (target) => {
        throw refuse(`is a symlink to ${target}, which points outside the build context`);
      },
      loop: () => refuse('has too many levels of symbolic links'),
    });
  }
}

/** A stage's or image's filesystem as a source tree (nothing is ignored there). */
export function viewTree(options: { readonly view: LayerView; readonly what: string }): SourceTree {
  const { view } = options;
  return {
    what: options.what,
    lstat: (path) => view.lstat(path),
    readdir: (path) => view.readdir(path),
    resolve: (resolveOptions) => view.resolve(resolveOptions),
    excluded: () => false,
    mayIncludeChildren: () => true,
    keepsOwners: true,
  };
}
