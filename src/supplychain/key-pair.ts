/**
 * A new cosign key pair, as `cosign generate-key-pair` makes: an ECDSA P-256 key, encrypted
 * (`ENCRYPTED SIGSTORE PRIVATE KEY`, scrypt N=65536), and its SPKI `PUBLIC KEY` PEM.
 */
import { generateKeyPair as generateNodeKeyPair, type KeyObject } from 'node:crypto';
import { encryptPrivateKey, type ScryptCost } from './cosign-key.js';

/** The two files of a cosign key pair: `cosign.key` and `cosign.pub`. */
export interface CosignKeyPair {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/** Generates an ECDSA P-256 key pair; the private key is encrypted with `password` (empty is valid). */
export async function generateKeyPair(options: { readonly password: Buffer; readonly cost?: ScryptCost }): Promise<CosignKeyPair> {
  const { privateKey, publicKey } = await new Promise<{ privateKey: KeyObject; publicKey: KeyObject }>((resolve, reject) => {
    generateNodeKeyPair('ec', { namedCurve: 'P-256' }, (error, publicKey, privateKey) => (error === null ? resolve({ privateKey, publicKey }) : reject(error)));
  });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  return {
    privateKeyPem: await encryptPrivateKey({ pkcs8, password: options.password, ...(options.cost === undefined ? {} : { cost: options.cost }) }),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
