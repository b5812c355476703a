// cosign's encrypted private key files: the JSON body as go-securesystemslib writes it, round
// trips for every scrypt cost cosign accepts and the empty password, the older COSIGN PEM type,
// wrong passwords and malformed bodies, and openssl as the independent reader of the decrypted
// key and verifier of what it signs.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  COSIGN_PRIVATE_KEY_PEM_TYPE,
  decodePem,
  decryptPrivateKey,
  encodePem,
  encryptPrivateKey,
  generateKeyPair,
  KeySigner,
  parseSigningKey,
  readSigningKey,
  SCRYPT_COSTS,
  SIGSTORE_PRIVATE_KEY_PEM_TYPE,
} from '../../src/supplychain/index.js';
import { missingTool, runTool } from '../support/tools.js';
import { rejection } from '../support/errors.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-cosign-key-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const p256 = (): Buffer => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'der' });

function body(pem: string): Record<string, Record<string, unknown>> {
  const block = decodePem(pem);
  assert.ok(block !== undefined);
  return JSON.parse(block.bytes.toString('utf8')) as Record<string, Record<string, unknown>>;
}

/** Re-encodes a PEM block's JSON body after `change`. */
function tampered(pem: string, change: (json: Record<string, Record<string, unknown>>) => void): string {
  const json = body(pem);
  change(json);
  return encodePem({ type: SIGSTORE_PRIVATE_KEY_PEM_TYPE, bytes: Buffer.from(JSON.stringify(json)) });
}


describe('cosign encrypted key format', () => {
  test('the body is the JSON go-securesystemslib writes: scrypt N=65536 r=8 p=1, 32-byte salt, secretbox with a 24-byte nonce and a 16-byte tag', async () => {
    const pkcs8 = p256();
    const pem = await encryptPrivateKey({ pkcs8, password: Buffer.from('pw') });
    assert.match(pem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n$/);
    const json = body(pem);
    assert.deepEqual(Object.keys(json), ['kdf', 'cipher', 'ciphertext']);
    assert.deepEqual({ name: json.kdf?.['name'], params: json.kdf?.['params'] }, { name: 'scrypt', params: { N: 65536, r: 8, p: 1 } });
    assert.equal(Buffer.from(String(json.kdf?.['salt']), 'base64').length, 32);
    assert.equal(json.cipher?.['name'], 'nacl/secretbox');
    assert.equal(Buffer.from(String(json.cipher?.['nonce']), 'base64').length, 24);
    assert.equal(Buffer.from(String(json['ciphertext']), 'base64').length, pkcs8.length + 16);
    const again = body(await encryptPrivateKey({ pkcs8, password: Buffer.from('pw') }));
    assert.notEqual(again.kdf?.['salt'], json.kdf?.['salt'], 'a fresh salt each time');
    assert.notEqual(again.cipher?.['nonce'], json.cipher?.['nonce'], 'a fresh nonce each time');
  });

  for (const cost of SCRYPT_COSTS) {
    test(`round trip with scrypt N=${cost}`, async () => {
      const pkcs8 = p256();
      const pem = await encryptPrivateKey({ pkcs8, password: Buffer.from('correct horse'), cost });
      assert.equal((body(pem).kdf?.['params'] as { N: number }).N, cost);
      const block = decodePem(pem);
      assert.ok(block !== undefined);
      assert.deepEqual(await decryptPrivateKey({ body: block.bytes, password: Buffer.from('correct horse'), file: 'k' }), pkcs8);
      assert.equal(await decryptPrivateKey({ body: block.bytes, password: Buffer.from('correct horsE'), file: 'k' }), undefined);
    });
  }

  test('the empty password is a password: it encrypts and decrypts, and a non-empty one does not open it', async () => {
    const pkcs8 = p256();
    const pem = await encryptPrivateKey({ pkcs8, password: Buffer.alloc(0) });
    const key = await parseSigningKey({ pem, file: 'empty.key', password: { kind: 'none' } });
    assert.deepEqual(key.privateKey.export({ type: 'pkcs8', format: 'der' }), pkcs8);
    const wrong = await rejection(parseSigningKey({ pem, file: 'empty.key', password: { kind: 'env', bytes: Buffer.from('x') } }));
    assert.equal(wrong.code, 'ERR_SIGNING_KEY');
  });

  test('a wrong password is ERR_SIGNING_KEY naming the file, with a hint, and never the password', async () => {
    const pem = (await generateKeyPair({ password: Buffer.from('s3cret-right') })).privateKeyPem;
    const fromEnv = await rejection(parseSigningKey({ pem, file: '/keys/release.key', password: { kind: 'env', bytes: Buffer.from('hunter2-wrong') } }));
    assert.equal(fromEnv.code, 'ERR_SIGNING_KEY');
    assert.equal(fromEnv.exitCode, 9);
    assert.match(fromEnv.message, /\/keys\/release\.key/);
    assert.match(fromEnv.message, /wrong password/);
    assert.match(fromEnv.hint ?? '', /COSIGN_PASSWORD.*--key-password-file/);
    const fromNothing = await rejection(parseSigningKey({ pem, file: 'release.key', password: { kind: 'none' } }));
    assert.match(fromNothing.hint ?? '', /No password was given.*COSIGN_PASSWORD.*--key-password-file/);
    const fromFile = await rejection(parseSigningKey({ pem, file: 'release.key', password: { kind: 'file', path: 'pw.txt', bytes: Buffer.from('hunter2-wrong\n') } }));
    assert.match(fromFile.hint ?? '', /pw\.txt.*COSIGN_PASSWORD/);
    for (const error of [fromEnv, fromNothing, fromFile]) {
      const everything = `${error.message}\n${error.hint ?? ''}\n${error.stack ?? ''}`;
      assert.doesNotMatch(everything, /hunter2|s3cret/);
    }
  });

  test('the older ENCRYPTED COSIGN PRIVATE KEY type is read the same way', async () => {
    const pkcs8 = p256();
    const sigstore = decodePem(await encryptPrivateKey({ pkcs8, password: Buffer.from('pw') }));
    assert.ok(sigstore !== undefined);
    const pem = encodePem({ type: COSIGN_PRIVATE_KEY_PEM_TYPE, bytes: sigstore.bytes });
    assert.match(pem, /^-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n/);
    const key = await parseSigningKey({ pem, file: 'old.key', password: { kind: 'env', bytes: Buffer.from('pw') } });
    assert.deepEqual(key.privateKey.export({ type: 'pkcs8', format: 'der' }), pkcs8);
    assert.equal(key.algorithm, 'ecdsa-p256-sha256');
  });

  test('only scrypt N in {32768, 65536, 131072} with r=8, p=1, and the exact kdf and cipher names, are accepted', async () => {
    const pem = await encryptPrivateKey({ pkcs8: p256(), password: Buffer.alloc(0), cost: 32768 });
    const cases: Array<[string, (json: Record<string, Record<string, unknown>>) => void, RegExp]> = [
      ['N=16384', (json) => ((json.kdf as { params: { N: number } }).params.N = 16384), /unsupported scrypt parameters N=16384 r=8 p=1/],
      ['r=16', (json) => ((json.kdf as { params: { r: number } }).params.r = 16), /unsupported scrypt parameters N=32768 r=16 p=1/],
      ['p=2', (json) => ((json.kdf as { params: { p: number } }).params.p = 2), /unsupported scrypt parameters N=32768 r=8 p=2/],
      ['kdf pbkdf2', (json) => ((json.kdf as { name: string }).name = 'pbkdf2'), /unknown kdf "pbkdf2"/],
      ['cipher aes', (json) => ((json.cipher as { name: string }).name = 'aes-gcm'), /unknown cipher "aes-gcm"/],
      ['short nonce', (json) => ((json.cipher as { nonce: string }).nonce = Buffer.alloc(12).toString('base64')), /nonce is 12 bytes, not 24/],
    ];
    for (const [what, change, message] of cases) {
      const error = await rejection(parseSigningKey({ pem: tampered(pem, change), file: 'bad.key', password: { kind: 'none' } }));
      assert.equal(error.code, 'ERR_SIGNING_KEY', what);
      assert.match(error.message, /bad\.key/, what);
      assert.match(error.message, message, what);
    }
    const notJson = encodePem({ type: SIGSTORE_PRIVATE_KEY_PEM_TYPE, bytes: randomBytes(40) });
    assert.match((await rejection(parseSigningKey({ pem: notJson, file: 'bad.key', password: { kind: 'none' } }))).message, /bad\.key.*not JSON/);
    const flipped = tampered(pem, (json) => {
      const ciphertext = Buffer.from(String(json['ciphertext']), 'base64');
      ciphertext[20] = (ciphertext[20] ?? 0) ^ 1;
      (json as Record<string, unknown>)['ciphertext'] = ciphertext.toString('base64');
    });
    assert.match((await rejection(parseSigningKey({ pem: flipped, file: 'bad.key', password: { kind: 'none' } }))).message, /wrong password/, 'a corrupted box does not open');
  });

  test('a box that opens but holds no PKCS#8 key (a SEC1 EC key, as some old cosign files) is named', async () => {
    const sec1 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'der' });
    const pem = await encryptPrivateKey({ pkcs8: sec1, password: Buffer.alloc(0), cost: 32768 });
    const error = await rejection(parseSigningKey({ pem, file: 'sec1.key', password: { kind: 'none' } }));
    assert.equal(error.code, 'ERR_SIGNING_KEY');
    assert.match(error.message, /sec1\.key: the key is not valid PKCS#8/);
  });
});

describe('cosign keys checked with openssl', { skip: missingTool('openssl', 'openssl') }, () => {
  test('generateKeyPair: the decrypted key, re-exported as PKCS#8, is a P-256 key openssl reads, whose public key is cosign.pub', async () => {
    const pair = await generateKeyPair({ password: Buffer.from('pw') });
    writeFileSync(join(dir, 'cosign.key'), pair.privateKeyPem);
    const key = await readSigningKey({ path: join(dir, 'cosign.key'), password: { kind: 'env', bytes: Buffer.from('pw') } });
    const pkcs8 = join(dir, 'decrypted.pem');
    writeFileSync(pkcs8, key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    assert.match(runTool('openssl', ['pkey', '-in', pkcs8, '-noout', '-text']), /ASN1 OID: prime256v1/);
    assert.equal(runTool('openssl', ['pkey', '-in', pkcs8, '-pubout']), pair.publicKeyPem);
    assert.equal(key.publicKeyPem, pair.publicKeyPem);
  });

  test('a payload signed with the loaded cosign key verifies with openssl dgst -sha256 -verify cosign.pub', async () => {
    const pair = await generateKeyPair({ password: Buffer.alloc(0) });
    writeFileSync(join(dir, 'sign.key'), pair.privateKeyPem);
    writeFileSync(join(dir, 'cosign.pub'), pair.publicKeyPem);
    const payload = Buffer.from('{"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"docker-manifest-digest":"sha256:' + '0'.repeat(64) + '"},"type":"cosign container image signature"},"optional":null}');
    writeFileSync(join(dir, 'payload'), payload);
    const signer = new KeySigner(await readSigningKey({ path: join(dir, 'sign.key'), password: { kind: 'none' } }));
    const { signature, identity } = await signer.sign(payload);
    assert.deepEqual(identity, { kind: 'key', publicKeyPem: pair.publicKeyPem });
    assert.equal(signature[0], 0x30, 'an ASN.1 DER SEQUENCE');
    writeFileSync(join(dir, 'sig.der'), signature);
    assert.match(runTool('openssl', ['dgst', '-sha256', '-verify', join(dir, 'cosign.pub'), '-signature', join(dir, 'sig.der'), join(dir, 'payload')]), /Verified OK/);
    writeFileSync(join(dir, 'payload'), Buffer.concat([payload, Buffer.from(' ')]));
    assert.throws(() => runTool('openssl', ['dgst', '-sha256', '-verify', join(dir, 'cosign.pub'), '-signature', join(dir, 'sig.der'), join(dir, 'payload')]), /exited 1/, 'a changed payload fails');
  });
});
