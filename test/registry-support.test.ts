// Tests for test/support/registry.ts: Debian's docker-registry starts in each setup, answers as
// distribution does (plain, HTTPS + Basic, HTTPS + bearer tokens from the loopback token server),
// and stop() leaves neither the process nor its temp dir behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Agent, request } from 'undici';

import { startRegistry } from './support/registry.js';
import type { RunningRegistry } from './support/registry.js';

const TIMEOUT = 120_000;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function call(
  url: string,
  options: { dispatcher?: Agent; method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const response = await request(url, {
    method: options.method ?? 'GET',
    ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { status: response.statusCode, headers, body: await response.body.text() };
}

function basic(username: string | undefined, password: string | undefined): string {
  assert.ok(username !== undefined && password !== undefined, 'the registry has a user');
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

async function assertStops(registry: RunningRegistry): Promise<void> {
  assert.ok(alive(registry.pid), 'the registry runs before stop()');
  assert.ok(existsSync(registry.dir));
  await registry.stop();
  assert.equal(alive(registry.pid), false, `PID ${registry.pid} is gone after stop()`);
  assert.equal(existsSync(registry.dir), false, 'its temp dir is removed');
  await registry.stop(); // idempotent
}

/** An undici dispatcher that trusts the registry's CA (and only it). */
function trusting(registry: RunningRegistry): Agent {
  assert.ok(registry.caPem !== undefined && registry.caFile !== undefined, 'a TLS registry has a CA');
  return new Agent({ connect: { ca: registry.caPem } });
}

function challengeParams(header: string | undefined): Record<string, string> {
  assert.ok(header !== undefined, 'a WWW-Authenticate challenge');
  const match = /^Bearer (.*)$/.exec(header);
  assert.ok(match?.[1] !== undefined, `a Bearer challenge: ${header}`);
  return Object.fromEntries([...match[1].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
}

describe('test support: Debian docker-registry on 127.0.0.1', { timeout: TIMEOUT }, () => {
  test('plain: HTTP, no auth', { timeout: TIMEOUT }, async () => {
    const registry = await startRegistry({ setup: 'plain' });
    try {
      assert.match(registry.host, /^127\.0\.0\.1:\d+$/);
      assert.equal(registry.url, `http://${registry.host}`);
      assert.equal(registry.caFile, undefined);
      assert.equal(registry.username, undefined);
      const base = await call(`${registry.url}/v2/`);
      assert.equal(base.status, 200);
      assert.equal(base.headers['docker-distribution-api-version'], 'registry/2.0');
      const upload = await call(`${registry.url}/v2/test/a/blobs/uploads/`, { method: 'POST' });
      assert.equal(upload.status, 202, upload.body);
      assert.match(upload.headers['location'] ?? '', /\/v2\/test\/a\/blobs\/uploads\//);
    } finally {
      await assertStops(registry);
    }
  });

  test('tls-basic: HTTPS with its own CA, htpasswd Basic auth', { timeout: TIMEOUT }, async () => {
    const registry = await startRegistry({ setup: 'tls-basic' });
    const dispatcher = trusting(registry);
    try {
      assert.equal(registry.url, `https://${registry.host}`);
      assert.ok(existsSync(registry.caFile ?? ''));
      assert.match(registry.caPem ?? '', /-----BEGIN CERTIFICATE-----/);

      const anonymous = await call(`${registry.url}/v2/`, { dispatcher });
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers['www-authenticate'] ?? '', /^Basic realm=/);

      const authorization = basic(registry.username, registry.password);
      const base = await call(`${registry.url}/v2/`, { dispatcher, headers: { authorization } });
      assert.equal(base.status, 200);
      const wrong = await call(`${registry.url}/v2/`, { dispatcher, headers: { authorization: basic(registry.username, 'wrong') } });
      assert.equal(wrong.status, 401);
      const upload = await call(`${registry.url}/v2/test/a/blobs/uploads/`, { dispatcher, method: 'POST', headers: { authorization } });
      assert.equal(upload.status, 202, upload.body);

      // The certificate is for 127.0.0.1 and signed by that CA only: the default trust store refuses it.
      await assert.rejects(call(`${registry.url}/v2/`));
    } finally {
      await dispatcher.close();
      await assertStops(registry);
    }
  });

  test('token: HTTPS, bearer tokens from the loopback token server', { timeout: TIMEOUT }, async () => {
    const registry = await startRegistry({ setup: 'token' });
    const dispatcher = trusting(registry);
    try {
      assert.equal(registry.url, `https://${registry.host}`);
      const requests = registry.tokenRequests;
      assert.ok(requests !== undefined);
      assert.equal(requests(), 0);

      const anonymous = await call(`${registry.url}/v2/`, { dispatcher });
      assert.equal(anonymous.status, 401);
      const challenge = challengeParams(anonymous.headers['www-authenticate']);
      const realm = challenge['realm'];
      const service = challenge['service'];
      assert.ok(realm !== undefined && service !== undefined);
      assert.match(realm, /^http:\/\/127\.0\.0\.1:\d+\/token$/);
      assert.equal(service, 'caisson-test-registry');

      const scope = 'repository:test/a:pull,push';
      const tokenUrl = `${realm}?service=${encodeURIComponent(service)}&scope=${encodeURIComponent(scope)}`;
      const granted = await call(tokenUrl, { headers: { authorization: basic(registry.username, registry.password) } });
      assert.equal(granted.status, 200, granted.body);
      const answer = JSON.parse(granted.body) as { token: string; access_token: string; expires_in: number; issued_at: string };
      assert.equal(answer.access_token, answer.token);
      assert.ok(answer.expires_in >= 60);
      assert.ok(!Number.isNaN(Date.parse(answer.issued_at)));
      const [header, claims] = answer.token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>);
      assert.equal(header?.['alg'], 'ES256');
      assert.deepEqual(claims?.['access'], [{ type: 'repository', name: 'test/a', actions: ['pull', 'push'] }]);
      assert.equal(claims?.['aud'], 'caisson-test-registry');
      assert.equal(claims?.['iss'], 'caisson-test-issuer');

      const bearer = { authorization: `Bearer ${answer.token}` };
      const base = await call(`${registry.url}/v2/`, { dispatcher, headers: bearer });
      assert.equal(base.status, 200, base.body);
      const upload = await call(`${registry.url}/v2/test/a/blobs/uploads/`, { dispatcher, method: 'POST', headers: bearer });
      assert.equal(upload.status, 202, upload.body);
      // The token is for test/a only.
      const elsewhere = await call(`${registry.url}/v2/test/b/blobs/uploads/`, { dispatcher, method: 'POST', headers: bearer });
      assert.equal(elsewhere.status, 401);
      assert.match(elsewhere.headers['www-authenticate'] ?? '', /error="insufficient_scope"/);

      // Anonymous: a token with no access, good for /v2/ but not for a push.
      const anonymousToken = await call(tokenUrl);
      assert.equal(anonymousToken.status, 200);
      const empty = (JSON.parse(anonymousToken.body) as { token: string }).token;
      const emptyClaims = JSON.parse(Buffer.from(empty.split('.')[1] ?? '', 'base64url').toString('utf8')) as { access: unknown[] };
      assert.deepEqual(emptyClaims.access, []);
      assert.equal((await call(`${registry.url}/v2/`, { dispatcher, headers: { authorization: `Bearer ${empty}` } })).status, 200);
      const refused = await call(`${registry.url}/v2/test/a/blobs/uploads/`, { dispatcher, method: 'POST', headers: { authorization: `Bearer ${empty}` } });
      assert.equal(refused.status, 401);

      // A wrong password is refused by the token server.
      const wrong = await call(tokenUrl, { headers: { authorization: basic(registry.username, 'wrong') } });
      assert.equal(wrong.status, 401);

      // OAuth2 flow: password grant with a refresh token, then a refresh grant.
      const form = (fields: Record<string, string>): { method: 'POST'; headers: Record<string, string>; body: string } => ({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
      const oauth = await call(realm, form({
        grant_type: 'password', service, client_id: 'caisson-test', access_type: 'offline', scope,
        username: registry.username ?? '', password: registry.password ?? '',
      }));
      assert.equal(oauth.status, 200, oauth.body);
      const oauthAnswer = JSON.parse(oauth.body) as { access_token: string; refresh_token?: string };
      assert.ok(oauthAnswer.refresh_token !== undefined && oauthAnswer.refresh_token !== '');
      const refreshed = await call(realm, form({
        grant_type: 'refresh_token', service, client_id: 'caisson-test', scope: 'repository:test/c:pull,push', refresh_token: oauthAnswer.refresh_token,
      }));
      assert.equal(refreshed.status, 200, refreshed.body);
      const refreshedToken = (JSON.parse(refreshed.body) as { access_token: string }).access_token;
      const uploadC = await call(`${registry.url}/v2/test/c/blobs/uploads/`, { dispatcher, method: 'POST', headers: { authorization: `Bearer ${refreshedToken}` } });
      assert.equal(uploadC.status, 202, uploadC.body);
      const badRefresh = await call(realm, form({ grant_type: 'refresh_token', service, client_id: 'caisson-test', refresh_token: 'nope' }));
      assert.equal(badRefresh.status, 400);
      const badPassword = await call(realm, form({ grant_type: 'password', service, client_id: 'caisson-test', username: registry.username ?? '', password: 'wrong' }));
      assert.equal(badPassword.status, 401);

      assert.equal(requests(), 7);

      // The token server answers even while this thread is blocked in a synchronous child (it runs
      // in a worker thread): skopeo gets a token and then the registry's answer for an untagged repo.
      const certDir = mkdtempSync(join(tmpdir(), 'caisson-registry-support-'));
      try {
        writeFileSync(join(certDir, 'ca.crt'), registry.caPem ?? '');
        const skopeo = spawnSync('skopeo', ['list-tags', '--cert-dir', certDir, '--creds', `${registry.username}:${registry.password}`,
          `docker://${registry.host}/test/a`], { encoding: 'utf8', timeout: 120_000 });
        assert.equal(skopeo.error, undefined);
        assert.notEqual(skopeo.status, 0);
        assert.match(skopeo.stderr, /\b404\b|name unknown/i); // authorized, and the repository has no tags
        assert.ok(requests() > 7, 'skopeo asked the token server');
      } finally {
        rmSync(certDir, { recursive: true, force: true });
      }
    } finally {
      await dispatcher.close();
      await assertStops(registry);
    }
  });

  test('two registries run side by side on different ports', { timeout: TIMEOUT }, async () => {
    const [a, b] = await Promise.all([startRegistry({ setup: 'plain' }), startRegistry({ setup: 'plain' })]);
    try {
      assert.notEqual(a.host, b.host);
      assert.notEqual(a.dir, b.dir);
      assert.equal((await call(`${a.url}/v2/`)).status, 200);
      assert.equal((await call(`${b.url}/v2/`)).status, 200);
    } finally {
      await Promise.all([assertStops(a), assertStops(b)]);
    }
  });
});
