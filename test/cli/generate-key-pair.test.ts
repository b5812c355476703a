// `caisson generate-key-pair` as a process (bin/caisson.js): the two files and their modes, the
// password from COSIGN_PASSWORD or --key-password-file (the key then loads with it), the empty
// password warned about, and existing files left alone unless --force.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readSigningKey } from '../../src/supplychain/index.js';
import { projectRoot } from '../support/paths.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-generate-key-pair-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function caisson(args: string[], options: { cwd: string; env?: Record<string, string> }): { status: number | null; stdout: string; stderr: string } {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  if (options.env?.['COSIGN_PASSWORD'] === undefined) delete env['COSIGN_PASSWORD'];
  return spawnSync(process.execPath, [join(projectRoot(), 'bin', 'caisson.js'), 'generate-key-pair', ...args], { encoding: 'utf8', cwd: options.cwd, env });
}

const mode = (path: string): number => statSync(path).mode & 0o777;

function workdir(name: string): string {
  const path = join(dir, name);
  mkdirSync(path);
  return path;
}

describe('caisson generate-key-pair', () => {
  test('writes cosign.key (0600, encrypted with COSIGN_PASSWORD) and cosign.pub (0644) in the working directory', async () => {
    const cwd = workdir('default');
    const result = caisson([], { cwd, env: { COSIGN_PASSWORD: 'from env' } });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /Private key written to cosign\.key\n.*Public key written to cosign\.pub/s);
    assert.equal(mode(join(cwd, 'cosign.key')), 0o600);
    assert.equal(mode(join(cwd, 'cosign.pub')), 0o644);
    const privateKeyPem = readFileSync(join(cwd, 'cosign.key'), 'utf8');
    const publicKeyPem = readFileSync(join(cwd, 'cosign.pub'), 'utf8');
    assert.match(privateKeyPem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    assert.match(publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
    const key = await readSigningKey({ path: join(cwd, 'cosign.key'), password: { kind: 'env', bytes: Buffer.from('from env') } });
    assert.equal(key.algorithm, 'ecdsa-p256-sha256');
    assert.equal(key.publicKeyPem, publicKeyPem);
    await assert.rejects(readSigningKey({ path: join(cwd, 'cosign.key'), password: { kind: 'none' } }), { code: 'ERR_SIGNING_KEY' });
  });

  test('--output-key-prefix and --key-password-file (its bytes, over COSIGN_PASSWORD)', async () => {
    const cwd = workdir('prefix');
    mkdirSync(join(cwd, 'keys'));
    writeFileSync(join(cwd, 'pw'), 'file pw');
    const result = caisson(['--output-key-prefix', 'keys/release', '--key-password-file', 'pw'], { cwd, env: { COSIGN_PASSWORD: 'ignored' } });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual([existsSync(join(cwd, 'cosign.key')), mode(join(cwd, 'keys', 'release.key')), mode(join(cwd, 'keys', 'release.pub'))], [false, 0o600, 0o644]);
    const key = await readSigningKey({ path: join(cwd, 'keys', 'release.key'), password: { kind: 'file', path: 'pw', bytes: Buffer.from('file pw') } });
    assert.equal(key.publicKeyPem, readFileSync(join(cwd, 'keys', 'release.pub'), 'utf8'));
  });

  test('no password source: the empty password, with a warning', async () => {
    const cwd = workdir('empty');
    const result = caisson([], { cwd });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /no password given \(COSIGN_PASSWORD or --key-password-file\)/);
    const key = await readSigningKey({ path: join(cwd, 'cosign.key'), password: { kind: 'none' } });
    assert.equal(key.algorithm, 'ecdsa-p256-sha256');
  });

  test('existing files are left alone without --force (nothing written); --force replaces both, the key with mode 0600', () => {
    const cwd = workdir('existing');
    writeFileSync(join(cwd, 'cosign.pub'), 'old public key\n');
    const refused = caisson([], { cwd, env: { COSIGN_PASSWORD: 'pw' } });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /error: generate-key-pair: cosign\.pub already exists; nothing written \[ERR_USAGE\]/);
    assert.match(refused.stderr, /hint: Pass --force/);
    assert.equal(existsSync(join(cwd, 'cosign.key')), false);
    assert.equal(readFileSync(join(cwd, 'cosign.pub'), 'utf8'), 'old public key\n');
    writeFileSync(join(cwd, 'cosign.key'), 'old private key\n');
    chmodSync(join(cwd, 'cosign.key'), 0o644);
    assert.match(caisson([], { cwd, env: { COSIGN_PASSWORD: 'pw' } }).stderr, /cosign\.key and cosign\.pub already exist/);
    const forced = caisson(['--force'], { cwd, env: { COSIGN_PASSWORD: 'pw' } });
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(readFileSync(join(cwd, 'cosign.key'), 'utf8'), /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/);
    assert.match(readFileSync(join(cwd, 'cosign.pub'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(mode(join(cwd, 'cosign.key')), 0o600);
  });

  test('an unreadable --key-password-file is named, and nothing is written', () => {
    const cwd = workdir('bad-password-file');
    const result = caisson(['--key-password-file', 'missing.txt'], { cwd });
    assert.equal(result.status, 4);
    assert.match(result.stderr, /cannot read the key password file missing\.txt: no such file \[ERR_INPUT_NOT_FOUND\]/);
    assert.equal(existsSync(join(cwd, 'cosign.key')), false);
  });
});
