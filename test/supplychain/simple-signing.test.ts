// The simple-signing payload: cosign's exact bytes, the docker-reference cosign writes, a
// signature over it checked by openssl, and each parser rejection with its own problem name.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseReference, type Digest } from '../../src/image/index.js';
import { dockerReferenceOf, parseSimpleSigningPayload, SignatureFormatError, simpleSigningPayload, type FormatProblem } from '../../src/supplychain/index.js';
import { opensslVerifies, p256Key } from './support.js';

const DIGEST = `sha256:${'ab'.repeat(32)}` as Digest;

test('the payload is byte-for-byte what cosign writes, optional null without annotations', () => {
  const bytes = simpleSigningPayload({ dockerReference: 'ghcr.io/org/app', digest: DIGEST });
  assert.equal(
    bytes.toString('utf8'),
    `{"critical":{"identity":{"docker-reference":"ghcr.io/org/app"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},"optional":null}`,
  );
  assert.deepEqual(simpleSigningPayload({ dockerReference: 'ghcr.io/org/app', digest: DIGEST, annotations: {} }), bytes);
});

test('annotations go into optional with sorted keys, and Go escapes < > &', () => {
  const bytes = simpleSigningPayload({ dockerReference: 'r.example/a', digest: DIGEST, annotations: { z: '1', a: 'x<y>&z', m: { d: 1, b: 2 } } });
  assert.equal(
    bytes.toString('utf8'),
    `{"critical":{"identity":{"docker-reference":"r.example/a"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},"optional":{"a":"x\\u003cy\\u003e\\u0026z","m":{"b":2,"d":1},"z":"1"}}`,
  );
  const parsed = parseSimpleSigningPayload({ bytes, what: 'layer' });
  assert.deepEqual(parsed.optional, { a: 'x<y>&z', m: { b: 2, d: 1 }, z: '1' });
});

test('docker-reference: the repository as go-containerregistry names it, Docker Hub as index.docker.io', () => {
  assert.equal(dockerReferenceOf(parseReference('alpine:3.20')), 'index.docker.io/library/alpine');
  assert.equal(dockerReferenceOf(parseReference('127.0.0.1:5000/team/app:v1')), '127.0.0.1:5000/team/app');
});

test('a signature over the payload verifies with openssl and the payload parses back', async () => {
  const key = p256Key();
  const payload = simpleSigningPayload({ dockerReference: dockerReferenceOf(parseReference('ghcr.io/org/app')), digest: DIGEST });
  const { signature, identity } = await key.signer.sign(payload);
  assert.deepEqual(identity, { kind: 'key', publicKeyPem: key.publicKeyPem });
  assert.equal(opensslVerifies({ publicKeyPem: key.publicKeyPem, signature, data: payload }), true);
  assert.equal(opensslVerifies({ publicKeyPem: key.publicKeyPem, signature, data: Buffer.concat([payload, Buffer.from(' ')]) }), false);
  assert.deepEqual(parseSimpleSigningPayload({ bytes: payload, what: 'x' }), { dockerReference: 'ghcr.io/org/app', digest: DIGEST, optional: null });
});

function rejects(text: string, problem: FormatProblem): void {
  assert.throws(
    () => parseSimpleSigningPayload({ bytes: Buffer.from(text), what: 'ghcr.io/org/app:sha256-ab.sig layer 0' }),
    (error: unknown) => {
      assert.ok(error instanceof SignatureFormatError, String(error));
      assert.equal(error.code, 'ERR_SIGNATURE_INVALID');
      assert.equal(error.problem, problem, `${text}: ${error.message}`);
      assert.match(error.message, /^ghcr\.io\/org\/app:sha256-ab\.sig layer 0: /);
      return true;
    },
  );
}

function payload(critical: Record<string, unknown>, rest: Record<string, unknown> = {}): string {
  return JSON.stringify({
    critical: { identity: { 'docker-reference': 'ghcr.io/org/app' }, image: { 'docker-manifest-digest': DIGEST }, type: 'cosign container image signature', ...critical },
    optional: null,
    ...rest,
  });
}

test('the parser rejects each malformation with its own problem', () => {
  assert.doesNotThrow(() => parseSimpleSigningPayload({ bytes: Buffer.from(payload({})), what: 'x' }));
  rejects('{"critical":', 'not-json');
  rejects('[1]', 'not-object');
  rejects('{"optional":null}', 'simple-signing-critical');
  rejects(payload({ type: 'cosign container image signature ' }), 'simple-signing-type');
  rejects(payload({ type: 'Cosign Container Image Signature' }), 'simple-signing-type');
  rejects(payload({ type: undefined }), 'simple-signing-type');
  rejects(payload({ image: { 'Docker-manifest-digest': DIGEST } }), 'simple-signing-digest');
  rejects(payload({ image: { 'docker-manifest-digest': `sha256:${'AB'.repeat(32)}` } }), 'simple-signing-digest');
  rejects(payload({ image: { 'docker-manifest-digest': 'sha256:abc' } }), 'simple-signing-digest');
  rejects(payload({ identity: {} }), 'simple-signing-identity');
  rejects(payload({ identity: { 'docker-reference': '' } }), 'simple-signing-identity');
  rejects(payload({ identity: { 'docker-reference': 'Not A/Reference' } }), 'simple-signing-identity');
  rejects(payload({}, { optional: 'x' }), 'simple-signing-optional');
  rejects(payload({}, { optional: [] }), 'simple-signing-optional');
});
