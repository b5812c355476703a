/**
 * supplychain: signing what caisson builds, cosign-compatible, and logging it in Rekor. Exports the
 * shared signer interface (`PayloadSigner`, `SignerIdentity`), keyless signing (`KeylessSigner`:
 * an ephemeral key certified by Fulcio for an OIDC token from `identityTokenSource`), and the
 * transparency log (`RekorClient` uploads hashedrekord/dsse entries as `TlogEntry`s, `verifySet`
 * checks their signed entry timestamps offline).
 *
 * May import: ../errors.js, ../log.js, ../image/index.js, ../registry/index.js.
 */
export type { PayloadSignature, PayloadSigner, SignerIdentity } from './signer.js';
export type { TlogEntry } from './tlog.js';
export { decodeTokenClaims, IDENTITY_TOKEN_ENV, identityTokenSource, tokenSubject, type IdentityTokenOptions, type IdentityTokenSource, type TokenClaims } from './identity-token.js';
export { DEFAULT_FULCIO_URL, requestSigningCertificate, type IssuedCertificate, type SigningCertificateRequest } from './fulcio.js';
export { KeylessSigner, type KeylessSignerOptions } from './keyless-signer.js';
export { DEFAULT_REKOR_URL, proposedEntry, RekorClient, verifierPem, verifySet, type RekorClientOptions, type TlogProposal } from './rekor.js';
