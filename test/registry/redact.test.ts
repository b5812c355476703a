// Secret redaction for text from servers and helpers: nothing secret may survive.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactSecrets } from '../../src/registry/redact.js';

const CASES: ReadonlyArray<{ readonly name: string; readonly input: string; readonly expected: string; readonly secrets: readonly string[] }> = [
  {
    name: 'Authorization header line',
    input: 'GET /v2/ HTTP/1.1\r\nAuthorization: Bearer eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl\r\nHost: x',
    expected: 'GET /v2/ HTTP/1.1\r\nAuthorization: [REDACTED]\r\nHost: x',
    secrets: ['eyJhbGciOi'],
  },
  {
    name: 'Proxy-Authorization, any case',
    input: 'proxy-authorization:Basic dXNlcjpwYXNz',
    expected: 'proxy-authorization:[REDACTED]',
    secrets: ['dXNlcjpwYXNz'],
  },
  {
    name: 'Bearer token in prose',
    input: 'request with Bearer abc.def-ghi_jkl~+/= failed',
    expected: 'request with Bearer [REDACTED] failed',
    secrets: ['abc.def'],
  },
  {
    name: 'Basic credentials',
    input: 'sent basic dXNlcjpzM2NyM3Q= to server',
    expected: 'sent basic [REDACTED] to server',
    secrets: ['dXNlcjpzM2NyM3Q'],
  },
  {
    name: 'a Bearer challenge is not a credential',
    input: 'WWW-Authenticate: Bearer realm="https://auth.example.com/token",service="reg"',
    expected: 'WWW-Authenticate: Bearer realm="https://auth.example.com/token",service="reg"',
    secrets: [],
  },
  {
    name: 'prose about bearer tokens stays readable',
    input: 'could not get a bearer token; Basic auth required',
    expected: 'could not get a bearer token; Basic auth required',
    secrets: [],
  },
  {
    name: 'user:pass@ in a URL',
    input: 'GET https://alice:hunter2@registry.example.com/v2/ failed',
    expected: 'GET https://[REDACTED]@registry.example.com/v2/ failed',
    secrets: ['hunter2', 'alice'],
  },
  {
    name: 'token-only userinfo in a URL',
    input: 'git clone https://ghp_abcdef123@github.com/o/r.git',
    expected: 'git clone https://[REDACTED]@github.com/o/r.git',
    secrets: ['ghp_abcdef123'],
  },
  {
    name: 'query and form values',
    input: 'https://auth.example.com/token?service=reg&token=abc123&scope=x password=p4ss access_token=at1&refresh_token=rt1',
    expected:
      'https://auth.example.com/token?service=reg&token=[REDACTED]&scope=x password=[REDACTED] access_token=[REDACTED]&refresh_token=[REDACTED]',
    secrets: ['abc123', 'p4ss', 'at1', 'rt1'],
  },
  {
    name: 'a flag',
    input: 'caisson login --password=s3cret',
    expected: 'caisson login --password=[REDACTED]',
    secrets: ['s3cret'],
  },
  {
    name: 'JSON members',
    input:
      '{"token":"t0k","access_token": "a\\"cc","refresh_token":"r","identitytoken":"i","auth":"YTpi","password":"p","Secret":"s","username":"bob","expires_in":300}',
    expected:
      '{"token":"[REDACTED]","access_token": "[REDACTED]","refresh_token":"[REDACTED]","identitytoken":"[REDACTED]","auth":"[REDACTED]","password":"[REDACTED]","Secret":"[REDACTED]","username":"bob","expires_in":300}',
    secrets: ['t0k', 'a\\"cc', 'YTpi'],
  },
  {
    name: 'text without secrets is unchanged',
    input: 'manifest unknown: registry.example.com/app:1.0 (sha256:abc) token endpoint https://auth.example.com/token',
    expected: 'manifest unknown: registry.example.com/app:1.0 (sha256:abc) token endpoint https://auth.example.com/token',
    secrets: [],
  },
];

for (const { name, input, expected, secrets } of CASES) {
  test(`redactSecrets: ${name}`, () => {
    const out = redactSecrets(input);
    assert.equal(out, expected);
    for (const secret of secrets) assert.ok(!out.includes(secret), `${secret} leaked`);
    assert.equal(redactSecrets(out), out, 'redaction is idempotent');
  });
}
