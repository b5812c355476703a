/**
 * Rekor v1 request bodies (`POST /api/v1/log/entries`; shared/specs/supply-chain.md §1, §2), pure:
 * a `hashedrekord` v0.0.1 entry for a `.sig` payload signature and a `dsse` v0.0.1 entry for an
 * `.att` envelope.
 */
import { createHash } from 'node:crypto';
import type { PayloadSignature, SignerIdentity } from './signer.js';

/** The PEM Rekor records as the verifier: the public key, or the leaf certificate. */
export function verifierPem(identity: SignerIdentity): string {
  switch (identity.kind) {
    case 'key':
      return identity.publicKeyPem;
    case 'certificate':
      return identity.certificatePem;
  }
}

/**
 * `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":<hex>}},
 * "signature":{"content":<b64 sig>,"publicKey":{"content":<b64 PEM>}}}}` for a signature over `payload`.
 */
export function hashedRekordRequest(options: { readonly payload: Buffer; readonly signature: PayloadSignature }): Buffer {
  return Buffer.from(
    JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(options.payload).digest('hex') } },
        signature: {
          content: options.signature.signature.toString('base64'),
          publicKey: { content: Buffer.from(verifierPem(options.signature.identity)).toString('base64') },
        },
      },
    }),
  );
}

/**
 * `{"apiVersion":"0.0.1","kind":"dsse","spec":{"proposedContent":{"envelope":<string>,"verifiers":[<b64 PEM>]}}}`.
 * `envelope` must be the exact bytes stored as the `.att` layer: Rekor hashes this string and
 * cosign compares that hash with the layer's.
 */
export function dsseRekorRequest(options: { readonly envelope: Buffer; readonly identity: SignerIdentity }): Buffer {
  return Buffer.from(
    JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        proposedContent: {
          envelope: options.envelope.toString('utf8'),
          verifiers: [Buffer.from(verifierPem(options.identity)).toString('base64')],
        },
      },
    }),
  );
}
