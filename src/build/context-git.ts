/**
 * A build context from a git repository, fetched with the system `git` (spawned with an argument
 * array, never a shell). Accepted forms, as kaniko and Docker write them:
 *   git://host/org/repo[#…]          kaniko: fetched over https (http with GIT_PULL_METHOD=http)
 *   https://host/org/repo.git[#…]    http(s) URLs whose path ends in .git
 *   git@host:org/repo.git[#…], ssh://[user@]host/path[#…]
 *   git+https://…, git+http://…, git+ssh://…, git+file:///abs/repo[#…]  (git+file: local repositories)
 * The fragment is `#ref[:subdir]` (Docker/BuildKit) or kaniko's `#ref#commit`; ref is a branch, a
 * tag, a full ref name (refs/pull/1/head) or a commit sha, fetched by git-fetch.ts.
 * Credentials — userinfo in the URL, or kaniko's GIT_TOKEN / GIT_USERNAME + GIT_PASSWORD — go to
 * git as an Authorization header through GIT_CONFIG_* variables, never on its command line, in
 * .git/config, in a message or in the description (`https://***@host/…`).
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CaissonError } from '../errors.js';
import { redactSecrets } from '../registry/index.js';
import { fetchGit, type GitCredentials, type GitEnv } from './git-fetch.js';

export interface GitContextSource {
  /** What git fetches from, without credentials. */
  readonly url: string;
  /** The URL as messages show it: userinfo with a secret becomes `***`. */
  readonly shown: string;
  readonly ref: string | undefined;
  /** kaniko's `#ref#commit`: checked out after fetching ref. */
  readonly commit: string | undefined;
  readonly subdir: string | undefined;
  readonly credentials: GitCredentials | undefined;
}

/** kaniko's `--git branch=…,single-branch=…,recurse-submodules=…,insecure-skip-tls=…`. */
export interface GitContextOptions {
  /** The ref to fetch when the URL names none. */
  readonly branch?: string;
  readonly recurseSubmodules: boolean;
  /** Do not verify the server's TLS certificate (GIT_SSL_NO_VERIFY). */
  readonly insecureSkipTls: boolean;
}

const GIT_KEYS = ['branch', 'single-branch', 'recurse-submodules', 'insecure-skip-tls'] as const;

/** Parses `--git`'s value; `single-branch` is accepted and changes nothing: only the ref is ever fetched. */
export function parseGitOptions(text: string): GitContextOptions {
  const values = new Map<string, string>();
  for (const pair of text.split(',').filter((part) => part !== '')) {
    const equals = pair.indexOf('=');
    const key = equals < 0 ? pair : pair.slice(0, equals);
    if (!(GIT_KEYS as readonly string[]).includes(key) || equals < 0) {
      throw new CaissonError({ code: 'ERR_USAGE', message: `--git ${text}: "${pair}" is not KEY=VALUE with KEY one of ${GIT_KEYS.join(', ')}`, hint: 'e.g. --git branch=main,recurse-submodules=true' });
    }
    values.set(key, pair.slice(equals + 1));
  }
  const flag = (key: string): boolean => {
    const value = values.get(key) ?? 'false';
    if (value !== 'true' && value !== 'false') throw new CaissonError({ code: 'ERR_USAGE', message: `--git ${key}=${value}: expected true or false`, hint: `e.g. --git ${key}=true` });
    return value === 'true';
  };
  flag('single-branch');
  const branch = values.get('branch');
  return { ...(branch === undefined || branch === '' ? {} : { branch }), recurseSubmodules: flag('recurse-submodules'), insecureSkipTls: flag('insecure-skip-tls') };
}

export interface FetchedRepository {
  /** The work tree: `<scratch>/git`. */
  readonly dir: string;
  /** The commit checked out (full sha). */
  readonly commit: string;
}

type Env = GitEnv;

const SHA = /^[0-9a-f]{4,64}$/i;

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

/** Fetches the repository into `<scratch>/git` and checks out what the fragment names. */
export async function fetchGitContext(options: { readonly source: GitContextSource; readonly git?: GitContextOptions; readonly scratch: string; readonly env: Env; readonly signal?: AbortSignal }): Promise<FetchedRepository> {
  const { git } = options;
  const source = options.source.ref === undefined && git?.branch !== undefined ? { ...options.source, ref: git.branch } : options.source;
  const dir = join(options.scratch, 'git');
  await mkdir(dir);
  try {
    const { commit } = await fetchGit({
      url: source.url,
      ref: source.ref,
      commit: source.commit,
      dir,
      keepGitDir: true,
      submodules: git?.recurseSubmodules === true,
      credentials: source.credentials,
      env: git?.insecureSkipTls === true ? { ...options.env, GIT_SSL_NO_VERIFY: 'true' } : options.env,
      signal: options.signal,
      what: `build context git:${source.shown}${source.ref === undefined ? '' : `#${source.ref}`}`,
      failureCode: 'ERR_BUILD_CONTEXT',
      missingCode: 'ERR_INPUT_NOT_FOUND',
      failureHint: 'Check the repository URL, that it is reachable from here, and its credentials (GIT_TOKEN, or GIT_USERNAME and GIT_PASSWORD).',
    });
    return { dir, commit };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
