// Signing keys from files: plain PKCS#8 keys made by openssl (P-256, P-384, Ed25519, RSA) sign
// what openssl then verifies (SHA-256, DER, PKCS#1 v1.5; pure Ed25519), the key types and PEM
// types refused with the file named, and where the password comes from (--key-password-file,
// COSIGN_PASSWORD, none) including a password file's final newline.
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encryptPrivateKey, KeySigner, parseSigningKey, readSigningKey, resolveKeyPassword, type SigningAlgorithm } from '../../src/supplychain/index.js';
import { missingTool, runTool } from '../support/tools.js';
import { rejection } from '../support/errors.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-signing-key-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));


const none = { kind: 'none' } as const;

describe('plain PKCS#8 keys made by openssl', { skip: missingTool('openssl', 'openssl') }, () => {
  const cases: Array<{ name: string; genpkey: string[]; algorithm: SigningAlgorithm; verify: (files: { pub: string; sig: string; payload: string }) => string[] }> = [
    { name: 'ECDSA P-256', genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], algorithm: 'ecdsa-p256-sha256', verify: (f) => ['dgst', '-sha256', '-verify', f.pub, '-signature', f.sig, f.payload] },
    { name: 'ECDSA P-384', genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], algorithm: 'ecdsa-p384-sha256', verify: (f) => ['dgst', '-sha256', '-verify', f.pub, '-signature', f.sig, f.payload] },
    { name: 'Ed25519', genpkey: ['-algorithm', 'ED25519'], algorithm: 'ed25519', verify: (f) => ['pkeyutl', '-verify', '-pubin', '-inkey', f.pub, '-rawin', '-in', f.payload, '-sigfile', f.sig] },
    { name: 'RSA 2048', genpkey: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], algorithm: 'rsa-pkcs1v15-sha256', verify: (f) => ['dgst', '-sha256', '-verify', f.pub, '-signature', f.sig, f.payload] },
  ];
  for (const each of cases) {
    test(`${each.name}: loads, signs, and openssl verifies the signature with the public key caisson derives`, async () => {
      const base = join(dir, each.algorithm);
      runTool('openssl', ['genpkey', ...each.genpkey, '-out', `${base}.pem`]);
      assert.match(readFileSync(`${base}.pem`, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
      const key = await readSigningKey({ path: `${base}.pem`, password: none });
      assert.equal(key.algorithm, each.algorithm);
      assert.equal(key.publicKeyPem, runTool('openssl', ['pkey', '-in', `${base}.pem`, '-pubout']));
      const signer = new KeySigner(key);
      const payload = Buffer.from(`DSSEv1 28 application/vnd.in-toto+json 2 {}`);
      const { signature, identity } = await signer.sign(payload);
      assert.deepEqual(identity, { kind: 'key', publicKeyPem: key.publicKeyPem });
      const files = { pub: `${base}.pub`, sig: `${base}.sig`, payload: `${base}.payload` };
      writeFileSync(files.pub, key.publicKeyPem);
      writeFileSync(files.sig, signature);
      writeFileSync(files.payload, payload);
      assert.match(runTool('openssl', each.verify(files)), /Verified OK|Signature Verified Successfully/);
      assert.ok(verify(each.algorithm === 'ed25519' ? null : 'sha256', payload, key.publicKeyPem, signature));
      writeFileSync(files.payload, Buffer.concat([payload, Buffer.from('x')]));
      assert.throws(() => runTool('openssl', each.verify(files)), /exited 1/, 'a changed payload fails');
    });
  }

  test('the same key encrypted in cosign format signs the same way', async () => {
    const pkcs8 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'der' });
    const pem = await encryptPrivateKey({ pkcs8, password: Buffer.from('pw'), cost: 32768 });
    const key = await parseSigningKey({ pem, file: 'p384.key', password: { kind: 'env', bytes: Buffer.from('pw') } });
    assert.equal(key.algorithm, 'ecdsa-p384-sha256');
    const { signature } = await new KeySigner(key).sign(Buffer.from('payload'));
    assert.ok(verify('sha256', Buffer.from('payload'), key.publicKeyPem, signature));
  });
});

describe('keys and files refused', () => {
  const pem = (type: string, bytes: Buffer): string => `-----BEGIN ${type}-----\n${bytes.toString('base64')}\n-----END ${type}-----\n`;

  test('unsupported curves, RSA sizes and key types are ERR_SIGNING_KEY naming the file', async () => {
    const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const curve = await rejection(parseSigningKey({ pem: secp256k1, file: 'k1.pem', password: none }));
    assert.equal(curve.code, 'ERR_SIGNING_KEY');
    assert.match(curve.message, /k1\.pem: unsupported elliptic curve secp256k1/);
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.match((await rejection(parseSigningKey({ pem: rsa1024, file: 'small.pem', password: none }))).message, /small\.pem: unsupported RSA key size 1024 bits/);
    const x25519 = generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.match((await rejection(parseSigningKey({ pem: x25519, file: 'x.pem', password: none }))).message, /x\.pem: unsupported key type x25519/);
  });

  test('other PEM types are refused with a hint to convert; text without PEM is named', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sec1 = await rejection(parseSigningKey({ pem: ec.privateKey.export({ type: 'sec1', format: 'pem' }).toString(), file: 'sec1.pem', password: none }));
    assert.equal(sec1.code, 'ERR_SIGNING_KEY');
    assert.match(sec1.message, /sec1\.pem: unsupported PEM type EC PRIVATE KEY/);
    assert.match(sec1.hint ?? '', /openssl pkcs8 -topk8 -nocrypt|cosign import-key-pair/);
    const pub = await rejection(parseSigningKey({ pem: ec.publicKey.export({ type: 'spki', format: 'pem' }).toString(), file: 'cosign.pub', password: none }));
    assert.match(pub.message, /cosign\.pub: this is a public key/);
    assert.match((await rejection(parseSigningKey({ pem: pem('CERTIFICATE', Buffer.from('x')), file: 'c.pem', password: none }))).message, /c\.pem: unsupported PEM type CERTIFICATE/);
    assert.match((await rejection(parseSigningKey({ pem: 'not a key', file: 'junk', password: none }))).message, /junk: no PEM block found/);
  });

  test('a missing key file is ERR_INPUT_NOT_FOUND naming it', async () => {
    const error = await rejection(readSigningKey({ path: join(dir, 'absent.key'), shown: 'absent.key', password: none }));
    assert.equal(error.code, 'ERR_INPUT_NOT_FOUND');
    assert.match(error.message, /signing key absent\.key: no such file/);
  });
});

describe('the key password', () => {
  test('--key-password-file wins over COSIGN_PASSWORD, which wins over none; bytes are kept as they are', async () => {
    writeFileSync(join(dir, 'pw'), ' spaced pw\n');
    assert.deepEqual(await resolveKeyPassword({ passwordFile: 'pw', cwd: dir, env: { COSIGN_PASSWORD: 'env' } }), { kind: 'file', path: 'pw', bytes: Buffer.from(' spaced pw\n') });
    assert.deepEqual(await resolveKeyPassword({ env: { COSIGN_PASSWORD: ' env ' } }), { kind: 'env', bytes: Buffer.from(' env ') });
    assert.deepEqual(await resolveKeyPassword({ env: { COSIGN_PASSWORD: '' } }), { kind: 'env', bytes: Buffer.alloc(0) });
    assert.deepEqual(await resolveKeyPassword({ env: {} }), { kind: 'none' });
    const missing = await rejection(resolveKeyPassword({ passwordFile: 'nope', cwd: dir, env: {} }));
    assert.equal(missing.code, 'ERR_INPUT_NOT_FOUND');
    assert.match(missing.message, /key password file nope: no such file/);
  });

  test('a password file with a final newline opens a key encrypted without it (echo pw > file), and one encrypted with it', async () => {
    const pkcs8 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'der' });
    const file = { kind: 'file', path: 'pw', bytes: Buffer.from('pw\n') } as const;
    const without = await encryptPrivateKey({ pkcs8, password: Buffer.from('pw'), cost: 32768 });
    assert.equal((await parseSigningKey({ pem: without, file: 'a.key', password: file })).algorithm, 'ecdsa-p256-sha256');
    const withNewline = await encryptPrivateKey({ pkcs8, password: Buffer.from('pw\n'), cost: 32768 });
    assert.equal((await parseSigningKey({ pem: withNewline, file: 'b.key', password: file })).algorithm, 'ecdsa-p256-sha256');
    const env = await rejection(parseSigningKey({ pem: without, file: 'a.key', password: { kind: 'env', bytes: Buffer.from('pw\n') } }));
    assert.match(env.message, /a\.key: wrong password/, 'COSIGN_PASSWORD is used exactly as set');
  });
});
