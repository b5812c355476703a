// DSSE: the PAE recomputed here from the protocol text (byte lengths, not character counts), a
// signature over it verified by openssl, stable envelope bytes, and the parser's rejections.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  IN_TOTO_PAYLOAD_TYPE, parseEnvelope, preAuthEncoding, serializeEnvelope, signEnvelope, SignatureFormatError, type FormatProblem,
} from '../../src/supplychain/index.js';
import { opensslVerifies, p256Key } from './support.js';

// Multi-byte characters: 'é' is 2 bytes, '✓' 3, '😀' 4, so a character count would be wrong.
const BODY = Buffer.from('{"_type":"https://in-toto.io/Statement/v1","note":"é✓😀"}', 'utf8');

test('PAE is "DSSEv1 <len type> <type> <len body> <body>" with byte lengths', () => {
  const expected = Buffer.concat([Buffer.from('DSSEv1 28 application/vnd.in-toto+json 62 ', 'ascii'), BODY]);
  assert.equal(BODY.length, 62);
  assert.equal([...BODY.toString('utf8')].length, 56);
  assert.deepEqual(preAuthEncoding({ payloadType: IN_TOTO_PAYLOAD_TYPE, payload: BODY }), expected);
  assert.deepEqual(preAuthEncoding({ payloadType: 'tÿpe', payload: Buffer.alloc(0) }), Buffer.from('DSSEv1 5 tÿpe 0 ', 'utf8'));
});

test('a signed envelope verifies with openssl over the independently built PAE', async () => {
  const key = p256Key();
  const { envelope, signature } = await signEnvelope({ payloadType: IN_TOTO_PAYLOAD_TYPE, payload: BODY, signer: key.signer });
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(IN_TOTO_PAYLOAD_TYPE)} ${IN_TOTO_PAYLOAD_TYPE} ${BODY.length} `), BODY]);
  const sig = envelope.signatures[0]?.sig;
  assert.ok(sig !== undefined);
  assert.deepEqual(sig, signature.signature);
  assert.equal(opensslVerifies({ publicKeyPem: key.publicKeyPem, signature: sig, data: pae }), true);
  // The signature is over the PAE, not over the body or its base64.
  assert.equal(opensslVerifies({ publicKeyPem: key.publicKeyPem, signature: sig, data: BODY }), false);
  assert.equal(opensslVerifies({ publicKeyPem: key.publicKeyPem, signature: sig, data: Buffer.from(BODY.toString('base64')) }), false);
  const parsed = parseEnvelope({ bytes: serializeEnvelope(envelope), what: 'att' });
  assert.deepEqual(parsed, envelope);
});

test('envelope bytes: payload, payloadType, signatures[{keyid?, sig}], standard base64; keyid omitted when absent', () => {
  const payload = Buffer.from([0xfb, 0xff, 0xfe]);
  const bytes = serializeEnvelope({ payloadType: 'x/y', payload, signatures: [{ sig: Buffer.from([0xff, 0xee]) }, { keyid: 'SHA256:abc', sig: Buffer.from('s') }] });
  assert.equal(bytes.toString(), '{"payload":"+//+","payloadType":"x/y","signatures":[{"sig":"/+4="},{"keyid":"SHA256:abc","sig":"cw=="}]}');
});

test('the parser accepts URL-safe and unpadded base64, as DSSE allows', () => {
  const parsed = parseEnvelope({ bytes: Buffer.from('{"payload":"-__-","payloadType":"x/y","signatures":[{"sig":"_-4","keyid":""}]}'), what: 'att' });
  assert.deepEqual(parsed, { payloadType: 'x/y', payload: Buffer.from([0xfb, 0xff, 0xfe]), signatures: [{ sig: Buffer.from([0xff, 0xee]) }] });
});

function rejects(text: string, problem: FormatProblem): void {
  assert.throws(
    () => parseEnvelope({ bytes: Buffer.from(text), what: 'ghcr.io/org/app:sha256-ab.att layer 0' }),
    (error: unknown) => error instanceof SignatureFormatError && error.code === 'ERR_SIGNATURE_INVALID' && error.problem === problem,
    `${text} should fail with ${problem}`,
  );
}

test('the parser rejects each malformation with its own problem', () => {
  const sig = '{"sig":"MEUC"}';
  rejects('nope', 'not-json');
  rejects('"str"', 'not-object');
  rejects(`{"payloadType":"x/y","signatures":[${sig}]}`, 'dsse-payload');
  rejects(`{"payload":"a+b_","payloadType":"x/y","signatures":[${sig}]}`, 'dsse-payload');
  rejects(`{"payload":"abc!","payloadType":"x/y","signatures":[${sig}]}`, 'dsse-payload');
  rejects(`{"payload":"YWJj","signatures":[${sig}]}`, 'dsse-payload-type');
  rejects(`{"payload":"YWJj","payloadType":"","signatures":[${sig}]}`, 'dsse-payload-type');
  rejects('{"payload":"YWJj","payloadType":"x/y","signatures":[]}', 'dsse-signatures');
  rejects('{"payload":"YWJj","payloadType":"x/y"}', 'dsse-signatures');
  rejects('{"payload":"YWJj","payloadType":"x/y","signatures":[{"sig":""}]}', 'dsse-signature');
  rejects('{"payload":"YWJj","payloadType":"x/y","signatures":[{"sig":"MEUC","keyid":7}]}', 'dsse-signature');
  rejects('{"payload":"YWJj","payloadType":"x/y","signatures":["MEUC"]}', 'dsse-signature');
});
