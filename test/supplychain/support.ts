/**
 * Test helper (never a test itself): P-256 keys and a `PayloadSigner` over them, and running
 * `openssl dgst -sha256 -verify` on a signature (and `openssl ts -verify` on an RFC 3161
 * timestamp) as an independent check.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PayloadSigner } from '../../src/supplychain/index.js';

export interface TestKey {
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
  readonly signer: PayloadSigner;
}

export function p256Key(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    privateKey,
    publicKeyPem,
    signer: { sign: async (data: Buffer) => ({ signature: sign('sha256', data, privateKey), identity: { kind: 'key', publicKeyPem } }) },
  };
}

/** Writes `files` to a temp dir, runs openssl with `args(dir)`; its exit status and stdout. */
function runOpenssl(options: { readonly files: Readonly<Record<string, Buffer | string>>; readonly args: (dir: string) => readonly string[] }): { readonly status: number | null; readonly stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'caisson-openssl-'));
  try {
    for (const [name, content] of Object.entries(options.files)) writeFileSync(join(dir, name), content);
    const result = spawnSync('openssl', options.args(dir), { encoding: 'utf8' });
    if (result.error) throw result.error;
    return { status: result.status, stdout: result.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl dgst -sha256 -verify pub.pem -signature sig.der data`: true when openssl says "Verified OK". */
export function opensslVerifies(options: { readonly publicKeyPem: string; readonly signature: Buffer; readonly data: Buffer }): boolean {
  const result = runOpenssl({
    files: { 'pub.pem': options.publicKeyPem, 'sig.der': options.signature, data: options.data },
    args: (dir) => ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig.der'), join(dir, 'data')],
  });
  return result.status === 0 && result.stdout.includes('Verified OK');
}

/**
 * `openssl ts -verify -data data -in resp.tsr -CAfile chain.pem`: true when openssl says
 * "Verification: OK" (the token's imprint is sha256(data), its CMS signature verifies, and its
 * signing certificate chains to the PEM chain).
 */
export function opensslTimestampVerifies(options: { readonly response: Buffer; readonly data: Buffer; readonly chainPem: string }): boolean {
  const result = runOpenssl({
    files: { 'resp.tsr': options.response, data: options.data, 'chain.pem': options.chainPem },
    args: (dir) => ['ts', '-verify', '-data', join(dir, 'data'), '-in', join(dir, 'resp.tsr'), '-CAfile', join(dir, 'chain.pem')],
  });
  return result.status === 0 && result.stdout.includes('Verification: OK');
}
