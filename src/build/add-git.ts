/**
 * ADD <git repository> (BuildKit's git sources). A source is a git repository when it is
 * `user@host:path` (scp-like ssh), `ssh://…` or `git://…`, or an `http(s)://` URL whose path ends
 * in `.git`; and — caisson's addition, for local mirrors and tests — a `file://` URL whose path
 * ends in `.git` or that has a `#` fragment (BuildKit reads `file://` as a local path). The
 * fragment is `#<ref>[:<subdir>]`: a branch, a tag or a full commit sha (default: the remote's
 * HEAD), and a directory of the repository to add instead of its root.
 *
 * git-fetch.ts fetches it into a scratch directory (a branch or tag with `--depth 1`, a commit sha
 * alone when the server allows it, else the whole history), submodules too. `--checksum` must be the
 * checked-out commit (or an annotated tag's own object), a prefix of at least 7 hex digits
 * allowed. `.git` is removed unless `--keep-git-dir=true`. The files are then copied into the
 * destination directory by COPY's rules (--chown, --chmod, --exclude).
 */
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { join, sep } from 'node:path';
import { CaissonError } from '../errors.js';
import { ContextTree } from './context-tree.js';
import { copyEntry, makeParents, type WriteOptions } from './copy-files.js';
import { fetchGit } from './git-fetch.js';
import { IgnoreMatcher } from './patterns/index.js';

export interface GitSource {
  /** The repository URL, without the fragment. */
  readonly remote: string;
  /** Branch, tag or commit; undefined for the remote's HEAD. */
  readonly ref: string | undefined;
  /** Clean relative directory of the repository to add; '' for its root. */
  readonly subdir: string;
}

const SCP_LIKE = /^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:/;

function urlPath(remote: string): string {
  try {
    return new URL(remote).pathname;
  } catch {
    return '';
  }
}

function isGitRemote(remote: string, hasFragment: boolean): boolean {
  if (!remote.includes('://')) return SCP_LIKE.test(remote);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(remote)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'ssh':
    case 'git':
      return true;
    case 'http':
    case 'https':
      return urlPath(remote).endsWith('.git');
    case 'file':
      return urlPath(remote).endsWith('.git') || hasFragment;
    default:
      return false;
  }
}

/** The git source `source` names, or undefined when it is not one. */
export function parseGitSource(source: string): GitSource | undefined {
  const hash = source.indexOf('#');
  const remote = hash < 0 ? source : source.slice(0, hash);
  const fragment = hash < 0 ? undefined : source.slice(hash + 1);
  if (!isGitRemote(remote, fragment !== undefined)) return undefined;
  const colon = (fragment ?? '').indexOf(':');
  const ref = colon < 0 ? (fragment ?? '') : (fragment ?? '').slice(0, colon);
  const subdir = colon < 0 ? '' : (fragment ?? '').slice(colon + 1);
  return { remote, ref: ref === '' ? undefined : ref, subdir: subdir.split('/').filter((part) => part !== '' && part !== '.').join('/') };
}

/** The source as messages and history show it: userinfo and query of a URL redacted. */
export function redactGitSource(source: string): string {
  return source.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@').replace(/\?[^#]*/, '?***');
}

/** A git `--checksum`: hex, at least 7 digits. */
export function isGitChecksum(text: string): boolean {
  return /^[0-9a-f]{7,64}$/i.test(text);
}

/**
 * Fetches and checks out the source into `directory` (an empty scratch directory); returns the
 * directory to copy (the checkout, or its subdirectory).
 */
export async function checkoutGit(options: { readonly source: GitSource; readonly directory: string; readonly checksum: string | undefined; readonly keepGitDir: boolean; readonly what: string }): Promise<string> {
  const { source, directory, what } = options;
  const ref = source.ref ?? 'HEAD';
  const { commit, fetched } = await fetchGit({
    url: source.remote,
    ref: source.ref,
    dir: directory,
    keepGitDir: options.keepGitDir,
    submodules: true,
    credentials: undefined,
    env: process.env,
    what: `ADD ${what}`,
    failureCode: 'ERR_BUILD_STEP',
    missingCode: 'ERR_BUILD_STEP',
    failureHint: 'Check the repository URL, the ref (branch, tag or full commit sha) and access to it from this machine.',
  });
  if (options.checksum !== undefined) {
    const wanted = options.checksum.toLowerCase();
    if (!commit.startsWith(wanted) && !fetched.startsWith(wanted)) {
      throw new CaissonError({ code: 'ERR_DIGEST_MISMATCH', message: `ADD ${what}: ${ref} is commit ${commit}, --checksum expects ${wanted}`, hint: 'The ref moved or the checksum is wrong; nothing was added.' });
    }
  }
  if (source.subdir === '') return directory;
  const wanted = join(directory, source.subdir);
  const real = existsSync(wanted) ? realpathSync(wanted) : undefined;
  const root = realpathSync(directory);
  if (real === undefined || !(real === root || real.startsWith(`${root}${sep}`)) || !lstatSync(real).isDirectory()) {
    throw new CaissonError({ code: 'ERR_BUILD_CONTEXT', message: `ADD ${what}: "${source.subdir}" is not a directory of the repository at ${ref}`, hint: 'The part after ":" in the fragment names a directory of the repository.' });
  }
  return real;
}

/** Copies a checkout's contents into `directory` (layer-relative) of the layer. */
export function copyCheckout(options: WriteOptions & { readonly checkout: string; readonly directory: string; readonly exclude: IgnoreMatcher | undefined; readonly created: string[]; readonly times: Map<string, number> }): void {
  const tree = new ContextTree({ root: options.checkout, ignore: new IgnoreMatcher({ patterns: [] }) });
  makeParents({ ...options, path: options.directory });
  for (const name of tree.readdir('')) {
    if (options.exclude?.matches(name) === true) continue;
    copyEntry({ ...options, tree, source: name, target: options.directory === '' ? name : `${options.directory}/${name}`, relative: name });
  }
}
