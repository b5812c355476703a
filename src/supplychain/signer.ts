/** Who signed: a key (its SPKI public key PEM) or a Fulcio certificate with its chain (PEM, intermediates then root). */
export type SignerIdentity =
  | { readonly kind: 'key'; readonly publicKeyPem: string }
  | { readonly kind: 'certificate'; readonly certificatePem: string; readonly chainPem: string };
export interface PayloadSignature { readonly signature: Buffer; readonly identity: SignerIdentity }
/** Signs bytes (a simple-signing payload, or a DSSE PAE) — ECDSA/RSA over SHA-256, DER; Ed25519 pure. */
export interface PayloadSigner { sign(data: Buffer): Promise<PayloadSignature> }
