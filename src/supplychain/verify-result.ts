/**
 * What verification returns (the signatures and attestations that verified, with who signed and
 * the tlog entry) and how it fails: ERR_VERIFY_FAILED naming the image and, for each signature
 * it looked at, where it was and why it was rejected — one `RejectionReason` each, so callers
 * and tests can tell the reasons apart.
 */
import { CaissonError } from '../errors.js';
import type { Digest } from '../image/index.js';
import type { SimpleSigningPayload } from './simple-signing.js';
import type { Statement } from './statement.js';
import type { TlogEntry } from './tlog.js';

/** Every reason a signature or attestation is turned down. */
export type RejectionReason =
  /** Nothing to verify: no `.sig`/`.att` tag and no bundle referrer. */
  | 'no-signatures'
  /** The layer, envelope, payload, statement, certificate or bundle is malformed (ERR_SIGNATURE_INVALID). */
  | 'malformed'
  /** The signature does not verify with the key (or the certificate's key). */
  | 'signature'
  /** The simple-signing payload names another image's digest. */
  | 'payload-digest'
  /** No subject of the in-toto statement has the image's sha256. */
  | 'subject'
  /** The simple-signing claims are wrong: `critical.type`, or the `-a` annotations are not in `optional`. */
  | 'claims'
  /** The DSSE payloadType is not in-toto. */
  | 'payload-type'
  /** The statement's predicateType is not the wanted one. */
  | 'predicate-type'
  /** Keyless: no certificate, or it does not chain to a trusted CA. */
  | 'certificate-untrusted'
  /** Keyless: the certificate's SAN is not the identity. */
  | 'certificate-identity'
  /** Keyless: the certificate's OIDC issuer is not the issuer. */
  | 'certificate-issuer'
  /** Keyless: the certificate (or its CA) was not valid when the entry was logged. */
  | 'certificate-expired'
  /** No transparency-log entry, and the tlog is required. */
  | 'tlog-missing'
  /** The entry's SET does not verify with a trusted Rekor key. */
  | 'tlog-set'
  /** The entry's body is not this signature: another hash, signature or key. */
  | 'tlog-body'
  /** An RFC 3161 timestamp does not verify: another imprint, a bad signature, an untrusted or unconfigured authority. */
  | 'timestamp';

/** One signature turned down: where it was (a tag's layer, a referrer) and why. */
export interface Rejection {
  readonly where: string;
  readonly reason: RejectionReason;
  readonly detail: string;
}

/** Thrown inside verification for one candidate; collected into a {@link VerificationError}. */
export class Rejected extends Error {
  readonly reason: RejectionReason;

  constructor(reason: RejectionReason, detail: string) {
    super(detail);
    this.reason = reason;
  }
}

/** Who signed, as verified. */
export type VerifiedSigner =
  | { readonly kind: 'key'; readonly publicKeyPem: string }
  | { readonly kind: 'certificate'; readonly identity: string; readonly issuer: string; readonly certificatePem: string };

/** Where a verified signature was stored. */
export type SignatureLayout = 'legacy' | 'bundle';

/** A signature that verified (`caisson verify`). */
export interface VerifiedSignature {
  readonly layout: SignatureLayout;
  readonly where: string;
  /**
   * What was signed, as stored: a simple-signing payload (legacy), or for cosign v3's bundle
   * signatures the in-toto statement over the image (predicateType https://sigstore.dev/cosign/sign/v1),
   * or for a bundle's message signature the manifest itself.
   */
  readonly payload: Buffer;
  readonly claims:
    | { readonly kind: 'simple-signing'; readonly payload: SimpleSigningPayload }
    | { readonly kind: 'statement'; readonly statement: Statement }
    | { readonly kind: 'manifest'; readonly digest: Digest };
  readonly signer: VerifiedSigner;
  readonly tlogEntry?: TlogEntry;
  /** The time an RFC 3161 timestamp attests, when the signature has one (it verified). */
  readonly timestamp?: Date;
}

/** An attestation that verified (`caisson verify-attestation`). */
export interface VerifiedAttestation {
  readonly layout: SignatureLayout;
  readonly where: string;
  /** The DSSE envelope as stored (legacy: the layer blob; bundle: re-serialized from the bundle). */
  readonly envelope: Buffer;
  readonly statement: Statement;
  readonly signer: VerifiedSigner;
  readonly tlogEntry?: TlogEntry;
  /** The time an RFC 3161 timestamp attests, when the attestation has one (it verified). */
  readonly timestamp?: Date;
}

/** ERR_VERIFY_FAILED with every rejection; the message names the image and each reason. */
export class VerificationError extends CaissonError {
  readonly rejections: readonly Rejection[];

  constructor(options: { readonly image: string; readonly what: 'signature' | 'attestation'; readonly rejections: readonly Rejection[]; readonly hint?: string }) {
    const reasons = options.rejections.map((rejection) => `${rejection.where}: ${rejection.detail}`).join('; ');
    super({
      code: 'ERR_VERIFY_FAILED',
      message: `${options.image}: no valid ${options.what}: ${reasons}`,
      hint: options.hint ?? 'Check the key or the certificate identity and issuer, and the trusted root; sign the image again if it was changed.',
    });
    this.name = 'VerificationError';
    this.rejections = options.rejections;
  }
}
