// Digests: validation, and the streaming verifier that every read goes through.
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { isDigest, parseDigest, sha256, VerifyingStream } from '../../src/image/index.js';

async function drain(data: Buffer[], verify: VerifyingStream): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(data), verify, new Writable({ write(chunk: Buffer, _e, cb) { out.push(chunk); cb(); } }));
  return Buffer.concat(out);
}

describe('digests', () => {
  test('isDigest', () => {
    assert.ok(isDigest(sha256('x')));
    assert.ok(!isDigest('sha256:ABC'));
    assert.ok(!isDigest(`sha256:${'A'.repeat(64)}`));
    assert.ok(!isDigest(`md5:${'a'.repeat(32)}`));
    assert.ok(isDigest(`sha512:${'a'.repeat(128)}`));
    assert.throws(() => parseDigest('nope', 'manifest.json'), /manifest.json: invalid digest "nope"/);
  });

  test('passes matching content through unchanged', async () => {
    const data = [Buffer.from('hello '), Buffer.from('world')];
    const out = await drain(data, new VerifyingStream({ expected: sha256('hello world'), size: 11, what: 'blob' }));
    assert.equal(out.toString(), 'hello world');
  });

  test('a mismatch names the blob and both digests', async () => {
    const expected = sha256('hello world');
    await assert.rejects(drain([Buffer.from('hello there')], new VerifyingStream({ expected, size: 11, what: 'ghcr.io/a/b@blob' })), (error: unknown) => {
      assert.ok(error instanceof CaissonError);
      assert.equal(error.code, 'ERR_DIGEST_MISMATCH');
      assert.ok(error.message.includes('ghcr.io/a/b@blob'));
      assert.ok(error.message.includes(expected));
      assert.ok(error.message.includes(sha256('hello there')));
      return true;
    });
  });

  test('too many or too few bytes', async () => {
    const expected = sha256('abc');
    await assert.rejects(drain([Buffer.from('abcd')], new VerifyingStream({ expected, size: 3, what: 'x' })), /more than 3 bytes/);
    await assert.rejects(drain([Buffer.from('ab')], new VerifyingStream({ expected, size: 3, what: 'x' })), /only 2 bytes/);
  });
});
