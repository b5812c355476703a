/**
 * Verifying an image's signatures and attestations, as `cosign verify` / `verify-attestation`
 * do (shared/specs/supply-chain.md §1 "What cosign verify checks", §2, §3): every signature in
 * both layouts — cosign's `.sig`/`.att` tags and cosign v3's Sigstore-bundle referrers — is
 * checked on its own, and one that verifies is enough. cosign v3 reads the legacy tags only
 * when no bundle referrer exists; caisson reads both, which accepts nothing cosign would not
 * accept in one of its two modes.
 */
import type { ImageSource } from '../image/index.js';
import { bundleAttestations, bundleSignatures } from './verify-bundle.js';
import { legacyAttestations, legacySignatures, type LayerOutcome, type SignedImage } from './verify-legacy.js';
import type { VerificationTrust } from './trust.js';
import { VerificationError, type Rejection, type VerifiedAttestation, type VerifiedSignature } from './verify-result.js';

/** cosign's `--type` short names and the predicateType each stands for. */
export const PREDICATE_TYPE_NAMES: Readonly<Record<string, string>> = {
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  link: 'https://in-toto.io/Link/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  cyclonedxxml: 'https://cyclonedx.org/bom',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
  custom: 'https://cosign.sigstore.dev/attestation/v1',
};

/** caisson's default `--type`: SLSA v1 provenance, what `caisson build --provenance` attaches (cosign's default is `custom`). */
export const DEFAULT_PREDICATE_TYPE = 'slsaprovenance1';

/** The predicateType for a `--type` value: one of cosign's short names, else the value itself (a URI). */
export function predicateTypeOf(name: string): string {
  return PREDICATE_TYPE_NAMES[name] ?? name;
}

function settle<T>(options: { readonly image: SignedImage; readonly what: 'signature' | 'attestation'; readonly outcomes: readonly LayerOutcome<T>[] }): readonly T[] {
  const verified = options.outcomes.flatMap((outcome) => (outcome.kind === 'verified' ? [outcome.value] : []));
  if (verified.length > 0) return verified;
  const rejections: Rejection[] = options.outcomes.flatMap((outcome) =>
    outcome.kind === 'rejected' ? [{ where: outcome.where, reason: outcome.rejection.reason, detail: outcome.rejection.message }] : [],
  );
  const image = `${options.image.name}@${options.image.digest}`;
  if (rejections.length === 0) {
    const tag = options.what === 'signature' ? '.sig' : '.att';
    throw new VerificationError({
      image,
      what: options.what,
      rejections: [{ where: image, reason: 'no-signatures', detail: `no ${options.what}s found (no sha256-<hex>${tag} tag and no Sigstore bundle referrer)` }],
      hint: `Sign the image first (caisson build --sign${options.what === 'signature' ? '' : ' --provenance'}, or cosign), and verify the digest that was signed.`,
    });
  }
  throw new VerificationError({ image, what: options.what, rejections });
}

/** Options of {@link verifyImageSignatures}. */
export interface VerifySignaturesOptions {
  /** Where the image and its signatures are (a registry repository; bundle referrers need `referrers`). */
  readonly repository: ImageSource;
  readonly image: SignedImage;
  readonly trust: VerificationTrust;
  /** `-a key=value`: each must be among the signed annotations. */
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * The image's signatures that verify; ERR_VERIFY_FAILED (a {@link VerificationError} listing
 * each rejected signature and why) when none does.
 */
export async function verifyImageSignatures(options: VerifySignaturesOptions): Promise<readonly VerifiedSignature[]> {
  const common = { source: options.repository, image: options.image, trust: options.trust, annotations: options.annotations ?? {} };
  const [legacy, bundles] = await Promise.all([legacySignatures(common), bundleSignatures(common)]);
  return settle({ image: options.image, what: 'signature', outcomes: [...legacy, ...bundles] });
}

/** Options of {@link verifyImageAttestations}. */
export interface VerifyAttestationsOptions {
  readonly repository: ImageSource;
  readonly image: SignedImage;
  readonly trust: VerificationTrust;
  /** The wanted predicateType (a URI; see {@link predicateTypeOf} for cosign's short names). */
  readonly predicateType: string;
}

/** The image's attestations of `predicateType` that verify; ERR_VERIFY_FAILED when none does. */
export async function verifyImageAttestations(options: VerifyAttestationsOptions): Promise<readonly VerifiedAttestation[]> {
  const common = { source: options.repository, image: options.image, trust: options.trust, predicateType: options.predicateType };
  const [legacy, bundles] = await Promise.all([legacyAttestations(common), bundleAttestations(common)]);
  return settle({ image: options.image, what: 'attestation', outcomes: [...legacy, ...bundles] });
}
