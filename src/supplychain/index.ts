/**
 * supplychain: signing what caisson builds, cosign-compatible, and logging it in Rekor. So far:
 * cosign's encrypted key files (read both PEM types, write `ENCRYPTED SIGSTORE PRIVATE KEY`),
 * signing keys from files (cosign keys, plain PKCS#8) and from Tekton Chains' `signing-secrets`
 * directory, the key's password sources (`--key-password-file`, `COSIGN_PASSWORD`), key pair
 * generation; keyless signing (`KeylessSigner`: an ephemeral key certified by Fulcio for an OIDC
 * token from `identityTokenSource`); the transparency log (`RekorClient` uploads hashedrekord/dsse
 * entries as `TlogEntry`s, `verifySet` checks their signed entry timestamps offline). Every
 * signature goes through a `PayloadSigner` (`KeySigner`, `KeylessSigner`).
 *
 * May import: ../errors.js, ../log.js, ../image/index.js, ../registry/index.js.
 */
export type { PayloadSignature, PayloadSigner, SignerIdentity } from './signer.js';
export { COSIGN_PRIVATE_KEY_PEM_TYPE, SCRYPT_COSTS, SIGSTORE_PRIVATE_KEY_PEM_TYPE, decodePem, decryptPrivateKey, encodePem, encryptPrivateKey, isCosignKeyType, type PemBlock, type ScryptCost } from './cosign-key.js';
export { PASSWORD_ENV, readPasswordFile, resolveKeyPassword, type KeyPassword } from './key-password.js';
export { parseSigningKey, readSigningKey, signingKeyFromPkcs8, type SigningAlgorithm, type SigningKey } from './signing-key.js';
export { KeySigner } from './key-signer.js';
export { CHAINS_SECRETS_DIRECTORY, loadSigningSecrets } from './signing-secrets.js';
export { generateKeyPair, type CosignKeyPair } from './key-pair.js';
export type { TlogEntry } from './tlog.js';
export { decodeTokenClaims, IDENTITY_TOKEN_ENV, identityTokenSource, tokenSubject, type IdentityTokenOptions, type IdentityTokenSource, type TokenClaims } from './identity-token.js';
export { DEFAULT_FULCIO_URL, requestSigningCertificate, type IssuedCertificate, type SigningCertificateRequest } from './fulcio.js';
export { KeylessSigner, type KeylessSignerOptions } from './keyless-signer.js';
export { DEFAULT_REKOR_URL, proposedEntry, RekorClient, verifierPem, verifySet, type RekorClientOptions, type TlogProposal } from './rekor.js';
