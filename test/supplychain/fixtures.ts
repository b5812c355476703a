/**
 * Test helper (never a test itself): fixed inputs for the golden files, so their bytes never
 * change between runs: a public key, a certificate-shaped PEM, fixed signature bytes, a tlog entry.
 */
import type { Digest } from '../../src/image/index.js';
import type { PayloadSignature, TlogEntry } from '../../src/supplychain/index.js';

export const IMAGE_DIGEST = `sha256:${'5e'.repeat(32)}` as Digest;

export const PUBLIC_KEY_PEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEHu0Vck6ckzXeSslZZSnjsVY4naC8
d2riSx3+sX33mi1YPU4+3V/nX1rlxqz+mE30td82WTLsb18LbvDgIJZ2nA==
-----END PUBLIC KEY-----
`;

/** Not a real certificate: only its place in the annotations matters here. */
export const CERTIFICATE_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfakeleafcertificate\n-----END CERTIFICATE-----\n';
export const CHAIN_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfakeintermediate\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nMIIBfakeroot\n-----END CERTIFICATE-----\n';

export const KEY_SIGNATURE: PayloadSignature = { signature: Buffer.from('3045022100' + '11'.repeat(32) + '0220' + '22'.repeat(32), 'hex'), identity: { kind: 'key', publicKeyPem: PUBLIC_KEY_PEM } };
export const CERT_SIGNATURE: PayloadSignature = {
  signature: Buffer.from('3044022033' + '33'.repeat(31) + '0220' + '44'.repeat(32), 'hex'),
  identity: { kind: 'certificate', certificatePem: CERTIFICATE_PEM, chainPem: CHAIN_PEM },
};

export const TLOG_ENTRY: TlogEntry = {
  kind: 'hashedrekord',
  logIndex: 123456789,
  integratedTime: 1764151200,
  logId: Buffer.from('c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d', 'hex'),
  canonicalizedBody: Buffer.from('{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}'),
  signedEntryTimestamp: Buffer.from('3045022100' + '55'.repeat(32) + '0220' + '66'.repeat(32), 'hex'),
};
