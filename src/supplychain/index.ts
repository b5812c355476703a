/**
 * supplychain: cosign-compatible signatures and attestations, as pure wire formats here: the
 * simple-signing payload, DSSE envelopes and PAE, in-toto Statement v1 and SLSA Provenance v1,
 * cosign `.sig`/`.att` images (tags, layers, annotations, dedupe-and-append), the legacy Rekor
 * bundle annotation, Rekor request bodies, and cosign v3's Sigstore-bundle referrer manifest.
 * Malformed input fails with `SignatureFormatError` (ERR_SIGNATURE_INVALID) naming the problem.
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
  CosignAnnotation, cosignLayerAnnotations, parseRekorBundleAnnotation, rekorBundleAnnotation, rekorBundleOf, rekorSetPayload,
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
