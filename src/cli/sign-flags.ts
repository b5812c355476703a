/**
 * The signing and verification flags, cosign's names where cosign has them: the key sources and
 * Sigstore endpoints shared by `caisson build --sign` and `caisson sign`, the provenance flags of
 * `build`, and what `caisson verify` / `verify-attestation` trust.
 */
import type { OptionSpec } from './spec.js';

/** Where a signature comes from: a key file, Chains' secret directory, or keyless (an OIDC token). */
export const SIGNING_OPTIONS: readonly OptionSpec[] = [
  { name: 'key', type: 'string', placeholder: 'PATH', describe: "the private key: cosign's encrypted cosign.key, or a PKCS#8 PEM (ECDSA P-256/P-384, Ed25519, RSA)", conflicts: ['signing-secrets'] },
  { name: 'signing-secrets', type: 'string', placeholder: 'DIR', describe: "Tekton Chains' signing-secrets layout: x509.pem, else cosign.key + cosign.password" },
  { name: 'key-password-file', type: 'string', placeholder: 'PATH', describe: 'the password of an encrypted --key (default: $COSIGN_PASSWORD, else empty)' },
  { name: 'identity-token-file', type: 'string', placeholder: 'PATH', describe: 'keyless: an OIDC token file, read when signing (e.g. a projected ServiceAccount token; default: $SIGSTORE_ID_TOKEN)' },
  { name: 'fulcio-url', type: 'string', placeholder: 'URL', default: 'https://fulcio.sigstore.dev', describe: 'keyless: the Fulcio certificate authority' },
  { name: 'rekor-url', type: 'string', placeholder: 'URL', default: 'https://rekor.sigstore.dev', describe: 'the Rekor transparency log' },
  { name: 'tsa-url', type: 'string', placeholder: 'URL', describe: "an RFC 3161 timestamp authority to countersign each signature (cosign's --timestamp-server-url; a URL without a path gets /api/v1/timestamp, Sigstore's TSA path)" },
  { name: 'tlog-upload', type: 'boolean', default: 'true', describe: 'record each signature in Rekor (--tlog-upload=false for air-gapped keyed signing)' },
  { name: 'signature-format', type: 'string', choices: ['legacy', 'bundle'], default: 'legacy', describe: "legacy: cosign's sha256-<hex>.sig and .att tags (what cosign and Tekton Chains verify); bundle: Sigstore bundle v0.3 referrers, as cosign v3 writes them" },
];

/** `caisson build`'s supply-chain flags: sign what it pushes and attest how it was built. */
export const BUILD_SIGNING_OPTIONS: readonly OptionSpec[] = [
  { name: 'sign', type: 'boolean', describe: 'sign every pushed image (at the index digest for a multi-platform image) with --key, --signing-secrets or keyless' },
  { name: 'provenance', type: 'boolean', describe: 'attach a signed SLSA v1 provenance attestation to every pushed image' },
  { name: 'provenance-file', type: 'string', placeholder: 'PATH', describe: 'also write the provenance statement (in-toto JSON) here' },
  { name: 'builder-id', type: 'string', placeholder: 'URI', describe: "provenance runDetails.builder.id (in Tekton: the Task's reference)" },
  { name: 'invocation-id', type: 'string', placeholder: 'ID', describe: 'provenance runDetails.metadata.invocationId (in Tekton: the TaskRun UID)' },
  ...SIGNING_OPTIONS,
];

/** What `caisson verify` and `verify-attestation` trust. */
export const VERIFY_OPTIONS: readonly OptionSpec[] = [
  { name: 'key', type: 'string', placeholder: 'PATH', describe: 'the public key (cosign.pub, SPKI PEM)', conflicts: ['certificate-identity'] },
  { name: 'certificate-identity', type: 'string', placeholder: 'SAN', describe: "keyless: the signer's identity (email or URI) the certificate must carry" },
  { name: 'certificate-oidc-issuer', type: 'string', placeholder: 'URL', describe: 'keyless: the OIDC issuer the certificate must carry' },
  { name: 'trusted-root', type: 'string', placeholder: 'PATH', describe: 'a Sigstore trusted_root.json: the Fulcio CAs and Rekor keys to trust' },
  { name: 'insecure-ignore-tlog', type: 'boolean', describe: 'accept signatures with no transparency-log entry (keyed, air-gapped signing)' },
];
