/**
 * A build context from a git repository, fetched with the system `git` (spawned with an argument
 * array, never a shell). Accepted forms, as kaniko and Docker write them:
 *   git://host/org/repo[#…]          kaniko: fetched over https (http with GIT_PULL_METHOD=http)
 *   https://host/org/repo.git[#…]    http(s) URLs whose path ends in .git
 *   git@host:org/repo.git[#…], ssh://[user@]host/path[#…]
 *   git+https://…, git+http://…, git+ssh://…, git+file:///abs/repo[#…]  (git+file: local repositories)
 * The fragment is `#ref[:subdir]` (Docker/BuildKit) or kaniko's `#ref#commit`; ref is a branch, a
 * tag, a full ref name (refs/pull/1/head) or a commit sha. A branch or tag is fetched with
 * --depth 1; a commit is fetched alone when the server allows it, else with every branch and tag.
 * Credentials — userinfo in the URL, or kaniko's GIT_TOKEN / GIT_USERNAME + GIT_PASSWORD — go to
 * git as an Authorization header through GIT_CONFIG_* variables, never on its command line, in
 * .git/config, in a message or in the description (`https://***@host/…`).
 */
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CaissonError } from '../errors.js';
import { redactSecrets } from '../registry/index.js';

export interface GitContextSource {
  /** What git fetches from, without credentials. */
  readonly url: string;
  /** The URL as messages show it: userinfo with a secret becomes `***`. */
  readonly shown: string;
  readonly ref: string | undefined;
  /** kaniko's `#ref#commit`: checked out after fetching ref. */
  readonly commit: string | undefined;
  readonly subdir: string | undefined;
  readonly credentials: { readonly username: string; readonly password: string } | undefined;
}

export interface FetchedRepository {
  /** The work tree: `<scratch>/git`. */
  readonly dir: string;
  /** The commit checked out (full sha). */
  readonly commit: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const SHA = /^[0-9a-f]{4,64}$/i;
const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

function urlOf(base: string, env: Env): string | undefined {
  if (base.startsWith('git://')) {
    const method = env['GIT_PULL_METHOD'] === 'http' ? 'http' : 'https';
    return `${method}://${base.slice('git://'.length)}`;
  }
  if (/^git\+(?:https?|ssh|file):\/\//i.test(base)) return base.slice('git+'.length);
  if (/^ssh:\/\//i.test(base)) return base;
  if (/^[A-Za-z0-9_][\w.-]*@[\w.-]+:/.test(base) && !base.includes('://')) return base;
  if (/^https?:\/\//i.test(base)) {
    try {
      return /\.git\/?$/.test(new URL(base).pathname) ? base : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function credentialsOf(url: URL, env: Env): GitContextSource['credentials'] {
  if (url.username !== '' || url.password !== '') return { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  const token = env['GIT_TOKEN'];
  if (token !== undefined && token !== '') return { username: token, password: '' };
  const username = env['GIT_USERNAME'] ?? '';
  const password = env['GIT_PASSWORD'] ?? '';
  return username === '' && password === '' ? undefined : { username, password };
}

function badSpec(shown: string, detail: string): CaissonError {
  return new CaissonError({ code: 'ERR_USAGE', message: `build context ${shown}: ${detail}`, hint: 'Write REPO[#REF[:SUBDIR]], e.g. git://github.com/org/repo#main:docker or git+file:///srv/repo.git#v1.2.0' });
}

/** The git source a context spec names, or undefined when it is not a git URL. */
export function parseGitSpec(options: { readonly spec: string; readonly env: Env }): GitContextSource | undefined {
  const hash = options.spec.indexOf('#');
  const base = hash < 0 ? options.spec : options.spec.slice(0, hash);
  const fragment = hash < 0 ? '' : options.spec.slice(hash + 1);
  let url = urlOf(base, options.env);
  if (url === undefined) return undefined;
  let shown = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*:[^/@]*@/i, '$1***@');
  let credentials: GitContextSource['credentials'];
  if (/^https?:\/\//i.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badSpec(redactSecrets(url), 'not a valid URL');
    }
    const hadUserinfo = parsed.username !== '' || parsed.password !== '';
    credentials = credentialsOf(parsed, options.env);
    parsed.username = '';
    parsed.password = '';
    url = parsed.href;
    shown = hadUserinfo ? url.replace(/^(https?:\/\/)/i, '$1***@') : url;
  }
  const colon = fragment.indexOf(':');
  const refPart = colon < 0 ? fragment : fragment.slice(0, colon);
  const subdir = colon < 0 || fragment.slice(colon + 1) === '' ? undefined : fragment.slice(colon + 1);
  const [refText = '', commitText = '', ...extra] = refPart.split('#');
  if (extra.length > 0) throw badSpec(shown, `"#${fragment}" has more than two # parts`);
  const ref = refText === '' ? undefined : refText;
  const commit = commitText === '' ? undefined : commitText;
  // A ref reaches git's command line after `--`, but it is still checked: no options, no spaces.
  if (ref !== undefined && (ref.startsWith('-') || !/^[\w./@{}^~+-]+$/.test(ref))) throw badSpec(shown, `"${ref}" is not a branch, tag or commit`);
  if (commit !== undefined && !SHA.test(commit)) throw badSpec(shown, `"${commit}" after the second # is not a commit sha`);
  if (commit !== undefined && ref === undefined) throw badSpec(shown, 'a commit after the second # needs a ref before it (#REF#COMMIT)');
  return { url, shown, ref, commit, subdir, credentials };
}

interface GitRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A clone's state: where, from what, with which environment; nothing lives in the module. */
class GitFetch {
  readonly #source: GitContextSource;
  readonly #dir: string;
  readonly #env: Record<string, string>;
  readonly #signal: AbortSignal | undefined;

  constructor(options: { readonly source: GitContextSource; readonly dir: string; readonly env: Env; readonly signal: AbortSignal | undefined }) {
    this.#source = options.source;
    this.#dir = options.dir;
    this.#signal = options.signal;
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.env)) if (value !== undefined && !/^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|NAMESPACE|CEILING_DIRECTORIES)$/.test(name)) env[name] = value;
    env['GIT_TERMINAL_PROMPT'] = '0';
    env['LC_ALL'] = 'C';
    if (env['GIT_SSH_COMMAND'] === undefined && env['GIT_SSH'] === undefined) env['GIT_SSH_COMMAND'] = 'ssh -o BatchMode=yes';
    const credentials = options.source.credentials;
    if (credentials !== undefined) {
      // An Authorization header for this origin only, passed in the environment (not argv, not .git/config).
      const index = Number(env['GIT_CONFIG_COUNT'] ?? '0') || 0;
      env['GIT_CONFIG_COUNT'] = String(index + 1);
      env[`GIT_CONFIG_KEY_${index}`] = `http.${new URL(options.source.url).origin}/.extraHeader`;
      env[`GIT_CONFIG_VALUE_${index}`] = `Authorization: Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    this.#env = env;
  }

  get #what(): string {
    return `build context git:${this.#source.shown}${this.#source.ref === undefined ? '' : `#${this.#source.ref}`}`;
  }

  /** Text from git with every credential removed. */
  #clean(text: string): string {
    let clean = redactSecrets(text);
    const credentials = this.#source.credentials;
    for (const secret of [credentials?.password, credentials?.username]) if (secret !== undefined && secret.length >= 3) clean = clean.split(secret).join('***');
    return clean;
  }

  run(args: readonly string[]): Promise<GitRun> {
    return new Promise((resolve, reject) => {
      const child = spawn('git', args, { cwd: this.#dir, env: this.#env, stdio: ['ignore', 'pipe', 'pipe'], ...(this.#signal === undefined ? {} : { signal: this.#signal }) });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') {
          reject(new CaissonError({ code: 'ERR_BUILD_CONTEXT', message: `${this.#what}: the git program is not installed`, hint: 'Install git (Debian package git), or clone the repository yourself and give its directory.' }));
        } else if (error.name === 'AbortError') {
          reject(new CaissonError({ code: 'ERR_BUILD_INTERRUPTED', message: `${this.#what}: interrupted while git ${args[0] ?? ''} ran`, cause: error }));
        } else reject(error);
      });
      child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: this.#clean(Buffer.concat(err).toString('utf8')) }));
    });
  }

  failed(step: string, result: GitRun): CaissonError {
    const lines = result.stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('hint:'));
    const fatal = lines.filter((line) => /^(?:fatal|error):/.test(line));
    const detail = (fatal.length > 0 ? fatal : lines).slice(-2).join('; ') || `exit ${result.code}`;
    return new CaissonError({ code: 'ERR_BUILD_CONTEXT', message: `${this.#what}: git ${step} failed: ${detail}`, hint: 'Check the repository URL, that it is reachable from here, and its credentials (GIT_TOKEN, or GIT_USERNAME and GIT_PASSWORD).' });
  }

  missing(detail: string): CaissonError {
    return new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `${this.#what}: ${detail}`, hint: 'Name a branch, a tag, a full ref (refs/pull/1/head) or a commit of the repository after #.' });
  }

  async must(step: string, args: readonly string[]): Promise<GitRun> {
    const result = await this.run(args);
    if (result.code !== 0) throw this.failed(step, result);
    return result;
  }
}

/** The remote ref a `#ref` names (exact, refs/heads/…, refs/tags/…), from `git ls-remote`. */
async function resolveRemoteRef(git: GitFetch, source: GitContextSource, ref: string): Promise<string | undefined> {
  const listing = await git.must('ls-remote', ['ls-remote', '--', source.url]);
  const names = new Set(listing.stdout.split('\n').map((line) => line.split('\t')[1] ?? '').filter((name) => name !== ''));
  return [ref, `refs/heads/${ref}`, `refs/tags/${ref}`].find((name) => names.has(name));
}

async function checkoutCommit(git: GitFetch, source: GitContextSource, commit: string, fetchAll: readonly string[]): Promise<void> {
  if (FULL_SHA.test(commit) && (await git.run(['fetch', '-q', '--no-tags', '--depth', '1', '--', source.url, commit])).code === 0) {
    await git.must('checkout', ['checkout', '-q', '--detach', 'FETCH_HEAD']);
    return;
  }
  await git.must('fetch', ['fetch', '-q', '--', source.url, ...fetchAll]);
  const found = await git.run(['rev-parse', '-q', '--verify', `${commit}^{commit}`]);
  if (found.code !== 0) throw git.missing(`no commit ${commit} in the repository`);
  await git.must('checkout', ['checkout', '-q', '--detach', found.stdout.trim()]);
}

/** Fetches the repository into `<scratch>/git` and checks out what the fragment names. */
export async function fetchGitContext(options: { readonly source: GitContextSource; readonly scratch: string; readonly env: Env; readonly signal?: AbortSignal }): Promise<FetchedRepository> {
  const { source } = options;
  const dir = join(options.scratch, 'git');
  await mkdir(dir);
  try {
    const git = new GitFetch({ source, dir, env: options.env, signal: options.signal });
    await git.must('init', ['init', '-q']);
    const everything = ['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'];
    const ref = source.ref;
    if (ref === undefined) {
      await git.must('fetch', ['fetch', '-q', '--no-tags', '--depth', '1', '--', source.url, 'HEAD']);
      await git.must('checkout', ['checkout', '-q', '--detach', 'FETCH_HEAD']);
    } else {
      const remote = await resolveRemoteRef(git, source, ref);
      if (remote === undefined) {
        if (!SHA.test(ref)) throw git.missing(`no branch, tag or ref "${ref}" in the repository`);
        await checkoutCommit(git, source, ref, everything);
      } else if (source.commit !== undefined) {
        // kaniko's #ref#commit: the commit is somewhere in ref's history.
        await checkoutCommit(git, source, source.commit, [`+${remote}:refs/remotes/origin/fetched`]);
      } else if (remote.startsWith('refs/heads/')) {
        const branch = remote.slice('refs/heads/'.length);
        await git.must('fetch', ['fetch', '-q', '--no-tags', '--depth', '1', '--', source.url, `+${remote}:refs/remotes/origin/${branch}`]);
        await git.must('checkout', ['checkout', '-q', '-B', branch, `refs/remotes/origin/${branch}`]);
      } else {
        const local = remote.startsWith('refs/tags/') ? remote : 'refs/remotes/origin/fetched';
        await git.must('fetch', ['fetch', '-q', '--no-tags', '--depth', '1', '--', source.url, `+${remote}:${local}`]);
        await git.must('checkout', ['checkout', '-q', '--detach', `${local}^{commit}`]);
      }
    }
    const head = await git.must('rev-parse', ['rev-parse', 'HEAD']);
    // FETCH_HEAD names the URL; the work tree may be copied into the image.
    await rm(join(dir, '.git', 'FETCH_HEAD'), { force: true });
    return { dir, commit: head.stdout.trim() };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
