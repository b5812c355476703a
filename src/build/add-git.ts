/**
 * ADD <git repository> (BuildKit's git sources). A source is a git repository when it is
 * `user@host:path` (scp-like ssh), `ssh://…` or `git://…`, or an `http(s)://` URL whose path ends
 * in `.git`; and — caisson's addition, for local mirrors and tests — a `file://` URL whose path
 * ends in `.git` or that has a `#` fragment (BuildKit reads `file://` as a local path). The
 * fragment is `#<ref>[:<subdir>]`: a branch, a tag or a full commit sha (default: the remote's
 * HEAD), and a directory of the repository to add instead of its root.
 *
 * The system git fetches it into a scratch directory (spawned with an argument array, never a
 * shell): a branch or tag with `--depth 1`, a commit sha with `--depth 1` when the server allows
 * it, else the whole history, then a detached checkout; submodules too. `--checksum` must be the
 * checked-out commit (or an annotated tag's own object), a prefix of at least 7 hex digits
 * allowed. `.git` is removed unless `--keep-git-dir=true`. The files are then copied into the
 * destination directory by COPY's rules (--chown, --chmod, --exclude).
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, realpathSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import { CaissonError } from '../errors.js';
import { ContextTree } from './context-tree.js';
import { copyEntry, makeParents, type WriteOptions } from './copy-files.js';
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

/** A full commit id (sha1 or sha256), which is checked out rather than fetched as a ref. */
function isCommit(ref: string): boolean {
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(ref);
}

/** A git `--checksum`: hex, at least 7 digits. */
export function isGitChecksum(text: string): boolean {
  return /^[0-9a-f]{7,64}$/i.test(text);
}

interface GitRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function failure(options: { readonly what: string; readonly detail: string; readonly hint: string; readonly cause?: unknown }): CaissonError {
  return new CaissonError({ code: 'ERR_BUILD_STEP', message: `ADD ${options.what}: ${options.detail}`, hint: options.hint, cause: options.cause });
}

/** Runs git to completion; credentials in URLs are redacted from what it printed. */
function runGit(options: { readonly args: readonly string[]; readonly what: string }): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', options.args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? failure({ what: options.what, detail: 'git sources need the git program, which is not installed', hint: 'Install git (Debian package git).', cause: error }) : error);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr: stderr.replace(/(:\/\/)[^/@\s]*@/g, '$1***@') }));
  });
}

async function mustGit(options: { readonly args: readonly string[]; readonly what: string; readonly doing: string }): Promise<string> {
  const run = await runGit(options);
  if (run.code !== 0) {
    const said = run.stderr.trim().split('\n').filter((line) => line.trim() !== '').pop() ?? `exit ${run.code}`;
    throw failure({ what: options.what, detail: `${options.doing} failed: ${said}`, hint: 'Check the repository URL, the ref (branch, tag or full commit sha) and access to it from this machine.' });
  }
  return run.stdout.trim();
}

/**
 * Fetches and checks out the source into `directory` (an empty scratch directory); returns the
 * directory to copy (the checkout, or its subdirectory).
 */
export async function checkoutGit(options: { readonly source: GitSource; readonly directory: string; readonly checksum: string | undefined; readonly keepGitDir: boolean; readonly what: string }): Promise<string> {
  const { source, directory, what } = options;
  const git = (doing: string, ...args: string[]): Promise<string> => mustGit({ args: ['-C', directory, ...args], what, doing });
  await git('git init', 'init', '--quiet');
  await git('git remote add', 'remote', 'add', 'origin', source.remote);
  const ref = source.ref ?? 'HEAD';
  let checkout = 'FETCH_HEAD';
  if (isCommit(ref)) {
    const shallow = await runGit({ args: ['-C', directory, 'fetch', '--quiet', '--depth', '1', '--no-tags', 'origin', ref], what });
    if (shallow.code !== 0) await git(`fetching the history for commit ${ref}`, 'fetch', '--quiet', '--tags', 'origin');
    checkout = ref;
  } else {
    await git(`fetching ${source.ref === undefined ? 'the default branch' : `ref ${ref}`}`, 'fetch', '--quiet', '--depth', '1', '--no-tags', 'origin', ref);
  }
  await git(`checking out ${ref}`, 'checkout', '--quiet', '--detach', checkout);
  if (existsSync(join(directory, '.gitmodules'))) await git('updating submodules', 'submodule', 'update', '--quiet', '--init', '--recursive', '--depth', '1');
  if (options.checksum !== undefined) {
    const wanted = options.checksum.toLowerCase();
    const commit = await git('reading the commit', 'rev-parse', 'HEAD');
    const fetched = checkout === 'FETCH_HEAD' ? await git('reading the fetched ref', 'rev-parse', 'FETCH_HEAD') : commit;
    if (!commit.startsWith(wanted) && !fetched.startsWith(wanted)) {
      throw new CaissonError({ code: 'ERR_DIGEST_MISMATCH', message: `ADD ${what}: ${ref} is commit ${commit}, --checksum expects ${wanted}`, hint: 'The ref moved or the checksum is wrong; nothing was added.' });
    }
  }
  if (!options.keepGitDir) rmSync(join(directory, '.git'), { recursive: true, force: true });
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
