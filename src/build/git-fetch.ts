/**
 * Fetching a git ref or commit with the system `git` (spawned with an argument array, never a
 * shell), shared by git build contexts (context-git.ts) and ADD of a git repository (add-git.ts).
 * The directory is `git init`ed; a `#ref` is looked up with `git ls-remote` (exact, refs/heads/…,
 * refs/tags/…): a branch or tag is fetched with --depth 1; a commit sha is fetched alone when the
 * server allows it, else with every branch and tag; no ref means the remote's HEAD. Credentials
 * go to git as an Authorization header through GIT_CONFIG_* variables — never on its command line,
 * in .git/config or in a message; the URL is never stored in .git (FETCH_HEAD is removed).
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CaissonError, type ErrorCode } from '../errors.js';
import { redactSecrets } from '../registry/index.js';

export type GitEnv = Readonly<Record<string, string | undefined>>;

export interface GitCredentials {
  readonly username: string;
  readonly password: string;
}

export interface GitFetchOptions {
  /** What git fetches from, without credentials. */
  readonly url: string;
  /** Branch, tag, full ref name or commit sha; undefined for the remote's HEAD. */
  readonly ref: string | undefined;
  /** kaniko's `#ref#commit`: a commit in ref's history, checked out after fetching ref. */
  readonly commit?: string | undefined;
  /** An existing, empty directory the repository is fetched into. */
  readonly dir: string;
  /** Keep `.git` in `dir` (else it is removed after the checkout). */
  readonly keepGitDir: boolean;
  /** Also check out submodules (`git submodule update --init --recursive --depth 1`). */
  readonly submodules: boolean;
  readonly credentials: GitCredentials | undefined;
  /** The environment git runs with (GIT_DIR and the like are left out). */
  readonly env: GitEnv;
  readonly signal?: AbortSignal | undefined;
  /** Starts every message: `build context git:https://host/repo#main`, `ADD https://…`. */
  readonly what: string;
  /** The code of a failed git run (and of git missing). */
  readonly failureCode: ErrorCode;
  /** The code when the ref or commit is not in the repository. */
  readonly missingCode: ErrorCode;
  /** The hint of a failed git run. */
  readonly failureHint: string;
}

export interface FetchedGit {
  /** The commit checked out (full sha). */
  readonly commit: string;
  /** The object the ref names: an annotated tag's own id, else the commit. */
  readonly fetched: string;
}

const SHA = /^[0-9a-f]{4,64}$/i;
const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

interface GitRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment git runs with: the caller's, without repository overrides, credentials as a header. */
function gitEnv(options: GitFetchOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.env)) if (value !== undefined && !/^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|NAMESPACE|CEILING_DIRECTORIES)$/.test(name)) env[name] = value;
  env['GIT_TERMINAL_PROMPT'] = '0';
  env['LC_ALL'] = 'C';
  if (env['GIT_SSH_COMMAND'] === undefined && env['GIT_SSH'] === undefined) env['GIT_SSH_COMMAND'] = 'ssh -o BatchMode=yes';
  const { credentials } = options;
  if (credentials !== undefined) {
    // An Authorization header for this origin only, passed in the environment (not argv, not .git/config).
    const index = Number(env['GIT_CONFIG_COUNT'] ?? '0') || 0;
    env['GIT_CONFIG_COUNT'] = String(index + 1);
    env[`GIT_CONFIG_KEY_${index}`] = `http.${new URL(options.url).origin}/.extraHeader`;
    env[`GIT_CONFIG_VALUE_${index}`] = `Authorization: Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  }
  return env;
}

/** One fetch's git runs: where, with which environment; nothing lives in the module. */
class GitRunner {
  readonly #options: GitFetchOptions;
  readonly #env: Record<string, string>;

  constructor(options: GitFetchOptions) {
    this.#options = options;
    this.#env = gitEnv(options);
  }

  /** Text from git with every credential removed. */
  #clean(text: string): string {
    let clean = redactSecrets(text).replace(/(:\/\/)[^/@\s]*@/g, '$1***@');
    const { credentials } = this.#options;
    for (const secret of [credentials?.password, credentials?.username]) if (secret !== undefined && secret.length >= 3) clean = clean.split(secret).join('***');
    return clean;
  }

  run(args: readonly string[]): Promise<GitRun> {
    const { what, signal, failureCode } = this.#options;
    return new Promise((resolve, reject) => {
      const child = process.getBuiltinModule('node:child_process').spawn('git', args, { cwd: this.#options.dir, env: this.#env, stdio: ['ignore', 'pipe', 'pipe'], ...(signal === undefined ? {} : { signal }) });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') {
          reject(new CaissonError({ code: failureCode, message: `${what}: the git program is not installed`, hint: 'Install git (Debian package git), or clone the repository yourself.', cause: error }));
        } else if (error.name === 'AbortError') {
          reject(new CaissonError({ code: 'ERR_BUILD_INTERRUPTED', message: `${what}: interrupted while git ${args[0] ?? ''} ran`, cause: error }));
        } else reject(error);
      });
      child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: this.#clean(Buffer.concat(err).toString('utf8')) }));
    });
  }

  failed(step: string, result: GitRun): CaissonError {
    const lines = result.stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('hint:'));
    const fatal = lines.filter((line) => /^(?:fatal|error):/.test(line));
    const detail = (fatal.length > 0 ? fatal : lines).slice(-2).join('; ') || `exit ${result.code}`;
    return new CaissonError({ code: this.#options.failureCode, message: `${this.#options.what}: git ${step} failed: ${detail}`, hint: this.#options.failureHint });
  }

  missing(detail: string): CaissonError {
    return new CaissonError({ code: this.#options.missingCode, message: `${this.#options.what}: ${detail}`, hint: 'Name a branch, a tag, a full ref (refs/pull/1/head) or a commit of the repository after #.' });
  }

  async must(step: string, args: readonly string[]): Promise<GitRun> {
    const result = await this.run(args);
    if (result.code !== 0) throw this.failed(step, result);
    return result;
  }
}

/** The remote ref a `#ref` names (exact, refs/heads/…, refs/tags/…), from `git ls-remote`. */
async function resolveRemoteRef(git: GitRunner, url: string, ref: string): Promise<string | undefined> {
  const listing = await git.must('ls-remote', ['ls-remote', '--', url]);
  const names = new Set(listing.stdout.split('\n').map((line) => line.split('\t')[1] ?? '').filter((name) => name !== ''));
  return [ref, `refs/heads/${ref}`, `refs/tags/${ref}`].find((name) => names.has(name));
}

async function checkoutCommit(options: { readonly git: GitRunner; readonly url: string; readonly commit: string; readonly fetchAll: readonly string[] }): Promise<void> {
  const { git, url, commit } = options;
  if (FULL_SHA.test(commit) && (await git.run(['fetch', '-q', '--no-tags', '--depth', '1', '--', url, commit])).code === 0) {
    await git.must('checkout', ['checkout', '-q', '--detach', 'FETCH_HEAD']);
    return;
  }
  await git.must('fetch', ['fetch', '-q', '--', url, ...options.fetchAll]);
  const found = await git.run(['rev-parse', '-q', '--verify', `${commit}^{commit}`]);
  if (found.code !== 0) throw git.missing(`no commit ${commit} in the repository`);
  await git.must('checkout', ['checkout', '-q', '--detach', found.stdout.trim()]);
}

/** Fetches and checks out what `ref` (and `commit`) name into `dir`; returns the commit. */
export async function fetchGit(options: GitFetchOptions): Promise<FetchedGit> {
  const { url, ref, dir } = options;
  const git = new GitRunner(options);
  await git.must('init', ['init', '-q']);
  const everything = ['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'];
  let named: string | undefined;
  if (ref === undefined) {
    await git.must('fetch', ['fetch', '-q', '--no-tags', '--depth', '1', '--', url, 'HEAD']);
    await git.must('checkout', ['checkout', '-q', '--detach', 'FETCH_HEAD']);
  } else {
    const remote = await resolveRemoteRef(git, url, ref);
    if (remote === undefined) {
      if (!SHA.test(ref)) throw git.missing(`no branch, tag or ref "${ref}" in the repository`);
      await checkoutCommit({ git, url, commit: ref, fetchAll: everything });
    } else if (options.commit !== undefined) {
      await checkoutCommit({ git, url, commit: options.commit, fetchAll: [`+${remote}:refs/remotes/origin/fetched`] });
    } else if (remote.startsWith('refs/heads/')) {
      const branch = remote.slice('refs/heads/'.length);
      await git.must('fetch', ['fetch', '-q', '--no-tags', '--depth', '1', '--', url, `+${remote}:refs/remotes/origin/${branch}`]);
      await git.must('checkout', ['checkout', '-q', '-B', branch, `refs/remotes/origin/${branch}`]);
    } else {
      named = remote.startsWith('refs/tags/') ? remote : 'refs/remotes/origin/fetched';
      await git.must('fetch', ['fetch', '-q', '--no-tags', '--depth', '1', '--', url, `+${remote}:${named}`]);
      await git.must('checkout', ['checkout', '-q', '--detach', `${named}^{commit}`]);
    }
  }
  if (options.submodules && existsSync(join(dir, '.gitmodules'))) await git.must('submodule update', ['submodule', 'update', '--quiet', '--init', '--recursive', '--depth', '1']);
  const commit = (await git.must('rev-parse', ['rev-parse', 'HEAD'])).stdout.trim();
  const fetched = named === undefined ? commit : (await git.must('rev-parse', ['rev-parse', named])).stdout.trim();
  // FETCH_HEAD names the URL; the work tree may be copied into the image.
  await rm(join(dir, '.git', 'FETCH_HEAD'), { force: true });
  if (!options.keepGitDir) await rm(join(dir, '.git'), { recursive: true, force: true });
  return { commit, fetched };
}
