/**
 * A `PayloadSigner` over a loaded private key: ECDSA (DER) and RSA PKCS#1 v1.5 over SHA-256,
 * pure Ed25519 (signing-key.ts says why these hashes). Its identity is the public key, as
 * `cosign.pub`.
 */
import { sign } from 'node:crypto';
import type { PayloadSignature, PayloadSigner, SignerIdentity } from './signer.js';
import type { SigningAlgorithm, SigningKey } from './signing-key.js';

/** Signs with a key file's key; `identity` is `{kind: 'key', publicKeyPem}`. */
export class KeySigner implements PayloadSigner {
  readonly identity: SignerIdentity;
  readonly algorithm: SigningAlgorithm;
  readonly #key: SigningKey;

  constructor(key: SigningKey) {
    this.#key = key;
    this.algorithm = key.algorithm;
    this.identity = { kind: 'key', publicKeyPem: key.publicKeyPem };
  }

  /** Where the key came from (a file or a secret directory), for messages. */
  get source(): string {
    return this.#key.file;
  }

  async sign(data: Buffer): Promise<PayloadSignature> {
    const hash = this.algorithm === 'ed25519' ? null : 'sha256';
    const signature = await new Promise<Buffer>((resolve, reject) => {
      sign(hash, data, { key: this.#key.privateKey, dsaEncoding: 'der' }, (error, result) => (error === null ? resolve(result) : reject(error)));
    });
    return { signature, identity: this.identity };
  }
}
