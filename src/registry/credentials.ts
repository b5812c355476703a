/**
 * Where registry credentials come from: the Docker `config.json` (`auths`, `credHelpers`,
 * `credsStore`) and `docker-credential-<name>` helpers, as the docker CLI, go-containerregistry's
 * `authn.DefaultKeychain` and kaniko resolve them; or a fixed map (flags, tests).
 *
 * Config file: `$DOCKER_CONFIG/config.json` when DOCKER_CONFIG is set, else `$HOME/.docker/config.json`;
 * when that file is absent, `<kanikoDir>/config.json` (kaniko's `/kaniko/.docker`). No file at all
 * means anonymous access everywhere.
 *
 * Helper protocol: https://github.com/docker/docker-credential-helpers#development
 * (`get`, the server URL on stdin, `{"ServerURL","Username","Secret"}` on stdout).
 */
import { constants as fsConstants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import { CaissonError } from '../errors.js';

export type Credential =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  /** An OAuth2 refresh token: config.json `identitytoken`, or a helper answering Username `<token>`. */
  | { readonly kind: 'identity-token'; readonly username: string; readonly token: string }
  /** A registry token sent as-is in `Authorization: Bearer` (config.json `registrytoken`). */
  | { readonly kind: 'bearer'; readonly token: string };

/** One method: the credential for a registry host ("docker.io", "ghcr.io", "127.0.0.1:5000"). */
export interface CredentialStore {
  get(registry: string): Promise<Credential>;
}

type HelperEnv = Readonly<Record<string, string | undefined>>;

export interface HelperRequest {
  /** The helper's name as config.json spells it: `ecr-login` runs `docker-credential-ecr-login`. */
  readonly helper: string;
  /** Written to the helper's stdin. */
  readonly serverUrl: string;
  /** The helper's environment; its PATH is where the helper is looked up. */
  readonly env: HelperEnv;
  readonly timeoutMs: number;
}

export interface HelperResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `docker-credential-<helper> get`. Rejects with an error whose `code` is `ENOENT` when the
 * helper is not on PATH and `ETIMEDOUT` when it outlives `timeoutMs`.
 */
export type HelperRunner = (request: HelperRequest) => Promise<HelperResult>;

export interface DockerConfigOptions {
  /** Reads DOCKER_CONFIG, HOME and PATH; also the helpers' environment. */
  readonly env: HelperEnv;
  /** Injectable for tests; default spawns `docker-credential-<name>` from the env's PATH. */
  readonly runHelper?: HelperRunner;
  /** Default `/kaniko/.docker`. */
  readonly kanikoDir?: string;
  /** How long a helper may run; default 30 s. */
  readonly helperTimeoutMs?: number;
}

const ANONYMOUS: Credential = { kind: 'anonymous' };
const DOCKER_HUB_HOSTS = ['index.docker.io', 'docker.io', 'registry-1.docker.io'] as const;
/** The key docker and go-containerregistry use for Docker Hub in `auths` and with helpers. */
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const MAX_HELPER_OUTPUT = 1024 * 1024;

/** `https://host:5000/v1/` → `host:5000`, lowercased (docker's ConvertToHostname). */
function registryHost(keyOrUrl: string): string {
  const withoutScheme = keyOrUrl.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  return (withoutScheme.split('/')[0] ?? '').toLowerCase();
}

function isDockerHub(host: string): boolean {
  return (DOCKER_HUB_HOSTS as readonly string[]).includes(host);
}

/**
 * The value in `entries` for `host`: an exact key first (`https://index.docker.io/v1/` for Docker
 * Hub), then the first key whose hostname matches (any Docker Hub alias for Docker Hub).
 */
function lookupByHost<T>(entries: ReadonlyMap<string, T>, host: string): T | undefined {
  const exact = entries.get(isDockerHub(host) ? DOCKER_HUB_KEY : host);
  if (exact !== undefined) return exact;
  const wanted: readonly string[] = isDockerHub(host) ? DOCKER_HUB_HOSTS : [host];
  for (const candidate of wanted) {
    for (const [key, value] of entries) {
      if (registryHost(key) === candidate) return value;
    }
  }
  return undefined;
}

/** A fixed map from registry (host or config-style key) to credential; anonymous otherwise. */
export function staticCredentials(map: ReadonlyMap<string, Credential>): CredentialStore {
  return {
    get: async (registry) => lookupByHost(map, registryHost(registry)) ?? ANONYMOUS,
  };
}

// --- config.json ---------------------------------------------------------------------------

interface AuthEntry {
  readonly auth?: string;
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
  readonly registrytoken?: string;
}

interface DockerConfig {
  readonly path: string;
  readonly auths: ReadonlyMap<string, AuthEntry>;
  readonly credHelpers: ReadonlyMap<string, string>;
  readonly credsStore: string | undefined;
}

const AUTH_FIELDS = ['auth', 'username', 'password', 'identitytoken', 'registrytoken'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(path: string, what: string): CaissonError {
  return new CaissonError({
    code: 'ERR_REGISTRY_AUTH',
    message: `Docker config ${path} ${what}`,
    hint: `fix the file (\`jq . ${path}\` shows where) or point DOCKER_CONFIG at a directory with a valid config.json`,
  });
}

function parseAuthEntry(path: string, key: string, value: unknown): AuthEntry {
  if (!isRecord(value)) throw malformed(path, `has an "auths" entry ${JSON.stringify(key)} that is not an object`);
  const entry: Record<string, string> = {};
  for (const field of AUTH_FIELDS) {
    const fieldValue = value[field];
    if (fieldValue === undefined || fieldValue === null) continue;
    if (typeof fieldValue !== 'string') {
      throw malformed(path, `has a non-string "${field}" in "auths" entry ${JSON.stringify(key)}`);
    }
    entry[field] = fieldValue;
  }
  return entry;
}

/** Validates the parts of config.json that matter here; other members are ignored. */
function parseDockerConfig(path: string, text: string): DockerConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The SyntaxError quotes the file's text, which may hold secrets: neither message nor cause.
    throw malformed(path, 'is not valid JSON');
  }
  if (!isRecord(json)) throw malformed(path, 'is not a JSON object');
  const auths = new Map<string, AuthEntry>();
  if (json.auths !== undefined && json.auths !== null) {
    if (!isRecord(json.auths)) throw malformed(path, 'has an "auths" member that is not an object');
    for (const [key, value] of Object.entries(json.auths)) auths.set(key, parseAuthEntry(path, key, value));
  }
  const credHelpers = new Map<string, string>();
  if (json.credHelpers !== undefined && json.credHelpers !== null) {
    if (!isRecord(json.credHelpers)) throw malformed(path, 'has a "credHelpers" member that is not an object');
    for (const [key, value] of Object.entries(json.credHelpers)) {
      if (typeof value !== 'string') throw malformed(path, `has a non-string "credHelpers" entry ${JSON.stringify(key)}`);
      if (value !== '') credHelpers.set(key, value);
    }
  }
  const store = json.credsStore;
  if (store !== undefined && store !== null && typeof store !== 'string') {
    throw malformed(path, 'has a "credsStore" member that is not a string');
  }
  return { path, auths, credHelpers, credsStore: typeof store === 'string' && store !== '' ? store : undefined };
}

function errnoCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** The candidate config.json paths in order (see the header comment). */
function dockerConfigPaths(options: { readonly env: HelperEnv; readonly kanikoDir?: string }): string[] {
  const { DOCKER_CONFIG: dockerConfig, HOME: home } = options.env;
  const paths: string[] = [];
  if (dockerConfig !== undefined && dockerConfig !== '') paths.push(join(dockerConfig, 'config.json'));
  else if (home !== undefined && home !== '') paths.push(join(home, '.docker', 'config.json'));
  const kaniko = join(options.kanikoDir ?? '/kaniko/.docker', 'config.json');
  if (!paths.includes(kaniko)) paths.push(kaniko);
  return paths;
}

/** The first config.json that exists, parsed; undefined when there is none. */
async function loadDockerConfig(paths: readonly string[]): Promise<DockerConfig | undefined> {
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new CaissonError({
        code: 'ERR_REGISTRY_AUTH',
        message: `cannot read Docker config ${path}: ${code ?? 'unknown error'}`,
        hint: 'make the file readable, or point DOCKER_CONFIG at another directory',
        cause: error,
      });
    }
    return parseDockerConfig(path, text);
  }
  return undefined;
}

/** An `auths` entry as a credential (precedence as go-containerregistry: registry token, identity token, basic). */
function entryCredential(config: DockerConfig, host: string, entry: AuthEntry): Credential {
  if (entry.registrytoken !== undefined && entry.registrytoken !== '') return { kind: 'bearer', token: entry.registrytoken };
  let username = entry.username ?? '';
  let password = entry.password ?? '';
  if (entry.auth !== undefined && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      throw new CaissonError({
        code: 'ERR_REGISTRY_AUTH',
        message: `Docker config ${config.path} has an invalid "auth" value for registry ${host}`,
        hint: '"auth" must be base64 of "username:password"; run `docker login` again or fix the entry',
      });
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (entry.identitytoken !== undefined && entry.identitytoken !== '') {
    return { kind: 'identity-token', username, token: entry.identitytoken };
  }
  if (username === '' && password === '') return ANONYMOUS;
  return { kind: 'basic', username, password };
}

// --- credential helpers --------------------------------------------------------------------

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** `program` in the PATH of `env` (not this process's PATH); empty PATH entries are skipped. */
async function findOnPath(program: string, env: HelperEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, program);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function errorWithCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function definedEnv(env: HelperEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) out[name] = value;
  return out;
}

/** The default HelperRunner: spawns `docker-credential-<helper> get` found on the env's PATH. */
export async function runCredentialHelper(request: HelperRequest): Promise<HelperResult> {
  const program = `docker-credential-${request.helper}`;
  const path = await findOnPath(program, request.env);
  if (path === undefined) throw errorWithCode(`${program} is not on PATH`, 'ENOENT');
  return new Promise<HelperResult>((resolve, reject) => {
    // node:child_process loads here, for a credential helper, not at every start.
    const child = process.getBuiltinModule('node:child_process').spawn(path, ['get'], { env: definedEnv(request.env), stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const collect = (chunks: Buffer[]) => {
      let size = 0;
      return (chunk: Buffer): void => {
        if (size >= MAX_HELPER_OUTPUT) return;
        size += chunk.length;
        chunks.push(chunk);
      };
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      child.stdout.destroy();
      child.stderr.destroy();
      reject(errorWithCode(`${program} timed out`, 'ETIMEDOUT'));
    }, request.timeoutMs);
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    child.stdin.on('error', () => {}); // EPIPE when the helper exits without reading: its status tells.
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const signalNumber = signal === null ? 0 : osConstants.signals[signal];
      resolve({
        status: code ?? 128 + signalNumber,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    child.stdin.end(request.serverUrl);
  });
}

interface HelperUse {
  readonly helper: string;
  /** Which config.json member named the helper, for hints. */
  readonly source: 'credHelpers' | 'credsStore';
}

interface HelperContext {
  readonly config: DockerConfig;
  readonly env: HelperEnv;
  readonly runHelper: HelperRunner;
  readonly timeoutMs: number;
}

function helperError(context: HelperContext, use: HelperUse, host: string, problem: string, hint: string, cause?: unknown): CaissonError {
  return new CaissonError({
    code: 'ERR_CREDENTIAL_HELPER',
    message: `credential helper docker-credential-${use.helper} ${problem} for registry ${host}`,
    hint: `${hint} (it is configured by "${use.source}" in ${context.config.path})`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Asks a helper; undefined when it has no credentials for the server. Never puts its output in errors. */
async function helperCredential(context: HelperContext, use: HelperUse, host: string): Promise<Credential | undefined> {
  const program = `docker-credential-${use.helper}`;
  if (!HELPER_NAME.test(use.helper)) {
    throw helperError(context, use, host, 'has an invalid name', 'a helper name may only contain letters, digits, ".", "_", "+" and "-"');
  }
  const serverUrl = isDockerHub(host) ? DOCKER_HUB_KEY : host;
  const rerun = `run \`echo ${serverUrl} | ${program} get\` to see what it says`;
  let result: HelperResult;
  try {
    result = await context.runHelper({ helper: use.helper, serverUrl, env: context.env, timeoutMs: context.timeoutMs });
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') {
      throw helperError(context, use, host, 'is not on PATH', `install ${program} into a directory on PATH, or remove it from the config`);
    }
    if (code === 'ETIMEDOUT') {
      throw helperError(context, use, host, `timed out after ${context.timeoutMs / 1000} s`, rerun);
    }
    // The error's own message is not shown: a custom runner may have put the helper's output in it.
    throw helperError(context, use, host, `could not be run (${code ?? 'unknown error'})`, rerun);
  }
  if (result.status !== 0) {
    if (/credentials not found/i.test(`${result.stdout}\n${result.stderr}`)) return undefined;
    throw helperError(context, use, host, `failed (exit status ${result.status})`, rerun);
  }
  let json: unknown;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    json = undefined;
  }
  if (!isRecord(json) || typeof json.Username !== 'string' || typeof json.Secret !== 'string') {
    throw helperError(context, use, host, 'answered with something other than credentials JSON', rerun);
  }
  if (json.Username === '<token>') return { kind: 'identity-token', username: '', token: json.Secret };
  if (json.Username === '' && json.Secret === '') return undefined;
  return { kind: 'basic', username: json.Username, password: json.Secret };
}

/**
 * Resolution for one host: `credHelpers` (matched like `auths` keys), else `credsStore`; a helper
 * without credentials for the host falls through to `auths`, then anonymous.
 */
async function resolveCredential(context: HelperContext, host: string): Promise<Credential> {
  const { config } = context;
  const named = lookupByHost(config.credHelpers, host);
  const use: HelperUse | undefined =
    named !== undefined
      ? { helper: named, source: 'credHelpers' }
      : config.credsStore !== undefined
        ? { helper: config.credsStore, source: 'credsStore' }
        : undefined;
  if (use !== undefined) {
    const fromHelper = await helperCredential(context, use, host);
    if (fromHelper !== undefined) return fromHelper;
  }
  const entry = lookupByHost(config.auths, host);
  return entry === undefined ? ANONYMOUS : entryCredential(config, host, entry);
}

/**
 * Credentials from the Docker config (see the header comment). The file is read once, on the first
 * `get`; each registry's answer is cached for the life of the store (failures are not cached).
 */
export function dockerConfigCredentials(options: DockerConfigOptions): CredentialStore {
  const paths = dockerConfigPaths(options);
  const runHelper = options.runHelper ?? runCredentialHelper;
  const timeoutMs = options.helperTimeoutMs ?? 30_000;
  const cache = new Map<string, Promise<Credential>>();
  let loaded: Promise<DockerConfig | undefined> | undefined;
  return {
    get(registry) {
      const host = registryHost(registry);
      const cached = cache.get(host);
      if (cached !== undefined) return cached;
      loaded ??= loadDockerConfig(paths);
      const pending = loaded.then((config) =>
        config === undefined ? ANONYMOUS : resolveCredential({ config, env: options.env, runHelper, timeoutMs }, host),
      );
      cache.set(host, pending);
      pending.catch(() => cache.delete(host));
      return pending;
    },
  };
}
