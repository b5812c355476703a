// Tekton Chains' signing-secrets directory: x509.pem (ECDSA PKCS#8) first, else cosign.key with
// cosign.password (bytes as they are, possibly empty), and errors that name the directory when
// neither layout is complete.
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair, loadSigningSecrets } from '../../src/supplychain/index.js';
import { rejection } from '../support/errors.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-signing-secrets-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function secrets(name: string, files: Record<string, string | Buffer>): string {
  const directory = join(dir, name);
  mkdirSync(directory);
  for (const [file, content] of Object.entries(files)) writeFileSync(join(directory, file), content);
  return directory;
}


const payload = Buffer.from('{"critical":{}}');

describe('Tekton Chains signing-secrets', () => {
  test('x509.pem: an unencrypted ECDSA PKCS#8 key signs, and is taken before cosign.key', async () => {
    const x509 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cosign = await generateKeyPair({ password: Buffer.from('pw') });
    const directory = secrets('x509', { 'x509.pem': x509.privateKey.export({ type: 'pkcs8', format: 'pem' }), 'cosign.key': cosign.privateKeyPem, 'cosign.password': 'pw' });
    const signer = await loadSigningSecrets({ directory });
    const publicKeyPem = x509.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.deepEqual(signer.identity, { kind: 'key', publicKeyPem });
    assert.equal(signer.source, join(directory, 'x509.pem'));
    const { signature } = await signer.sign(payload);
    assert.ok(verify('sha256', payload, publicKeyPem, signature));
  });

  test('x509.pem holds ECDSA keys only, as Chains', async () => {
    const directory = secrets('x509-ed25519', { 'x509.pem': generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) });
    const error = await rejection(loadSigningSecrets({ directory }));
    assert.equal(error.code, 'ERR_SIGNING_KEY');
    assert.match(error.message, /x509\.pem: Tekton Chains accepts only ECDSA keys/);
  });

  test('cosign.key with cosign.password: the password bytes as they are', async () => {
    const password = Buffer.from(' pw with spaces \t');
    const pair = await generateKeyPair({ password });
    const signer = await loadSigningSecrets({ directory: secrets('cosign', { 'cosign.key': pair.privateKeyPem, 'cosign.password': password, 'cosign.pub': pair.publicKeyPem }) });
    assert.deepEqual(signer.identity, { kind: 'key', publicKeyPem: pair.publicKeyPem });
    assert.equal(signer.algorithm, 'ecdsa-p256-sha256');
    assert.ok(verify('sha256', payload, pair.publicKeyPem, (await signer.sign(payload)).signature));
    const trimmed = await rejection(loadSigningSecrets({ directory: secrets('cosign-trimmed', { 'cosign.key': pair.privateKeyPem, 'cosign.password': password.toString().trim() }) }));
    assert.equal(trimmed.code, 'ERR_SIGNING_KEY');
    assert.match(trimmed.message, /cosign-trimmed\/cosign\.key: wrong password/);
    assert.match(trimmed.hint ?? '', /cosign\.password/);
  });

  test('an empty cosign.password is the empty password', async () => {
    const pair = await generateKeyPair({ password: Buffer.alloc(0) });
    const signer = await loadSigningSecrets({ directory: secrets('cosign-empty', { 'cosign.key': pair.privateKeyPem, 'cosign.password': '' }) });
    assert.deepEqual(signer.identity, { kind: 'key', publicKeyPem: pair.publicKeyPem });
  });

  test('cosign.key without cosign.password, an empty directory and a missing one are errors naming the directory', async () => {
    const pair = await generateKeyPair({ password: Buffer.alloc(0) });
    const noPassword = secrets('no-password', { 'cosign.key': pair.privateKeyPem });
    const missingPassword = await rejection(loadSigningSecrets({ directory: noPassword }));
    assert.equal(missingPassword.code, 'ERR_SIGNING_KEY');
    assert.match(missingPassword.message, /no-password: cosign\.key is there but cosign\.password is not/);
    const empty = secrets('empty', { 'cosign.pub': pair.publicKeyPem });
    const nothing = await rejection(loadSigningSecrets({ directory: empty }));
    assert.equal(nothing.code, 'ERR_SIGNING_KEY');
    assert.equal(nothing.message, `no signing key in ${empty}: looked for x509.pem, then cosign.key`);
    assert.match(nothing.hint ?? '', /signing-secrets/);
    const absent = await rejection(loadSigningSecrets({ directory: join(dir, 'absent') }));
    assert.equal(absent.message, `no signing key in ${join(dir, 'absent')}: looked for x509.pem, then cosign.key`);
  });
});
