/**
 * One registry host's HTTP client: picks the scheme (HTTPS; plain HTTP only for loopback and
 * hosts marked insecure), answers auth challenges (Basic, or Bearer tokens cached per scope and
 * refreshed on 401), retries with backoff on 429, 5xx and dropped connections, follows
 * redirects (without credentials to other hosts), and turns failures into CaissonErrors.
 */
import type { Readable } from 'node:stream';
import { HttpClient, type HttpResponse, type ResponseBody, type ResponseHeaders } from './http.js';
import { CaissonError } from '../errors.js';
import { bearerChallenge, parseChallenges, type BearerChallenge } from './challenge.js';
import type { Credential } from './credentials.js';
import { registryError } from './errors.js';
import { apiHost, isLoopbackHost, type RegistryOptions, type TlsSettings } from './options.js';
import { redactSecrets } from './redact.js';
import { backoffDelay, isRetryableNetworkError, isRetryableStatus, parseRetryAfter, sleepFor, type RetryPolicy } from './retry.js';
import { basicAuthorization, fetchToken, type Token } from './token.js';

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface SendOptions {
  readonly method: Method;
  /** A path under the registry (`/v2/…`) or an absolute URL (an upload Location). */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Bytes, or a function that opens the body afresh for each attempt. */
  readonly body?: Buffer | (() => Promise<Readable>);
  /** Token scopes the call needs: `repository:<name>:pull[,push]`. */
  readonly scopes: readonly string[];
  /** Names the image or blob in errors. */
  readonly what: string;
  /** What was being done, for errors: `GET manifest latest`. */
  readonly action: string;
  /** Statuses that are answers rather than failures (e.g. 404 for a HEAD). */
  readonly accept: readonly number[];
  readonly retry?: RetryPolicy;
}

export interface RegistryResponse {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly body: ResponseBody;
  /** The URL that answered (after redirects), to resolve relative Locations against. */
  readonly url: URL;
}

type AuthState = { readonly kind: 'none' } | { readonly kind: 'basic' } | { readonly kind: 'bearer'; readonly challenge: BearerChallenge };

export function header(headers: RegistryResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function headerList(headers: RegistryResponse['headers'], name: string): string[] {
  const value = headers[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|EPROTO/;
/** Certificate verification failures: HTTPS works but is not trusted, so plain HTTP is no answer. */
const CERTIFICATE_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/;

function errorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    current = current.cause;
  }
  return (error as { code?: string }).code ?? '';
}

export class RegistryClient {
  /** The registry's name as references spell it (`docker.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  readonly #host: string;
  readonly #options: RegistryOptions;
  readonly #tls: TlsSettings;
  /** For the registry (and its token service), with its TLS settings. */
  readonly #http: HttpClient;
  /** For other hosts it redirects to (blob storage), with node's TLS defaults. */
  readonly #foreign: HttpClient;
  readonly #tokens = new Map<string, Token>();
  #base: Promise<URL> | undefined;
  #auth: AuthState = { kind: 'none' };
  #credential: Promise<Credential> | undefined;

  constructor(options: { readonly registry: string; readonly options: RegistryOptions }) {
    this.registry = options.registry;
    this.#host = apiHost(options.registry);
    this.#options = options.options;
    const configured = this.#options.tls.get(options.registry) ?? this.#options.tls.get(this.#host);
    this.#tls = {
      ca: configured?.ca ?? [],
      ...(configured?.clientCert === undefined ? {} : { clientCert: configured.clientCert }),
      skipVerify: this.#options.skipTlsVerifyAll || configured?.skipVerify === true,
    };
    this.#http = new HttpClient({ connections: 16, tls: this.#tls });
    this.#foreign = new HttpClient({ connections: this.#options.concurrency * 2 });
  }

  /** The retry policy reads use unless they pass their own. */
  get retryPolicy(): RetryPolicy {
    return this.#options.retry;
  }

  /** The retry policy writes use unless they pass their own. */
  get pushRetryPolicy(): RetryPolicy {
    return this.#options.pushRetry ?? this.#options.retry;
  }

  /** For calls whose caller retries a larger unit of work itself (an upload session). */
  get noRetry(): RetryPolicy {
    return { ...this.#options.retry, retries: 0 };
  }

  close(): void {
    this.#http.close();
    this.#foreign.close();
  }

  /** The scheme and host the registry answers on, found once by `GET /v2/` (the version check). */
  baseUrl(): Promise<URL> {
    if (this.#base === undefined) {
      const ping = this.#ping();
      this.#base = ping;
      // A failed version check is not remembered: the next call tries again.
      ping.catch(() => {
        if (this.#base === ping) this.#base = undefined;
      });
    }
    return this.#base;
  }

  /**
   * Loopback registries are asked in plain HTTP first (traffic that never leaves the machine; most
   * local registries speak nothing else, and a failing TLS handshake costs a round trip), once and
   * without retries, then in HTTPS. Hosts marked insecure are asked in HTTPS first, as Docker does.
   */
  async #ping(): Promise<URL> {
    const loopback = isLoopbackHost(this.#host);
    const insecure = this.#options.insecure.has(this.registry) || this.#options.insecure.has(this.#host);
    const schemes = loopback ? ['http', 'https'] : insecure ? ['https', 'http'] : ['https'];
    let lastError: unknown;
    for (const [index, scheme] of schemes.entries()) {
      const url = new URL(`${scheme}://${this.#host}/v2/`);
      const last = index === schemes.length - 1;
      const retry = loopback && scheme === 'http' ? this.noRetry : this.#options.retry;
      try {
        const response = await this.#withRetries({ retry, attempt: () => this.#http.request(url, { method: 'GET', headers: { 'user-agent': this.#options.userAgent } }) });
        await response.body.dump();
        if (response.statusCode === 401) this.#auth = this.#authFrom(headerList(response.headers, 'www-authenticate'), 'the version check (GET /v2/)');
        else if (response.statusCode !== 200 && response.statusCode !== 404) {
          // Not a registry's answer (a TLS port asked in plain HTTP says 400): the next scheme may do.
          const error = registryError({ what: this.registry, registry: this.registry, status: response.statusCode, action: `GET ${url.href} (version check)`, body: '' });
          if (last) throw error;
          lastError = error;
          continue;
        }
        return new URL(`${scheme}://${this.#host}`);
      } catch (error) {
        if (error instanceof CaissonError || CERTIFICATE_CODES.test(errorCode(error))) throw error instanceof CaissonError ? error : this.#connectionError(error, 'GET /v2/ (version check)');
        lastError = error;
      }
    }
    throw lastError instanceof CaissonError ? lastError : this.#connectionError(lastError, 'GET /v2/ (version check)');
  }

  #connectionError(error: unknown, action: string): CaissonError {
    const code = errorCode(error);
    const tls = TLS_CODES.test(code);
    return new CaissonError({
      code: 'ERR_REGISTRY_UNAVAILABLE',
      message: redactSecrets(`${this.registry}: ${action} failed: ${(error as Error).message ?? String(error)}${code === '' ? '' : ` (${code})`}`),
      hint: tls
        ? `Trust the registry's CA with --registry-certificate ${this.registry}=<ca.pem>, or (testing only) --skip-tls-verify-registry ${this.registry}.`
        : code === 'ECONNREFUSED'
          ? `Nothing listens at ${this.registry}: check that the registry runs and that the host and port are right.`
          : `Check that ${this.registry} is reachable from here; plain HTTP needs --insecure-registry ${this.registry}.`,
      cause: error,
    });
  }

  #authFrom(challenges: readonly string[], action: string): AuthState {
    const bearer = bearerChallenge(challenges);
    if (bearer !== undefined) return { kind: 'bearer', challenge: bearer };
    if (challenges.some((value) => parseChallenges(value).some((challenge) => challenge.scheme === 'basic'))) return { kind: 'basic' };
    throw new CaissonError({
      code: 'ERR_REGISTRY_UNAUTHORIZED',
      message: `${this.registry}: ${action} asked for authentication with a challenge caisson cannot use: ${redactSecrets(challenges.join(', ')).slice(0, 200) || '(no WWW-Authenticate header)'}`,
      hint: 'Registries must send `WWW-Authenticate: Bearer realm=…` or `Basic …`; check the registry or the proxy in front of it.',
    });
  }

  #getCredential(): Promise<Credential> {
    this.#credential ??= this.#options.credentials.get(this.registry);
    return this.#credential;
  }

  async #authorization(scopes: readonly string[], refresh: boolean): Promise<string | undefined> {
    const auth = this.#auth;
    // A registry that asks for no authentication needs no credential: the Docker config is not read.
    if (auth.kind === 'none') return undefined;
    const credential = await this.#getCredential();
    switch (auth.kind) {
      case 'basic':
        return basicAuthorization(credential);
      case 'bearer': {
        if (credential.kind === 'bearer') return `Bearer ${credential.token}`;
        const key = [...scopes].sort().join(' ');
        const cached = this.#tokens.get(key);
        if (!refresh && cached !== undefined && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
        const token = await fetchToken({ registry: this.registry, challenge: auth.challenge, scopes, credential, http: this.#http, userAgent: this.#options.userAgent });
        this.#tokens.set(key, token);
        return `Bearer ${token.token}`;
      }
    }
  }

  async #withRetries(options: { readonly retry: RetryPolicy; readonly attempt: () => Promise<HttpResponse> }): Promise<HttpResponse> {
    for (let attempt = 1; ; attempt += 1) {
      let response: HttpResponse;
      try {
        response = await options.attempt();
      } catch (error) {
        if (attempt > options.retry.retries || !isRetryableNetworkError(error)) throw error;
        await sleepFor(options.retry, backoffDelay({ policy: options.retry, attempt }));
        continue;
      }
      if (attempt > options.retry.retries || !isRetryableStatus(response.statusCode)) return response;
      await response.body.dump();
      const retryAfterMs = parseRetryAfter(header(response.headers, 'retry-after'));
      await sleepFor(options.retry, backoffDelay({ policy: options.retry, attempt, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }));
    }
  }

  /** Sends one registry call; the caller must consume or dump the body of what it gets back. */
  async send(options: SendOptions): Promise<RegistryResponse> {
    const base = await this.baseUrl();
    let url = new URL(options.path, base);
    const retry = options.retry ?? (options.method === 'GET' || options.method === 'HEAD' ? this.retryPolicy : this.pushRetryPolicy);
    let authorization = await this.#authorization(options.scopes, false);
    let reauthenticated = false;
    for (let redirects = 0; ; ) {
      const sameOrigin = url.origin === base.origin;
      const headers: Record<string, string> = { 'user-agent': this.#options.userAgent, ...options.headers };
      if (sameOrigin && authorization !== undefined) headers['authorization'] = authorization;
      let response: HttpResponse;
      try {
        response = await this.#withRetries({
          retry,
          attempt: async () => {
            const body = options.body === undefined ? null : Buffer.isBuffer(options.body) ? options.body : await options.body();
            return (sameOrigin ? this.#http : this.#foreign).request(url, { method: options.method, headers, body });
          },
        });
      } catch (error) {
        if (error instanceof CaissonError) throw error;
        throw this.#connectionError(error, `${options.action} (${options.what})`);
      }
      const status = response.statusCode;
      const location = header(response.headers, 'location');
      if ([301, 302, 303, 307, 308].includes(status) && location !== undefined && (options.method === 'GET' || options.method === 'HEAD')) {
        await response.body.dump();
        redirects += 1;
        if (redirects > 5) throw new CaissonError({ code: 'ERR_REGISTRY_PROTOCOL', message: `${options.what}: ${options.action}: too many redirects`, hint: 'The registry redirects in a loop.' });
        url = new URL(location, url);
        continue;
      }
      if (status === 401 && sameOrigin && !reauthenticated) {
        await response.body.dump();
        reauthenticated = true;
        this.#auth = this.#authFrom(headerList(response.headers, 'www-authenticate'), options.action);
        const credential = await this.#getCredential();
        if (this.#auth.kind !== 'bearer' && credential.kind === 'anonymous') {
          throw registryError({ what: options.what, registry: this.registry, status, action: options.action, body: '' });
        }
        authorization = await this.#authorization(options.scopes, true);
        continue;
      }
      if (status >= 200 && status < 300) return { status, headers: response.headers, body: response.body, url };
      if (options.accept.includes(status)) return { status, headers: response.headers, body: response.body, url };
      const text = options.method === 'HEAD' ? '' : await response.body.text().catch(() => '');
      if (options.method === 'HEAD') await response.body.dump();
      throw registryError({ what: options.what, registry: this.registry, status, action: options.action, body: text });
    }
  }
}
