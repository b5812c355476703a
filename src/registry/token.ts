/**
 * The Docker token flow (https://distribution.github.io/distribution/spec/auth/token/ and its
 * OAuth2 variant): exchange credentials for a bearer token scoped to repositories and actions.
 * Basic credentials and anonymous access use GET; an identity (refresh) token uses the OAuth2
 * POST. Tokens never reach a message or log.
 */
import type { HttpClient, HttpResponse } from './http.js';
import { CaissonError } from '../errors.js';
import type { BearerChallenge } from './challenge.js';
import type { Credential } from './credentials.js';
import { redactSecrets } from './redact.js';

export interface Token {
  readonly token: string;
  /** When to stop using it (ms since epoch), a little before it expires. */
  readonly expiresAt: number;
}

export interface FetchTokenOptions {
  readonly registry: string;
  readonly challenge: BearerChallenge;
  readonly scopes: readonly string[];
  readonly credential: Credential;
  /** The registry's HTTP client (its TLS settings apply to the token service too). */
  readonly http: HttpClient;
  readonly userAgent: string;
  readonly now?: () => number;
}

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export async function fetchToken(options: FetchTokenOptions): Promise<Token> {
  const { challenge, credential, registry } = options;
  const url = new URL(challenge.realm);
  const headers: Record<string, string> = { 'user-agent': options.userAgent };
  let method: 'GET' | 'POST' = 'GET';
  let body: string | undefined;
  if (credential.kind === 'identity-token') {
    method = 'POST';
    headers['content-type'] = 'application/x-www-form-urlencoded';
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.token, client_id: 'caisson' });
    if (challenge.service !== undefined) form.set('service', challenge.service);
    if (options.scopes.length > 0) form.set('scope', options.scopes.join(' '));
    body = form.toString();
  } else {
    if (challenge.service !== undefined) url.searchParams.set('service', challenge.service);
    for (const scope of options.scopes) url.searchParams.append('scope', scope);
    if (credential.kind === 'basic') {
      url.searchParams.set('account', credential.username);
      headers['authorization'] = basicHeader(credential.username, credential.password);
    }
  }
  let response: HttpResponse;
  try {
    response = await options.http.request(url, { method, headers, body: body === undefined ? null : Buffer.from(body) });
  } catch (error) {
    throw new CaissonError({
      code: 'ERR_REGISTRY_UNAVAILABLE',
      message: redactSecrets(`${registry}: cannot reach its token server ${url.origin}${url.pathname}: ${(error as Error).message}`),
      hint: 'The registry sends clients to this address for tokens; check the network and proxy settings.',
      cause: error,
    });
  }
  const text = await response.body.text();
  if (response.statusCode === 401 || response.statusCode === 403) {
    throw new CaissonError({
      code: 'ERR_REGISTRY_UNAUTHORIZED',
      message: `${registry}: the token server refused the ${credential.kind === 'anonymous' ? 'anonymous request' : 'credentials'} (HTTP ${response.statusCode}) for ${options.scopes.join(' ') || 'the registry'}`,
      hint: `Check the credentials for ${registry} in $DOCKER_CONFIG/config.json or its credential helper.`,
    });
  }
  const invalid = (problem: string): CaissonError =>
    new CaissonError({ code: 'ERR_REGISTRY_PROTOCOL', message: `${registry}: token server ${url.origin}${url.pathname} ${problem}`, hint: 'The registry\'s token service is misbehaving; retry later.' });
  if (response.statusCode !== 200) throw invalid(`answered HTTP ${response.statusCode}`);
  let json: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw invalid('answered something that is not JSON');
  }
  const token = typeof json.token === 'string' && json.token !== '' ? json.token : typeof json.access_token === 'string' ? json.access_token : undefined;
  if (token === undefined || token === '') throw invalid('answered without a token');
  const lifetime = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 60;
  const now = (options.now ?? Date.now)();
  return { token, expiresAt: now + Math.max(lifetime - 10, lifetime / 2) * 1000 };
}

export function basicAuthorization(credential: Credential): string | undefined {
  return credential.kind === 'basic' ? basicHeader(credential.username, credential.password) : undefined;
}
