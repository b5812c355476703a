/**
 * Paths inside a root filesystem seen from the host: each component is looked at with lstat and
 * symlinks are followed by hand with the root as "/" (absolute targets restart at the root, `..`
 * stops there), as continuity's RootPath and runc's securejoin do, so nothing resolves outside.
 * Optionally creates what is missing on the way (mount stubs, the working directory).
 */
import { chmodSync, lchownSync, lstatSync, mkdirSync, readlinkSync, writeFileSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { CaissonError } from '../errors.js';

/** securejoin's limit on symlinks followed while resolving one path. */
const MAX_LINKS = 255;

export interface RootEntry {
  /** Relative to the root, no symlinks, no `.` or `..`; '' for the root itself. */
  readonly rel: string;
  readonly stats: Stats;
}

/** Called around each entry `ensureInRoot` creates (the stub tracker listens). */
export interface CreateHooks {
  /** Before the entry is created in `parentRel` (an existing directory). */
  readonly beforeCreate: (parentRel: string) => void;
  readonly created: (rel: string) => void;
}

export interface EnsureOptions {
  readonly root: string;
  /** Absolute inside the root. */
  readonly path: string;
  /** What the last component must be made as when it is missing (the rest are directories). */
  readonly kind: 'directory' | 'file';
  /** Owner of created entries; default the caller (root). */
  readonly owner?: { readonly uid: number; readonly gid: number };
  readonly hooks?: CreateHooks;
  /** Names the purpose in messages (`mount target`, `working directory`). */
  readonly what: string;
}

/** The host path of `rel` under `root`. */
export function hostPath(root: string, rel: string): string {
  return rel === '' ? root : `${root}/${rel}`;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function components(path: string): string[] {
  return path.split('/').filter((name) => name !== '' && name !== '.');
}

function create(full: string, kind: 'directory' | 'file', owner: EnsureOptions['owner']): void {
  if (kind === 'directory') {
    mkdirSync(full, { mode: 0o755 });
    chmodSync(full, 0o755);
  } else {
    writeFileSync(full, '', { flag: 'wx', mode: 0o644 });
    chmodSync(full, 0o644);
  }
  if (owner !== undefined && (owner.uid !== 0 || owner.gid !== 0)) lchownSync(full, owner.uid, owner.gid);
}

interface WalkOptions {
  readonly root: string;
  readonly path: string;
  readonly what: string;
  readonly ensure?: Omit<EnsureOptions, 'root' | 'path' | 'what'>;
}

function walk(options: WalkOptions): RootEntry | undefined {
  const fail = (reason: string): CaissonError =>
    new CaissonError({ code: 'ERR_SANDBOX', message: `${options.what} ${options.path}: ${reason}`, hint: 'the path must resolve to a directory tree inside the rootfs' });
  const pending = components(posix.normalize(`/${options.path}`));
  const resolved: string[] = [];
  let links = 0;
  let stats = lstatSync(options.root);
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === '..') {
      resolved.pop();
      continue;
    }
    const full = hostPath(options.root, [...resolved, name].join('/'));
    let found = lstatOrUndefined(full);
    if (found === undefined) {
      if (options.ensure === undefined) return undefined;
      const kind = pending.length === 0 ? options.ensure.kind : 'directory';
      options.ensure.hooks?.beforeCreate(resolved.join('/'));
      create(full, kind, options.ensure.owner);
      options.ensure.hooks?.created([...resolved, name].join('/'));
      found = lstatSync(full);
    }
    if (found.isSymbolicLink()) {
      links += 1;
      if (links > MAX_LINKS) throw fail('too many levels of symbolic links');
      const target = readlinkSync(full);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...components(target));
      continue;
    }
    if (!found.isDirectory() && pending.length > 0) throw fail(`${[...resolved, name].join('/')} is not a directory`);
    resolved.push(name);
    stats = found;
  }
  return { rel: resolved.join('/'), stats };
}

/** `path` resolved inside `root`, or undefined when some component does not exist. */
export function lookupInRoot(options: { readonly root: string; readonly path: string; readonly what: string }): RootEntry | undefined {
  return walk(options);
}

/** `path` resolved inside `root`, creating missing components (directories, the last one of `kind`). */
export function ensureInRoot(options: EnsureOptions): RootEntry {
  const { root, path, what, ...ensure } = options;
  return walk({ root, path, what, ensure }) as RootEntry;
}
