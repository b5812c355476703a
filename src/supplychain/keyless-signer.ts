/**
 * Keyless signing (cosign's `--fulcio-url`/`--identity-token` path): an ephemeral ECDSA P-256
 * key, lives only in memory, certified by Fulcio for the identity in an OIDC token. One signer
 * asks for one certificate, on first use, and signs everything of one build with it (the `.sig`
 * and the `.att`), so a build makes one Fulcio request and both carry the same identity.
 *
 * Not @sigstore/sign's FulcioSigner: that one requests a certificate per signature, keeps only the
 * leaf (cosign's `dev.sigstore.cosign/chain` needs the rest) and quotes the token in an error.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Logger } from '../log.js';
import { requestSigningCertificate, DEFAULT_FULCIO_URL } from './fulcio.js';
import { tokenSubject, type IdentityTokenSource } from './identity-token.js';
import type { PayloadSignature, PayloadSigner, SignerIdentity } from './signer.js';

export interface KeylessSignerOptions {
  /** Default https://fulcio.sigstore.dev. */
  readonly fulcioURL?: string;
  readonly tokenSource: IdentityTokenSource;
  /** undici dispatcher for Fulcio (a custom CA, a proxy); the global one by default. */
  readonly dispatcher?: Dispatcher;
  readonly log?: Logger;
}

type CertificateIdentity = Extract<SignerIdentity, { kind: 'certificate' }>;

/** A `PayloadSigner` whose identity is a Fulcio certificate for its own ephemeral key. */
export class KeylessSigner implements PayloadSigner {
  readonly #options: KeylessSignerOptions;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  #identity: Promise<CertificateIdentity> | undefined;

  constructor(options: KeylessSignerOptions) {
    this.#options = options;
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#privateKey = pair.privateKey;
    this.#publicKey = pair.publicKey;
  }

  /** ECDSA P-256 over SHA-256(data), DER; the certificate is requested on the first call. */
  async sign(data: Buffer): Promise<PayloadSignature> {
    const identity = await this.identity();
    return { signature: sign('sha256', data, this.#privateKey), identity };
  }

  /** The certificate identity (requested once; a failed request is retried on the next call). */
  identity(): Promise<CertificateIdentity> {
    if (this.#identity === undefined) {
      const pending = this.#certify();
      this.#identity = pending;
      pending.catch(() => {
        if (this.#identity === pending) this.#identity = undefined;
      });
    }
    return this.#identity;
  }

  async #certify(): Promise<CertificateIdentity> {
    const source = this.#options.tokenSource;
    const token = await source.getToken();
    const subject = tokenSubject(token, source.description);
    const fulcioURL = this.#options.fulcioURL ?? DEFAULT_FULCIO_URL;
    const issued = await requestSigningCertificate({
      fulcioURL,
      token,
      publicKey: this.#publicKey,
      proofOfPossession: sign('sha256', Buffer.from(subject, 'utf8'), this.#privateKey),
      ...(this.#options.dispatcher === undefined ? {} : { dispatcher: this.#options.dispatcher }),
    });
    this.#options.log?.info(`Fulcio certificate for ${issued.certificate.subjectAltName ?? subject}, valid until ${issued.certificate.validTo}`, { fulcio: fulcioURL });
    return { kind: 'certificate', certificatePem: issued.certificatePem, chainPem: issued.chainPem };
  }
}
