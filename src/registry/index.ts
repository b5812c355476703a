/**
 * registry: talking to OCI distribution registries over node's HTTP client (http.ts). `RegistrySession` holds one
 * `RegistryClient` per host (scheme, TLS, auth challenges, tokens per scope, retries) and hands
 * out `RegistryRepository`s, which are `ImageSource`s and `ImageTarget`s for `copyImage`.
 * Credentials come from Docker's config.json and credential helpers; errors carry the
 * registry's codes with the reference and a hint, never a secret.
 *
 * May import: ../errors.js, ../log.js, ../image/index.js.
 */
export { RegistryClient, type Method, type RegistryResponse, type SendOptions } from './client.js';
export { bearerChallenge, parseChallenges, type BearerChallenge, type Challenge } from './challenge.js';
export { dockerConfigCredentials, staticCredentials, type Credential, type CredentialStore, type DockerConfigOptions } from './credentials.js';
export { defaultRegistryOptions, isLoopbackHost, type RegistryOptions, type TlsSettings } from './options.js';
export { redactSecrets } from './redact.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export { deleteManifest, getManifest, headManifest, putManifest } from './manifests.js';
export { headBlob, openBlob, uploadBlob } from './blobs.js';
export { listTags } from './tags.js';
export { addToFallbackIndex, listReferrers, referrersTag } from './referrers.js';
export { RegistryRepository } from './repository.js';
export { RegistrySession, type PullSource } from './session.js';
