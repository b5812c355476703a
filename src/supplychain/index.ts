/**
 * supplychain: signing what caisson builds, cosign-compatible. So far: cosign's encrypted key
 * files (read both PEM types, write `ENCRYPTED SIGSTORE PRIVATE KEY`), signing keys from files
 * (cosign keys, plain PKCS#8) and from Tekton Chains' `signing-secrets` directory, the key's
 * password sources (`--key-password-file`, `COSIGN_PASSWORD`), key pair generation, and the
 * `PayloadSigner` every signature and attestation goes through.
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
