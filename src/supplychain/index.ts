/**
 * supplychain: signing what caisson builds, cosign-compatible, and logging it in Rekor.
 *
 * - Wire formats, pure: the simple-signing payload, DSSE envelopes and PAE, in-toto Statement v1
 *   and SLSA Provenance v1, cosign `.sig`/`.att` images (tags, layers, annotations,
 *   dedupe-and-append), the legacy Rekor bundle annotation, Rekor request bodies, cosign v3's
 *   Sigstore-bundle referrer manifest. Malformed input fails with `SignatureFormatError`
 *   (ERR_SIGNATURE_INVALID) naming the problem.
 * - Keys: cosign's encrypted key files (read both PEM types, write `ENCRYPTED SIGSTORE PRIVATE
 *   KEY`), PKCS#8 keys, Tekton Chains' `signing-secrets`, password sources (`--key-password-file`,
 *   `COSIGN_PASSWORD`), key pair generation.
 * - Keyless: `KeylessSigner` (an ephemeral key certified by Fulcio for an OIDC token from
 *   `identityTokenSource`); `RekorClient` adds hashedrekord/dsse entries (`TlogEntry`), and
 *   `verifySet` checks their signed entry timestamps offline; `TimestampClient` asks an RFC 3161
 *   timestamp authority to countersign a signature (`--tsa-url`).
 *
 * - Publishing: `signImage` / `attestImage` write a signature or an attestation next to an image in
 *   its registry, as cosign's `.sig`/`.att` tags (read, dedupe or replace, append) or as a cosign
 *   v3 Sigstore bundle v0.3 referrer (`sigstoreBundleJson`).
 *
 * - Verification: `verifyImageSignatures` / `verifyImageAttestations`, offline against a
 *   `VerificationTrust` (keys, Fulcio CAs, Rekor keys, RFC 3161 timestamp authorities).
 *
 * Every signature goes through a `PayloadSigner` (`KeySigner`, `KeylessSigner`).
 *
 * May import: ../errors.js, ../log.js, ../image/index.js, ../registry/index.js.
 */
export type { PayloadSignature, PayloadSigner, SignerIdentity } from './signer.js';
export { isSignatureFormatError, SignatureFormatError, type FormatProblem } from './format-error.js';
export { decodeBase64, formatTimestamp } from './wire.js';
export { dockerReferenceOf, parseSimpleSigningPayload, SIMPLE_SIGNING_MEDIA_TYPE, SIMPLE_SIGNING_TYPE, simpleSigningPayload, type SimpleSigningPayload } from './simple-signing.js';
export { DSSE_ENVELOPE_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE, parseEnvelope, preAuthEncoding, serializeEnvelope, signEnvelope, type DsseEnvelope, type DsseSignature } from './dsse.js';
export {
  buildStatement, imageSubject, parseStatement, serializeStatement, STATEMENT_V01, STATEMENT_V1,
  type DigestSet, type ResourceDescriptor, type Statement, type Subject,
} from './statement.js';
export {
  buildProvenance, buildProvenanceStatement, CAISSON_BUILD_TYPE, redactBuildArgs, REDACTED, SECRET_BUILD_ARG, SLSA_PROVENANCE_V1, withoutCredentials,
  type ContextSource, type ImageDependency, type ProvenanceInput, type SlsaProvenance,
} from './provenance.js';
export { tlogEntryFromProtoJson, type InclusionProof, type TlogEntry } from './tlog.js';
export { dsseRekorRequest, hashedRekordRequest, verifierPem } from './rekor-entries.js';
export {
  CosignAnnotation, cosignLayerAnnotations, parseRekorBundleAnnotation, parseTimestampAnnotation, rekorBundleAnnotation, rekorBundleOf, rekorSetPayload,
  type LayerAnnotationOptions, type RekorBundle, type RekorBundlePayload,
} from './cosign-annotations.js';
export { GO_ZERO_TIME, ggcrManifestBytes, goTime } from './ggcr-json.js';
export {
  appendCosignLayer, buildCosignImage, cosignConfigBytes, cosignLayer, cosignTag, findDuplicate, MAX_COSIGN_LAYERS, parseCosignConfig,
  type AppendOptions, type AppendResult, type CosignConfig, type CosignHistoryEntry, type CosignImage, type CosignTagKind, type ExistingCosignImage,
} from './cosign-image.js';
export {
  bundleReferrer, COSIGN_SIGN_PREDICATE_TYPE, EMPTY_DESCRIPTOR, EMPTY_JSON_BLOB, SIGSTORE_BUNDLE_V03_MEDIA_TYPE, sigstoreBundleVersion,
  type BundleReferrer,
} from './bundle-referrer.js';
export { COSIGN_PRIVATE_KEY_PEM_TYPE, SCRYPT_COSTS, SIGSTORE_PRIVATE_KEY_PEM_TYPE, decodePem, decryptPrivateKey, encodePem, encryptPrivateKey, isCosignKeyType, type PemBlock, type ScryptCost } from './cosign-key.js';
export { PASSWORD_ENV, readPasswordFile, resolveKeyPassword, type KeyPassword } from './key-password.js';
export { parseSigningKey, readSigningKey, signingKeyFromPkcs8, type SigningAlgorithm, type SigningKey } from './signing-key.js';
export { KeySigner } from './key-signer.js';
export { CHAINS_SECRETS_DIRECTORY, loadSigningSecrets } from './signing-secrets.js';
export { generateKeyPair, type CosignKeyPair } from './key-pair.js';
export { decodeTokenClaims, IDENTITY_TOKEN_ENV, identityTokenSource, tokenSubject, type IdentityTokenOptions, type IdentityTokenSource, type TokenClaims } from './identity-token.js';
export { DEFAULT_FULCIO_URL, requestSigningCertificate, type IssuedCertificate, type SigningCertificateRequest } from './fulcio.js';
export { KeylessSigner, type KeylessSignerOptions } from './keyless-signer.js';
export { DEFAULT_REKOR_URL, RekorClient, verifySet, type RekorClientOptions, type TlogProposal } from './rekor.js';
export { parseSigstoreBundle, publicKeyHint, sigstoreBundleJson, tlogEntryToProtoJson, type BundleContent, type SigstoreBundle } from './sigstore-bundle.js';
export { SIGSTORE_TSA_PATH, TimestampClient, timestampEndpoint, timestampRequest, type SignedTimestamp, type TimestampClientOptions } from './tsa.js';
export { parseTimestampResponse, parseTimestampToken, type TimestampResponse, type TimestampSignerInfo, type TimestampToken } from './timestamp-token.js';
export { attestImage, signImage, type PublishedArtifact, type PublishOptions } from './publish.js';
export { parseTrustedRoot, readTrustedRoot, transparencyLogKeyFromPem, logIdOf, TRUSTED_ROOT_MEDIA_TYPES, type CertificateAuthority, type SignerTrust, type TransparencyLogKey, type TrustedRoot, type ValidFor, type VerificationTrust } from './trust.js';
export { fulcioIssuer, subjectAltNames } from './der.js';
export { hasReferrers, type ReferrerSource } from './verify-bundle.js';
export type { SignedImage } from './verify-legacy.js';
export { VerificationError, type Rejection, type RejectionReason, type SignatureLayout, type VerifiedAttestation, type VerifiedSignature, type VerifiedSigner } from './verify-result.js';
export { DEFAULT_PREDICATE_TYPE, predicateTypeOf, PREDICATE_TYPE_NAMES, verifyImageAttestations, verifyImageSignatures, type VerifyAttestationsOptions, type VerifySignaturesOptions } from './verify.js';
