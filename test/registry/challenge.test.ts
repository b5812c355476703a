// WWW-Authenticate parsing (RFC 7235) as registries send it, and picking the Bearer challenge.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearerChallenge, parseChallenges, type Challenge } from '../../src/registry/challenge.js';

interface Plain {
  scheme: string;
  params: Record<string, string>;
  token68?: string;
}

function plain(challenges: readonly Challenge[]): Plain[] {
  return challenges.map((c) => ({
    scheme: c.scheme,
    params: Object.fromEntries(c.params),
    ...(c.token68 === undefined ? {} : { token68: c.token68 }),
  }));
}

const VALID: ReadonlyArray<readonly [string, Plain[]]> = [
  [
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
    [
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:samalba/my-app:pull,push' },
      },
    ],
  ],
  ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
  ['BASIC Realm="x"', [{ scheme: 'basic', params: { realm: 'x' } }]],
  [
    'Basic realm="x", Bearer realm="y",service="z"',
    [
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'y', service: 'z' } },
    ],
  ],
  ['Bearer realm="a\\"b\\\\c,d"', [{ scheme: 'bearer', params: { realm: 'a"b\\c,d' } }]],
  [
    'Bearer realm=https://auth.example.com/token,service=reg.example.com',
    [{ scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'reg.example.com' } }],
  ],
  ['  Bearer   realm = "x" ,  service="y"  ', [{ scheme: 'bearer', params: { realm: 'x', service: 'y' } }]],
  ['Bearer\trealm="x",\tservice="y"', [{ scheme: 'bearer', params: { realm: 'x', service: 'y' } }]],
  ['Basic', [{ scheme: 'basic', params: {} }]],
  [
    'Basic, Bearer realm="y"',
    [
      { scheme: 'basic', params: {} },
      { scheme: 'bearer', params: { realm: 'y' } },
    ],
  ],
  ['Bearer realm="x",', [{ scheme: 'bearer', params: { realm: 'x' } }]],
  ['Bearer realm="x", , service="y"', [{ scheme: 'bearer', params: { realm: 'x', service: 'y' } }]],
  ['Bearer realm=""', [{ scheme: 'bearer', params: { realm: '' } }]],
  ['Bearer realm="x", realm="second"', [{ scheme: 'bearer', params: { realm: 'x' } }]],
  [
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull",error="insufficient_scope"',
    [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/busybox:pull',
          error: 'insufficient_scope',
        },
      },
    ],
  ],
  ['Negotiate abc==', [{ scheme: 'negotiate', params: {}, token68: 'abc==' }]],
  [
    'Negotiate abc=, Basic realm="x"',
    [
      { scheme: 'negotiate', params: {}, token68: 'abc=' },
      { scheme: 'basic', params: { realm: 'x' } },
    ],
  ],
  // A lone word after the scheme is a token68 (RFC 7235 §2.1), not a parameter without a value.
  ['Bearer realm', [{ scheme: 'bearer', params: {}, token68: 'realm' }]],
  ['Bearer realm=', [{ scheme: 'bearer', params: {}, token68: 'realm=' }]],
  ['Bearer realm="ünïcode"', [{ scheme: 'bearer', params: { realm: 'ünïcode' } }]],
];

for (const [header, expected] of VALID) {
  test(`parseChallenges(${JSON.stringify(header)})`, () => {
    assert.deepEqual(plain(parseChallenges(header)), expected);
  });
}

const MALFORMED = [
  '',
  '   ',
  ',',
  'Bearer realm="unterminated',
  'Bearer realm="ends with backslash\\',
  '=foo',
  '"Bearer"',
  'Bearer realm=, service="x"',
  'Bearer realm="x" service="y"',
  'Bearer realm="x"junk',
  'Bearer realm=ab"c',
  'Bearer ,realm="x"',
  'Bearer realm="x", "garbage"',
  'Bearer realm="x", service=',
  'Bearer(realm="x")',
  'Bearer realm="x";service="y"',
];

for (const header of MALFORMED) {
  test(`parseChallenges(${JSON.stringify(header)}) is [] (malformed)`, () => {
    assert.deepEqual(parseChallenges(header), []);
  });
}

test('bearerChallenge picks the Bearer challenge among several headers', () => {
  assert.deepEqual(bearerChallenge(['Basic realm="x"', 'Bearer realm="https://auth.example.com/token",service="reg"']), {
    realm: 'https://auth.example.com/token',
    service: 'reg',
  });
});

test('bearerChallenge finds Bearer inside a multi-challenge header and keeps the scope', () => {
  assert.deepEqual(bearerChallenge(['Basic realm="x", Bearer realm="http://127.0.0.1:5001/token",scope="repository:a/b:pull"']), {
    realm: 'http://127.0.0.1:5001/token',
    scope: 'repository:a/b:pull',
  });
});

test('bearerChallenge: only realm when service and scope are absent', () => {
  assert.deepEqual(bearerChallenge(['bearer REALM="https://a.example/t"']), { realm: 'https://a.example/t' });
});

test('bearerChallenge skips a Bearer challenge whose realm is not an absolute http(s) URL', () => {
  assert.deepEqual(bearerChallenge(['Bearer realm="/token"', 'Bearer realm="https://ok.example/token"']), {
    realm: 'https://ok.example/token',
  });
});

for (const headers of [
  [],
  ['Basic realm="x"'],
  ['Bearer service="x"'],
  ['Bearer realm'],
  ['Bearer realm="/token"'],
  ['Bearer realm="ftp://auth.example.com/token"'],
  ['Bearer realm="https://"'],
  ['Bearer realm="not a url"'],
  ['Bearer realm="https://auth.example.com/token'],
]) {
  test(`bearerChallenge(${JSON.stringify(headers)}) is undefined`, () => {
    assert.equal(bearerChallenge(headers), undefined);
  });
}
