/**
 * Test helper (never a test itself): starts Debian's real `docker-registry` (CNCF distribution 2.8,
 * /usr/bin/docker-registry) on 127.0.0.1 with its own temp dir, in one of three setups:
 *
 * - 'plain': plain HTTP, no auth.
 * - 'tls-basic': HTTPS with a throwaway CA (made with `openssl`), HTTP Basic auth from an htpasswd
 *   file (`htpasswd -B`: distribution accepts only bcrypt entries).
 * - 'token': HTTPS as above and distribution's bearer-token auth, with a small Docker token server
 *   (plain HTTP on 127.0.0.1) defined here: GET with Basic credentials, and the OAuth2 POST form
 *   (grant_type=password / refresh_token). Tokens are ES256 JWTs carrying an `x5c` header with a
 *   signing certificate that the same CA signed; the registry's rootcertbundle is that CA.
 *
 * The token server runs in a worker thread of the test's process (this module, loaded again), so it
 * keeps answering while the test's own thread is blocked in spawnSync/execFileSync of a client such as
 * skopeo; an in-thread server would leave that client waiting for its token until it timed out.
 *
 * Every registry is stopped by its own stop(), which kills the one process it started (by its PID),
 * closes its token server and deletes its temp dir; a forgotten one is killed when node exits.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { X509Certificate, createPrivateKey, randomBytes, randomUUID, sign, timingSafeEqual } from 'node:crypto';
import { closeSync, openSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

/** 'tls-client-cert': TLS where the registry demands a client certificate signed by the test CA. */
export type RegistrySetup = 'plain' | 'tls-basic' | 'token' | 'tls-client-cert';

export interface RunningRegistry {
  readonly setup: RegistrySetup;
  /** "127.0.0.1:<port>" */
  readonly host: string;
  /** "http://127.0.0.1:<port>" or "https://127.0.0.1:<port>" */
  readonly url: string;
  /** PEM file of the CA that signed the registry's certificate (tls-basic, token). */
  readonly caFile?: string;
  readonly caPem?: string;
  /** tls-client-cert: a client certificate and key the registry accepts. */
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
  /** tls-basic and token setups: a user that can push and pull everything. */
  readonly username?: string;
  readonly password?: string;
  /** The registry's temp dir (storage, config, certificates, log). */
  readonly dir: string;
  /** The PID of the docker-registry process. */
  readonly pid: number;
  /** Token setup: how many requests the token server received (served or refused). */
  readonly tokenRequests?: () => number;
  /** Kills only the process it started (by PID), closes the token server, deletes dir. Idempotent. */
  stop(): Promise<void>;
}

export const TOKEN_SERVICE = 'caisson-test-registry';
export const TOKEN_ISSUER = 'caisson-test-issuer';
const TOKEN_LIFETIME_S = 300;
const READY_DEADLINE_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 3;
const USERNAME = 'caisson';

/** `accessLog`: the registry logs every request it answers to `<dir>/registry.log` (see `answeredRequests`). */
export async function startRegistry(options: { setup: RegistrySetup; readonly accessLog?: boolean }): Promise<RunningRegistry> {
  const { setup } = options;
  const dir = await mkdtemp(join(tmpdir(), `caisson-registry-${setup}-`));
  let tokenServer: TokenServer | undefined;
  try {
    const tls = setup === 'plain' ? undefined : await makeCertificates(dir);
    const password = setup === 'plain' || setup === 'tls-client-cert' ? undefined : randomBytes(16).toString('hex');
    let authYaml = '';
    if (setup === 'tls-basic' && password !== undefined) {
      const htpasswdFile = join(dir, 'htpasswd');
      await writeFile(htpasswdFile, await tool('htpasswd', ['-Bbn', USERNAME, password], dir));
      authYaml = ['auth:', '  htpasswd:', `    realm: ${TOKEN_SERVICE}`, `    path: ${yamlString(htpasswdFile)}`].join('\n');
    } else if (setup === 'token' && tls !== undefined && password !== undefined) {
      tokenServer = await startTokenServer({
        username: USERNAME,
        password,
        signingKeyPem: await readFile(tls.tokenKeyFile, 'utf8'),
        x5c: [new X509Certificate(await readFile(tls.tokenCertFile)).raw.toString('base64')],
      });
      authYaml = [
        'auth:',
        '  token:',
        `    realm: ${yamlString(tokenServer.realm)}`,
        `    service: ${TOKEN_SERVICE}`,
        `    issuer: ${TOKEN_ISSUER}`,
        `    rootcertbundle: ${yamlString(tls.caFile)}`,
      ].join('\n');
    }

    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const host = `127.0.0.1:${port}`;
      const url = `${tls === undefined ? 'http' : 'https'}://${host}`;
      const configFile = join(dir, 'config.yml');
      await writeFile(configFile, registryConfig({ dir, host, tls, authYaml, clientCas: setup === 'tls-client-cert', accessLog: options.accessLog === true }));
      const logFile = join(dir, 'registry.log');
      const child = launch(configFile, logFile);
      const onExit = (): void => {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      };
      process.on('exit', onExit);
      const problem = await waitReady(child, url, tls?.caPem, setup === 'tls-client-cert' ? tls : undefined);
      if (problem !== undefined) {
        process.off('exit', onExit);
        await kill(child);
        const log = await readFile(logFile, 'utf8').catch(() => '');
        if (attempt < PORT_ATTEMPTS && log.includes('address already in use')) continue;
        throw new Error(`docker-registry (${setup}) on ${host} ${problem}; its output:\n${log.trim() || '(none)'}`);
      }
      const pid = child.pid;
      if (pid === undefined) throw new Error('docker-registry started without a PID');

      let stopping: Promise<void> | undefined;
      const server = tokenServer;
      const stop = (): Promise<void> => {
        stopping ??= (async () => {
          process.off('exit', onExit);
          await kill(child);
          await server?.close();
          await rm(dir, { recursive: true, force: true });
        })();
        return stopping;
      };
      return {
        setup,
        host,
        url,
        dir,
        pid,
        ...(tls === undefined ? {} : { caFile: tls.caFile, caPem: tls.caPem }),
        ...(tls === undefined || setup !== 'tls-client-cert' ? {} : { clientCertPem: tls.clientCertPem, clientKeyPem: tls.clientKeyPem }),
        ...(password === undefined ? {} : { username: USERNAME, password }),
        ...(server === undefined ? {} : { tokenRequests: server.requests }),
        stop,
      };
    }
  } catch (error) {
    await tokenServer?.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// The registry process

interface Certificates {
  readonly caFile: string;
  readonly caPem: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly tokenCertFile: string;
  readonly tokenKeyFile: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

/** JSON strings are valid YAML double-quoted scalars (for paths and URLs in the config). */
function yamlString(value: string): string {
  return JSON.stringify(value);
}

function registryConfig(options: { dir: string; host: string; tls: Certificates | undefined; authYaml: string; clientCas: boolean; accessLog: boolean }): string {
  const { dir, host, tls, authYaml } = options;
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    `    disabled: ${!options.accessLog}`,
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${yamlString(join(dir, 'storage'))}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${host}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
  ];
  if (tls !== undefined) {
    lines.push('  tls:', `    certificate: ${yamlString(tls.certFile)}`, `    key: ${yamlString(tls.keyFile)}`);
    if (options.clientCas) lines.push('    clientcas:', `      - ${yamlString(tls.caFile)}`);
  }
  lines.push('health:', '  storagedriver:', '    enabled: false');
  if (authYaml !== '') lines.push(authYaml);
  return `${lines.join('\n')}\n`;
}

/** Spawns the registry with its output going to logFile (no pipes to drain), detached from node's event loop. */
function launch(configFile: string, logFile: string): ChildProcess {
  // REGISTRY_* variables override the config file; none of the caller's may leak in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('REGISTRY_')));
  const fd = openSync(logFile, 'w');
  try {
    const child = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', fd, fd], env });
    // A registry a test forgot to stop must not keep node alive; the process 'exit' hook kills it.
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

/** Resolves with undefined once GET /v2/ answers 200 or 401, or with why it did not. */
async function waitReady(child: ChildProcess, url: string, caPem: string | undefined, client: Certificates | undefined): Promise<string | undefined> {
  let exited: string | undefined;
  child.once('error', (error) => (exited ??= `could not be started (${error.message})`));
  child.once('exit', (code, signal) => (exited ??= `exited (${signal ?? `code ${code}`}) before answering GET /v2/`));
  const deadline = Date.now() + READY_DEADLINE_MS;
  let last = 'no answer';
  child.ref();
  try {
    while (exited === undefined) {
      if (Date.now() > deadline) return `did not answer GET /v2/ within ${READY_DEADLINE_MS / 1000} s (last: ${last})`;
      const answer = await probe(`${url}/v2/`, caPem, client);
      if (exited !== undefined) break;
      if (typeof answer === 'number' && (answer === 200 || answer === 401)) return undefined;
      last = typeof answer === 'number' ? `HTTP ${answer}` : answer;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return exited;
  } finally {
    child.unref();
  }
}

/** The status of GET url from a distribution registry, or a description of the failure. */
function probe(url: string, caPem: string | undefined, client: Certificates | undefined): Promise<number | string> {
  return new Promise((resolve) => {
    const onResponse = (response: IncomingMessage): void => {
      response.resume();
      const version = response.headers['docker-distribution-api-version'];
      resolve(version === 'registry/2.0' ? (response.statusCode ?? 0) : `HTTP ${response.statusCode} without Docker-Distribution-Api-Version`);
    };
    const request =
      caPem === undefined
        ? httpRequest(url, { agent: false, timeout: 2_000 }, onResponse)
        : httpsRequest(url, { agent: false, timeout: 2_000, ca: caPem, ...(client === undefined ? {} : { cert: client.clientCertPem, key: client.clientKeyPem }) }, onResponse);
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', (error) => resolve(error.message));
    request.end();
  });
}

/** Stops the child (SIGTERM, then SIGKILL after a grace period) and waits until it is reaped. */
async function kill(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.ref();
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  try {
    await gone;
  } finally {
    clearTimeout(timer);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs a tool in cwd and returns its stdout; the error carries its stderr. */
function tool(command: string, args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Certificates (openssl): a CA, the registry's server certificate, the token-signing certificate

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = caisson test
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
[token_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

async function makeCertificates(dir: string): Promise<Certificates> {
  const config = join(dir, 'openssl.cnf');
  await writeFile(config, OPENSSL_CONFIG);
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const serial = (): string => `0x${randomBytes(12).toString('hex')}`;
  await tool('openssl', ['req', '-x509', '-new', ...newKey, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '7',
    '-config', config, '-extensions', 'ca_ext', '-subj', '/CN=caisson test CA', '-set_serial', serial()], dir);
  const issue = async (name: string, subject: string, extensions: string): Promise<void> => {
    await tool('openssl', ['req', '-new', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`,
      '-config', config, '-subj', subject], dir);
    await tool('openssl', ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key',
      '-set_serial', serial(), '-days', '7', '-out', `${name}.pem`, '-extfile', config, '-extensions', extensions], dir);
  };
  await issue('server', '/CN=127.0.0.1', 'server_ext');
  await issue('token', '/CN=caisson test token signer', 'token_ext');
  await issue('client', '/CN=caisson test client', 'client_ext');
  const caFile = join(dir, 'ca.pem');
  return {
    caFile,
    caPem: await readFile(caFile, 'utf8'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    tokenCertFile: join(dir, 'token.pem'),
    tokenKeyFile: join(dir, 'token.key'),
    clientCertPem: await readFile(join(dir, 'client.pem'), 'utf8'),
    clientKeyPem: await readFile(join(dir, 'client.key'), 'utf8'),
  };
}

// ---------------------------------------------------------------------------------------------
// The token server (Docker registry token protocol, GET and OAuth2 POST)

interface TokenServer {
  /** The realm, "http://127.0.0.1:<port>/token". */
  readonly realm: string;
  readonly requests: () => number;
  close(): Promise<void>;
}

/** What the token server's worker thread gets: this module, loaded again in the worker, serves when it sees it. */
interface TokenWorkerData {
  readonly kind: typeof TOKEN_WORKER;
  readonly username: string;
  readonly password: string;
  readonly signingKeyPem: string;
  readonly x5c: readonly string[];
  /** Int32Array cell 0: requests received, shared with the main thread. */
  readonly counter: SharedArrayBuffer;
}

const TOKEN_WORKER = 'caisson-test-token-server';

function isTokenWorkerData(data: unknown): data is TokenWorkerData {
  return typeof data === 'object' && data !== null && (data as { kind?: unknown }).kind === TOKEN_WORKER;
}

/**
 * Starts the token server in a worker thread, with its own event loop, so that it answers even while
 * the test's thread is blocked in a synchronous call (spawnSync of skopeo, say).
 */
async function startTokenServer(options: {
  username: string;
  password: string;
  signingKeyPem: string;
  x5c: readonly string[];
}): Promise<TokenServer> {
  const counter = new SharedArrayBuffer(4);
  const data: TokenWorkerData = { kind: TOKEN_WORKER, ...options, counter };
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the token server's worker thread exited (code ${code}) before listening`)));
    worker.once('message', (message: unknown) => {
      const port = (message as { port?: unknown }).port;
      if (typeof port === 'number') resolve(port);
      else reject(new Error(`unexpected message from the token server's worker: ${JSON.stringify(message)}`));
    });
  });
  worker.removeAllListeners();
  worker.on('error', (error) => console.error('caisson test token server failed:', error));
  worker.unref();
  const requests = new Int32Array(counter);
  let closing: Promise<void> | undefined;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    requests: () => Atomics.load(requests, 0),
    close: () => {
      closing ??= worker.terminate().then(() => undefined);
      return closing;
    },
  };
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** In the worker thread: serves tokens on 127.0.0.1 until the worker is terminated; resolves with the port. */
async function serveTokens(options: TokenWorkerData): Promise<number> {
  const requests = new Int32Array(options.counter);
  const signingKey = createPrivateKey(options.signingKeyPem);
  /** refresh token → subject */
  const refreshTokens = new Map<string, string>();

  const sameSecret = (given: string, expected: string): boolean => {
    const a = Buffer.from(given);
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  const validUser = (username: string, password: string): boolean =>
    username === options.username && sameSecret(password, options.password);

  const issue = (subject: string, scopes: readonly Access[]): { token: string; access: Access[] } => {
    const access: Access[] = [];
    if (subject !== '') {
      for (const scope of scopes) {
        const existing = access.find((a) => a.type === scope.type && a.name === scope.name);
        if (existing === undefined) access.push({ ...scope, actions: [...scope.actions] });
        else for (const action of scope.actions) if (!existing.actions.includes(action)) existing.actions.push(action);
      }
    }
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c: options.x5c };
    const claims = {
      iss: TOKEN_ISSUER,
      sub: subject,
      aud: TOKEN_SERVICE,
      exp: now + TOKEN_LIFETIME_S,
      nbf: now,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(input), { key: signingKey, dsaEncoding: 'ieee-p1363' });
    return { token: `${input}.${signature.toString('base64url')}`, access };
  };

  const respond = (res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const unauthorized = (res: ServerResponse): void =>
    respond(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }] }, {
      'www-authenticate': `Basic realm="${TOKEN_SERVICE}"`,
    });
  const tokenResponse = (res: ServerResponse, subject: string, scopes: readonly Access[], refreshToken?: string): void => {
    const { token, access } = issue(subject, scopes);
    respond(res, 200, {
      token,
      access_token: token,
      expires_in: TOKEN_LIFETIME_S,
      issued_at: new Date().toISOString(),
      scope: access.map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`).join(' '),
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
    });
  };
  const newRefreshToken = (subject: string): string => {
    const token = randomBytes(24).toString('base64url');
    refreshTokens.set(token, subject);
    return token;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/token') return respond(res, 404, { error: 'not_found' });
    Atomics.add(requests, 0, 1);

    if (req.method === 'GET') {
      const params = url.searchParams;
      const service = params.get('service');
      if (service !== null && service !== TOKEN_SERVICE) return respond(res, 400, { error: 'invalid_request', error_description: `unknown service ${service}` });
      const scopes = parseScopes(params.getAll('scope'));
      if (scopes === undefined) return respond(res, 400, { error: 'invalid_scope' });
      const authorization = req.headers.authorization;
      if (authorization === undefined) return tokenResponse(res, '', scopes); // anonymous: a token with no access
      const credentials = parseBasic(authorization);
      if (credentials === undefined || !validUser(credentials.username, credentials.password)) return unauthorized(res);
      const offline = params.get('offline_token') === 'true';
      return tokenResponse(res, credentials.username, scopes, offline ? newRefreshToken(credentials.username) : undefined);
    }

    if (req.method === 'POST') {
      const body = await readBody(req);
      if (body === undefined) return respond(res, 413, { error: 'invalid_request' });
      const form = new URLSearchParams(body);
      const service = form.get('service');
      if (service !== null && service !== TOKEN_SERVICE) return respond(res, 400, { error: 'invalid_request', error_description: `unknown service ${service}` });
      const scopes = parseScopes(form.getAll('scope'));
      if (scopes === undefined) return respond(res, 400, { error: 'invalid_scope' });
      const offline = form.get('access_type') === 'offline';
      switch (form.get('grant_type')) {
        case 'password': {
          const username = form.get('username');
          const password = form.get('password');
          if (username === null || password === null) return respond(res, 400, { error: 'invalid_request', error_description: 'username and password required' });
          if (!validUser(username, password)) return unauthorized(res);
          return tokenResponse(res, username, scopes, offline ? newRefreshToken(username) : undefined);
        }
        case 'refresh_token': {
          const refreshToken = form.get('refresh_token');
          const subject = refreshToken === null ? undefined : refreshTokens.get(refreshToken);
          if (refreshToken === null || subject === undefined) return respond(res, 400, { error: 'invalid_grant' });
          return tokenResponse(res, subject, scopes, refreshToken);
        }
        default:
          return respond(res, 400, { error: 'unsupported_grant_type' });
      }
    }

    return respond(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, POST' });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) respond(res, 500, { error: 'server_error', error_description: String(error) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

/** "Basic base64(user:pass)" → its parts, or undefined. */
function parseBasic(header: string): { username: string; password: string } | undefined {
  const match = /^basic\s+(\S+)$/i.exec(header.trim());
  if (match?.[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Scope parameters (each may hold several space-separated scopes) → accesses. A scope is
 * `type[(class)]:name:actions`; the name may itself contain colons (a port in a host name).
 * Undefined when one is malformed.
 */
function parseScopes(values: readonly string[]): Access[] | undefined {
  const accesses: Access[] = [];
  for (const scope of values.flatMap((value) => value.split(' ')).filter((s) => s !== '')) {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first <= 0 || last === first) return undefined;
    const type = scope.slice(0, first).replace(/\(.*\)$/, '');
    const name = scope.slice(first + 1, last);
    if (name === '') return undefined;
    accesses.push({ type, name, actions: scope.slice(last + 1).split(',').filter((a) => a !== '') });
  }
  return accesses;
}

/** The request body as text, or undefined past 64 KiB. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > 65_536) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// Loaded as the token server's worker thread (see startTokenServer): serve, and tell the main thread the port.
if (!isMainThread && isTokenWorkerData(workerData)) {
  serveTokens(workerData).then(
    (port) => parentPort?.postMessage({ port }),
    (error: unknown) => {
      throw error;
    },
  );
}

/**
 * The requests a registry started with `accessLog` answered so far, as `METHOD /path` from its
 * access log; with `last`, waits (up to 2 s) for that request to be logged, as the registry logs
 * a request just after answering it.
 */
export async function answeredRequests(registry: RunningRegistry, last?: string): Promise<string[]> {
  for (let attempt = 0; ; attempt += 1) {
    const log = await readFile(join(registry.dir, 'registry.log'), 'utf8').catch(() => '');
    const requests = [...log.matchAll(/^\S+ - - \[[^\]]*\] "(\S+) (\S+) HTTP\/[\d.]+"/gm)].map((match) => `${match[1] ?? ''} ${match[2] ?? ''}`);
    if (last === undefined || requests.at(-1) === last || attempt === 100) return requests;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
