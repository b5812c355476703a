// Registry credentials from Docker config.json files and real docker-credential-* helper scripts.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import {
  dockerConfigCredentials,
  staticCredentials,
  type Credential,
  type DockerConfigOptions,
  type HelperRequest,
} from '../../src/registry/credentials.js';
import { rejection } from '../support/errors.js';

const SECRET = 'hunter2-s3cret';

// A credential helper speaking the docker-credential-helpers protocol; its answer depends on the
// server URL it reads from stdin.
const FAKE_HELPER = `#!/bin/sh
[ "$1" = get ] || { echo "unexpected arguments: $*" >&2; exit 2; }
url=$(cat)
[ -n "$FAKE_LOG" ] && echo "$url" >> "$FAKE_LOG"
case "$url" in
  notfound.example.com) echo "credentials not found in native keychain"; exit 1 ;;
  token.example.com) printf '{"ServerURL":"%s","Username":"<token>","Secret":"refresh-${SECRET}"}' "$url" ;;
  fail.example.com) echo "boom: ${SECRET}"; echo "stderr says ${SECRET}" >&2; exit 3 ;;
  garbage.example.com) echo "not json ${SECRET}" ;;
  slow.example.com) exec sleep 10 ;;
  *) printf '{"ServerURL":"%s","Username":"user-for-%s","Secret":"pw"}' "$url" "$url" ;;
esac
`;

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

let root = '';
let bin = '';
let counter = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'caisson-credentials-'));
  bin = join(root, 'bin');
  await mkdir(bin);
  await writeFile(join(bin, 'docker-credential-fake'), FAKE_HELPER);
  await chmod(join(bin, 'docker-credential-fake'), 0o755);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh directory holding `config.json` with `config` (a string is written verbatim). */
async function configDir(config: unknown): Promise<string> {
  const dir = join(root, `config-${++counter}`);
  await mkdir(dir);
  await writeFile(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

async function emptyDir(): Promise<string> {
  const dir = join(root, `empty-${++counter}`);
  await mkdir(dir);
  return dir;
}

/** A store over DOCKER_CONFIG=<dir with config>, the fake helper on PATH, no kaniko dir. */
async function storeFor(config: unknown, extra: Partial<DockerConfigOptions> = {}) {
  const dir = await configDir(config);
  const nowhere = await emptyDir();
  return dockerConfigCredentials({
    env: { DOCKER_CONFIG: dir, PATH: `${bin}:/usr/bin:/bin`, ...extra.env },
    kanikoDir: nowhere,
    ...(extra.runHelper === undefined ? {} : { runHelper: extra.runHelper }),
    ...(extra.helperTimeoutMs === undefined ? {} : { helperTimeoutMs: extra.helperTimeoutMs }),
  });
}


function assertNoSecret(error: CaissonError, secret: string): void {
  const text = `${error.message}\n${error.hint ?? ''}\n${JSON.stringify(error.toJSON())}\n${String(error.cause ?? '')}`;
  assert.ok(!text.includes(secret), `secret leaked into: ${text}`);
}

const basic = (username: string, password: string): Credential => ({ kind: 'basic', username, password });
const ANONYMOUS: Credential = { kind: 'anonymous' };

describe('which config.json', () => {
  test('$DOCKER_CONFIG/config.json when DOCKER_CONFIG is set (HOME ignored)', async () => {
    const dockerConfig = await configDir({ auths: { 'reg.example.com': { auth: b64('dc:pw') } } });
    const home = await emptyDir();
    await mkdir(join(home, '.docker'));
    await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'reg.example.com': { auth: b64('home:pw') } } }));
    const store = dockerConfigCredentials({ env: { DOCKER_CONFIG: dockerConfig, HOME: home }, kanikoDir: await emptyDir() });
    assert.deepEqual(await store.get('reg.example.com'), basic('dc', 'pw'));
  });

  test('$HOME/.docker/config.json when DOCKER_CONFIG is unset', async () => {
    const home = await emptyDir();
    await mkdir(join(home, '.docker'));
    await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'reg.example.com': { auth: b64('home:pw') } } }));
    const store = dockerConfigCredentials({ env: { HOME: home }, kanikoDir: await emptyDir() });
    assert.deepEqual(await store.get('reg.example.com'), basic('home', 'pw'));
  });

  test('the kaniko directory when the first file is absent', async () => {
    const kaniko = await configDir({ auths: { 'reg.example.com': { auth: b64('kaniko:pw') } } });
    const fromEmptyDockerConfig = dockerConfigCredentials({ env: { DOCKER_CONFIG: await emptyDir() }, kanikoDir: kaniko });
    assert.deepEqual(await fromEmptyDockerConfig.get('reg.example.com'), basic('kaniko', 'pw'));
    const fromEmptyHome = dockerConfigCredentials({ env: { HOME: await emptyDir() }, kanikoDir: kaniko });
    assert.deepEqual(await fromEmptyHome.get('reg.example.com'), basic('kaniko', 'pw'));
    const noEnvAtAll = dockerConfigCredentials({ env: {}, kanikoDir: kaniko });
    assert.deepEqual(await noEnvAtAll.get('reg.example.com'), basic('kaniko', 'pw'));
  });

  test('no config file anywhere: anonymous', async () => {
    const store = dockerConfigCredentials({ env: { DOCKER_CONFIG: await emptyDir(), HOME: await emptyDir() }, kanikoDir: join(root, 'absent') });
    assert.deepEqual(await store.get('docker.io'), ANONYMOUS);
  });

  test('malformed JSON: an error naming the file, with a hint, without the file text', async () => {
    const dir = await configDir(`{"auths": {"reg.example.com": {"auth": "${SECRET}"}`);
    const store = dockerConfigCredentials({ env: { DOCKER_CONFIG: dir }, kanikoDir: await emptyDir() });
    const error = await rejection(store.get('reg.example.com'));
    assert.equal(error.code, 'ERR_REGISTRY_AUTH');
    assert.equal(error.exitCode, 5);
    assert.ok(error.message.includes(join(dir, 'config.json')), error.message);
    assert.match(error.message, /not valid JSON/);
    assert.ok(error.hint !== undefined && error.hint.length > 0);
    assertNoSecret(error, SECRET);
  });

  test('wrong member types are errors naming the file', async () => {
    for (const config of [[], { auths: [] }, { auths: { x: 'str' } }, { auths: { x: { auth: 1 } } }, { credHelpers: { x: 1 } }, { credsStore: true }]) {
      const store = await storeFor(config);
      const error = await rejection(store.get('x'));
      assert.equal(error.code, 'ERR_REGISTRY_AUTH');
      assert.match(error.message, /config\.json/);
    }
  });
});

describe('auths entries', () => {
  for (const key of ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'http://index.docker.io/v1/', 'https://index.docker.io/v2/']) {
    test(`Docker Hub matches the key ${key}`, async () => {
      const store = await storeFor({ auths: { [key]: { auth: b64('hub:pw') } } });
      assert.deepEqual(await store.get('docker.io'), basic('hub', 'pw'));
      assert.deepEqual(await store.get('index.docker.io'), basic('hub', 'pw'));
      assert.deepEqual(await store.get('registry-1.docker.io'), basic('hub', 'pw'));
    });
  }

  test("Docker Hub prefers docker's own key https://index.docker.io/v1/", async () => {
    const store = await storeFor({ auths: { 'docker.io': { auth: b64('alias:pw') }, 'https://index.docker.io/v1/': { auth: b64('canonical:pw') } } });
    assert.deepEqual(await store.get('docker.io'), basic('canonical', 'pw'));
  });

  test('keys are normalised: scheme and path stripped, hostname case-insensitive, port kept', async () => {
    const store = await storeFor({
      auths: {
        'https://GHCR.io': { auth: b64('gh:pw') },
        'http://127.0.0.1:5000/v2/': { auth: b64('local:pw') },
        'quay.io/some/path': { username: 'q', password: 'pw' },
      },
    });
    assert.deepEqual(await store.get('ghcr.io'), basic('gh', 'pw'));
    assert.deepEqual(await store.get('127.0.0.1:5000'), basic('local', 'pw'));
    assert.deepEqual(await store.get('quay.io'), basic('q', 'pw'));
    assert.deepEqual(await store.get('127.0.0.1'), ANONYMOUS);
    assert.deepEqual(await store.get('127.0.0.1:5001'), ANONYMOUS);
    assert.deepEqual(await store.get('docker.io'), ANONYMOUS);
  });

  test('a host is not matched by a longer or shorter host', async () => {
    const store = await storeFor({ auths: { 'ghcr.io.evil.example': { auth: b64('a:b') }, 'io': { auth: b64('c:d') } } });
    assert.deepEqual(await store.get('ghcr.io'), ANONYMOUS);
  });

  test('auth splits at the first colon', async () => {
    const store = await storeFor({ auths: { 'reg.example.com': { auth: b64('user:pa:ss:') } } });
    assert.deepEqual(await store.get('reg.example.com'), basic('user', 'pa:ss:'));
  });

  test('username/password, identitytoken, registrytoken and empty entries', async () => {
    const store = await storeFor({
      auths: {
        'basic.example.com': { username: 'u', password: 'p', email: 'ignored@example.com' },
        'identity.example.com': { auth: b64('00000000-0000-0000-0000-000000000000:'), identitytoken: 'refresh-abc' },
        'identity-bare.example.com': { identitytoken: 'refresh-def' },
        'registry-token.example.com': { registrytoken: 'reg-tok' },
        'empty.example.com': {},
        'empty-auth.example.com': { auth: '' },
      },
    });
    assert.deepEqual(await store.get('basic.example.com'), basic('u', 'p'));
    assert.deepEqual(await store.get('identity.example.com'), {
      kind: 'identity-token',
      username: '00000000-0000-0000-0000-000000000000',
      token: 'refresh-abc',
    });
    assert.deepEqual(await store.get('identity-bare.example.com'), { kind: 'identity-token', username: '', token: 'refresh-def' });
    assert.deepEqual(await store.get('registry-token.example.com'), { kind: 'bearer', token: 'reg-tok' });
    assert.deepEqual(await store.get('empty.example.com'), ANONYMOUS);
    assert.deepEqual(await store.get('empty-auth.example.com'), ANONYMOUS);
    assert.deepEqual(await store.get('other.example.com'), ANONYMOUS);
  });

  test('an auth value without a colon is an error that does not show it', async () => {
    const store = await storeFor({ auths: { 'reg.example.com': { auth: b64(SECRET) } } });
    const error = await rejection(store.get('reg.example.com'));
    assert.equal(error.code, 'ERR_REGISTRY_AUTH');
    assert.match(error.message, /reg\.example\.com/);
    assertNoSecret(error, SECRET);
    assertNoSecret(error, b64(SECRET));
  });
});

describe('credential helpers', () => {
  test('credHelpers: the helper answers with username and secret', async () => {
    const log = join(root, `log-${++counter}`);
    const store = await storeFor({ credHelpers: { 'reg.example.com': 'fake' } }, { env: { FAKE_LOG: log } });
    assert.deepEqual(await store.get('reg.example.com'), basic('user-for-reg.example.com', 'pw'));
  });

  test('Docker Hub: the helper is asked for https://index.docker.io/v1/', async () => {
    const store = await storeFor({ credHelpers: { 'https://index.docker.io/v1/': 'fake' } });
    assert.deepEqual(await store.get('docker.io'), basic('user-for-https://index.docker.io/v1/', 'pw'));
    const viaAlias = await storeFor({ credHelpers: { 'docker.io': 'fake' } });
    assert.deepEqual(await viaAlias.get('index.docker.io'), basic('user-for-https://index.docker.io/v1/', 'pw'));
  });

  test('Username <token> means the secret is an identity token', async () => {
    const store = await storeFor({ credsStore: 'fake' });
    assert.deepEqual(await store.get('token.example.com'), { kind: 'identity-token', username: '', token: `refresh-${SECRET}` });
  });

  test('credsStore is used when no credHelpers entry matches; credHelpers wins otherwise', async () => {
    const calls: HelperRequest[] = [];
    const store = await storeFor(
      { credsStore: 'desktop', credHelpers: { 'gcr.io': 'gcloud' } },
      {
        runHelper: async (request) => {
          calls.push(request);
          return { status: 0, stdout: JSON.stringify({ ServerURL: request.serverUrl, Username: request.helper, Secret: 's' }), stderr: '' };
        },
      },
    );
    assert.deepEqual(await store.get('gcr.io'), basic('gcloud', 's'));
    assert.deepEqual(await store.get('ghcr.io'), basic('desktop', 's'));
    assert.deepEqual(
      calls.map((c) => [c.helper, c.serverUrl]),
      [
        ['gcloud', 'gcr.io'],
        ['desktop', 'ghcr.io'],
      ],
    );
  });

  test('credentials not found: fall through to auths, then anonymous', async () => {
    const store = await storeFor({ credsStore: 'fake', auths: { 'notfound.example.com': { auth: b64('from:auths') } } });
    assert.deepEqual(await store.get('notfound.example.com'), basic('from', 'auths'));
    const noAuths = await storeFor({ credHelpers: { 'notfound.example.com': 'fake' } });
    assert.deepEqual(await noAuths.get('notfound.example.com'), ANONYMOUS);
  });

  test('a failing helper: ERR_CREDENTIAL_HELPER naming helper and registry, without its output', async () => {
    const store = await storeFor({ credHelpers: { 'fail.example.com': 'fake' } });
    const error = await rejection(store.get('fail.example.com'));
    assert.equal(error.code, 'ERR_CREDENTIAL_HELPER');
    assert.equal(error.exitCode, 5);
    assert.match(error.message, /docker-credential-fake/);
    assert.match(error.message, /fail\.example\.com/);
    assert.match(error.message, /exit status 3/);
    assert.ok(error.hint?.includes('credHelpers'));
    assertNoSecret(error, SECRET);
  });

  test('a helper answering with something other than JSON is an error without its output', async () => {
    const store = await storeFor({ credsStore: 'fake' });
    const error = await rejection(store.get('garbage.example.com'));
    assert.equal(error.code, 'ERR_CREDENTIAL_HELPER');
    assert.match(error.message, /docker-credential-fake .*garbage\.example\.com/);
    assertNoSecret(error, SECRET);
  });

  test('a helper missing from PATH: a clear error naming docker-credential-<name>', async () => {
    const store = await storeFor({ credHelpers: { 'reg.example.com': 'missing' } });
    const error = await rejection(store.get('reg.example.com'));
    assert.equal(error.code, 'ERR_CREDENTIAL_HELPER');
    assert.match(error.message, /docker-credential-missing is not on PATH/);
    assert.match(error.message, /reg\.example\.com/);
    assert.match(error.hint ?? '', /install docker-credential-missing/);
  });

  test("the helper is looked up on the options' PATH, not this process's", async () => {
    const dir = await configDir({ credsStore: 'fake' });
    const store = dockerConfigCredentials({ env: { DOCKER_CONFIG: dir, PATH: '/usr/bin:/bin' }, kanikoDir: await emptyDir() });
    const error = await rejection(store.get('reg.example.com'));
    assert.match(error.message, /docker-credential-fake is not on PATH/);
  });

  test('a helper that hangs is killed after the timeout', async () => {
    const store = await storeFor({ credsStore: 'fake' }, { helperTimeoutMs: 300 });
    const error = await rejection(store.get('slow.example.com'));
    assert.equal(error.code, 'ERR_CREDENTIAL_HELPER');
    assert.match(error.message, /timed out after 0\.3 s/);
  });

  test('an invalid helper name is rejected before anything runs', async () => {
    const store = await storeFor({ credsStore: '../../bin/sh' });
    const error = await rejection(store.get('reg.example.com'));
    assert.equal(error.code, 'ERR_CREDENTIAL_HELPER');
    assert.match(error.message, /invalid name/);
  });

  test('answers are cached per registry; failures are not', async () => {
    let calls = 0;
    let fail = true;
    const store = await storeFor(
      { credsStore: 'counting' },
      {
        runHelper: async () => {
          calls++;
          if (fail) return { status: 1, stdout: '', stderr: '' };
          return { status: 0, stdout: '{"ServerURL":"x","Username":"u","Secret":"s"}', stderr: '' };
        },
      },
    );
    await rejection(store.get('reg.example.com'));
    fail = false;
    assert.deepEqual(await store.get('reg.example.com'), basic('u', 's'));
    assert.deepEqual(await store.get('REG.example.com'), basic('u', 's'));
    assert.deepEqual(await store.get('other.example.com'), basic('u', 's'));
    assert.equal(calls, 3);
  });

  test('a custom runner that throws: its message is not shown', async () => {
    const store = await storeFor({ credsStore: 'x' }, { runHelper: async () => Promise.reject(new Error(`spawn failed ${SECRET}`)) });
    const error = await rejection(store.get('reg.example.com'));
    assert.equal(error.code, 'ERR_CREDENTIAL_HELPER');
    assert.ok(!error.message.includes(SECRET) && !(error.hint ?? '').includes(SECRET));
  });
});

test('staticCredentials: by host, with Docker Hub aliases; anonymous otherwise', async () => {
  const store = staticCredentials(
    new Map<string, Credential>([
      ['docker.io', basic('hub', 'pw')],
      ['127.0.0.1:5000', { kind: 'bearer', token: 't' }],
    ]),
  );
  assert.deepEqual(await store.get('index.docker.io'), basic('hub', 'pw'));
  assert.deepEqual(await store.get('127.0.0.1:5000'), { kind: 'bearer', token: 't' });
  assert.deepEqual(await store.get('ghcr.io'), ANONYMOUS);
});
