/**
 * cosign's "simple signing" payload, the blob of every `.sig` layer (sigstore/sigstore
 * pkg/signature/payload/payload.go; shared/specs/supply-chain.md §1 "Payload"): written
 * byte-for-byte as cosign writes it, and parsed strictly for verification.
 */
import { DOCKER_HUB, isDigest, parseReference, type Digest, type Reference } from '../image/index.js';
import { SignatureFormatError } from './format-error.js';
import { goJson, isObject, parseJsonObject, sortKeysDeep } from './wire.js';

/** `critical.type`; anything else fails parsing, as in cosign. */
export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

/** The media type of a `.sig` layer, whose blob is this payload. */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';

/** A parsed payload: what it claims was signed. */
export interface SimpleSigningPayload {
  /** `critical.identity.docker-reference`: the repository, `registry/repo`, no tag. */
  readonly dockerReference: string;
  /** `critical.image.docker-manifest-digest`: the signed manifest or index. */
  readonly digest: Digest;
  /** `optional`: null, or the `-a key=value` annotations given when signing. */
  readonly optional: Readonly<Record<string, unknown>> | null;
}

/**
 * The `docker-reference` cosign writes for a repository: `registry/repository` as
 * go-containerregistry names it, so Docker Hub is `index.docker.io`.
 */
export function dockerReferenceOf(reference: Pick<Reference, 'registry' | 'repository'>): string {
  const registry = reference.registry === DOCKER_HUB ? 'index.docker.io' : reference.registry;
  return `${registry}/${reference.repository}`;
}

/**
 * The exact payload bytes:
 * `{"critical":{"identity":{"docker-reference":…},"image":{"docker-manifest-digest":…},"type":…},"optional":null}`.
 * `annotations` (absent or empty: `null`) are written with sorted keys, as Go writes a map.
 */
export function simpleSigningPayload(options: {
  readonly dockerReference: string;
  readonly digest: Digest;
  readonly annotations?: Readonly<Record<string, unknown>>;
}): Buffer {
  const annotations = options.annotations;
  const optional = annotations === undefined || Object.keys(annotations).length === 0 ? null : sortKeysDeep(annotations);
  return Buffer.from(
    goJson({
      critical: {
        identity: { 'docker-reference': options.dockerReference },
        image: { 'docker-manifest-digest': options.digest },
        type: SIMPLE_SIGNING_TYPE,
      },
      optional,
    }),
  );
}

function fail(what: string, problem: 'simple-signing-critical' | 'simple-signing-type' | 'simple-signing-digest' | 'simple-signing-identity' | 'simple-signing-optional', detail: string): SignatureFormatError {
  return new SignatureFormatError({ problem, what, detail });
}

/**
 * Parses a payload for verification. Strict where cosign is, and in key spelling: `critical.type`
 * exactly {@link SIMPLE_SIGNING_TYPE}, a lowercase `docker-manifest-digest` holding a valid digest,
 * a `docker-reference` that parses as `<reference>@<digest>`, `optional` null, absent or an object.
 * Anything else is a {@link SignatureFormatError} (ERR_SIGNATURE_INVALID) naming the problem.
 * Checking the digest against the image is the verifier's job.
 */
export function parseSimpleSigningPayload(options: { readonly bytes: Buffer; readonly what: string }): SimpleSigningPayload {
  const { what } = options;
  const root = parseJsonObject({ bytes: options.bytes, what, kind: 'simple-signing payload' });
  const critical = root['critical'];
  if (!isObject(critical)) throw fail(what, 'simple-signing-critical', 'the payload has no "critical" object');
  const type = critical['type'];
  if (type !== SIMPLE_SIGNING_TYPE) {
    throw fail(what, 'simple-signing-type', `critical.type is ${JSON.stringify(type ?? null)}, not "${SIMPLE_SIGNING_TYPE}"`);
  }
  const image = critical['image'];
  const digest = isObject(image) ? image['docker-manifest-digest'] : undefined;
  if (typeof digest !== 'string' || !isDigest(digest)) {
    throw fail(what, 'simple-signing-digest', 'critical.image["docker-manifest-digest"] is missing or not a valid digest');
  }
  const identity = critical['identity'];
  const dockerReference = isObject(identity) ? identity['docker-reference'] : undefined;
  if (typeof dockerReference !== 'string' || !parsesWithDigest(dockerReference, digest)) {
    throw fail(what, 'simple-signing-identity', 'critical.identity["docker-reference"] is missing or not an image repository');
  }
  const optional = root['optional'] ?? null;
  if (optional !== null && !isObject(optional)) throw fail(what, 'simple-signing-optional', '"optional" is neither null nor an object');
  return { dockerReference, digest, optional };
}

function parsesWithDigest(dockerReference: string, digest: Digest): boolean {
  if (dockerReference === '') return false;
  try {
    const parsed = parseReference(`${dockerReference}@${digest}`);
    return parsed.digest === digest;
  } catch {
    return false;
  }
}
