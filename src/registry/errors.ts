/**
 * Turning a registry's error responses into CaissonErrors: the distribution spec's error codes
 * (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes) mapped to
 * caisson's stable codes, with the reference and a hint. Server text is redacted before use.
 */
import { CaissonError, type ErrorCode } from '../errors.js';
import { redactSecrets } from './redact.js';

export interface RegistryErrorDetail {
  readonly code: string;
  readonly message?: string;
}

/** The `errors` array of a distribution error body, or [] when the body is something else. */
export function parseErrorBody(text: string): RegistryErrorDetail[] {
  try {
    const json = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(json.errors)) return [];
    return json.errors
      .filter((entry): entry is { code: string; message?: unknown } => typeof entry === 'object' && entry !== null && typeof (entry as { code?: unknown }).code === 'string')
      .map((entry) => ({ code: entry.code, ...(typeof entry.message === 'string' ? { message: entry.message } : {}) }));
  } catch {
    return [];
  }
}

const CODE_MAP: Readonly<Record<string, ErrorCode>> = {
  UNAUTHORIZED: 'ERR_REGISTRY_UNAUTHORIZED',
  DENIED: 'ERR_REGISTRY_DENIED',
  NAME_UNKNOWN: 'ERR_REGISTRY_NAME_UNKNOWN',
  MANIFEST_UNKNOWN: 'ERR_MANIFEST_UNKNOWN',
  BLOB_UNKNOWN: 'ERR_BLOB_UNKNOWN',
  BLOB_UPLOAD_UNKNOWN: 'ERR_BLOB_UNKNOWN',
  TOOMANYREQUESTS: 'ERR_REGISTRY_TOOMANYREQUESTS',
  MANIFEST_INVALID: 'ERR_IMAGE_INVALID',
  MANIFEST_BLOB_UNKNOWN: 'ERR_BLOB_UNKNOWN',
  DIGEST_INVALID: 'ERR_DIGEST_MISMATCH',
  SIZE_INVALID: 'ERR_DIGEST_MISMATCH',
};

function codeFor(status: number, details: readonly RegistryErrorDetail[]): ErrorCode {
  if (status === 413) return 'ERR_IMAGE_INVALID';
  for (const detail of details) {
    const mapped = CODE_MAP[detail.code];
    if (mapped !== undefined) return mapped;
  }
  if (status === 401) return 'ERR_REGISTRY_UNAUTHORIZED';
  if (status === 403) return 'ERR_REGISTRY_DENIED';
  if (status === 429) return 'ERR_REGISTRY_TOOMANYREQUESTS';
  if (status >= 500) return 'ERR_REGISTRY_UNAVAILABLE';
  return 'ERR_REGISTRY_PROTOCOL';
}

function hintFor(code: ErrorCode, registry: string): string {
  switch (code) {
    case 'ERR_REGISTRY_UNAUTHORIZED':
      return `Log in to ${registry}: put its credentials in $DOCKER_CONFIG/config.json (or ~/.docker/config.json), or mount a dockerconfig workspace in Tekton.`;
    case 'ERR_REGISTRY_DENIED':
      return `The credentials for ${registry} are valid but may not do this; check the repository's permissions.`;
    case 'ERR_REGISTRY_NAME_UNKNOWN':
      return 'Check the repository name; some registries need the repository created before the first push.';
    case 'ERR_MANIFEST_UNKNOWN':
      return `Check the tag or digest, and that it was pushed to ${registry}.`;
    case 'ERR_BLOB_UNKNOWN':
      return `${registry} lacks a blob that a manifest it holds names: the blob was deleted (garbage-collected) or never completely pushed; push the image again.`;
    case 'ERR_REGISTRY_TOOMANYREQUESTS':
      return 'The registry rate-limits this client; retry later, log in, or use --registry-mirror.';
    case 'ERR_IMAGE_INVALID':
      return `${registry} refused the content as invalid or too large (manifests are limited to 4 MiB).`;
    case 'ERR_DIGEST_MISMATCH':
      return 'The registry computed another digest or size than caisson sent; the content changed in transit or the registry is faulty.';
    case 'ERR_REGISTRY_UNAVAILABLE':
      return 'The registry kept failing; retry later, or raise --push-retry / --image-download-retry.';
    default:
      return 'The registry answered something the distribution spec does not allow; its message is above.';
  }
}

/** The CaissonError for a failed registry response. `what` names the image or blob. */
export function registryError(options: { readonly what: string; readonly registry: string; readonly status: number; readonly action: string; readonly body: string }): CaissonError {
  const details = parseErrorBody(options.body);
  const code = codeFor(options.status, details);
  const text = details.length > 0 ? details.map((detail) => `${detail.code}${detail.message === undefined ? '' : `: ${detail.message}`}`).join('; ') : options.body.trim().slice(0, 200);
  return new CaissonError({
    code,
    message: redactSecrets(`${options.what}: ${options.action} failed with HTTP ${options.status}${text === '' ? '' : ` (${text})`}`),
    hint: hintFor(code, options.registry),
  });
}
