/**
 * cosign v3's storage for a Sigstore bundle: an OCI 1.1 referrer manifest whose one layer is the
 * bundle and whose `subject` is the signed image (cosign pkg/oci/remote/write.go `WriteReferrer`,
 * `WriteAttestationNewBundleFormat`; shared/specs/supply-chain.md §3). Pure: pushing the blobs
 * and the manifest (by digest), and the fallback tag, are the caller's.
 */
import { describeBytes, MediaType, sha256, type Descriptor, type Digest, type ImageManifest } from '../image/index.js';
import { ggcrManifestBytes } from './ggcr-json.js';
import { formatTimestamp } from './wire.js';

/** The media type (and artifactType) of a Sigstore bundle v0.3. */
export const SIGSTORE_BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** The predicateType cosign v3 signs images with (an in-toto statement with an empty predicate). */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';

/** The `{}` blob behind the empty config descriptor. */
export const EMPTY_JSON_BLOB: Buffer = Buffer.from('{}');

/** `{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa3…","size":2}`. */
export const EMPTY_DESCRIPTOR: Descriptor = describeBytes({ mediaType: MediaType.ociEmpty, bytes: EMPTY_JSON_BLOB });

/**
 * The bundle version a referrer layer's media type states, when it is a Sigstore bundle:
 * `application/vnd.dev.sigstore.bundle.v0.3+json`, or the legacy
 * `application/vnd.dev.sigstore.bundle+json;version=0.1|0.2|0.3`.
 */
export function sigstoreBundleVersion(mediaType: string): string | undefined {
  const modern = /^application\/vnd\.dev\.sigstore\.bundle\.v(\d+\.\d+)\+json$/.exec(mediaType);
  if (modern !== null) return modern[1];
  return /^application\/vnd\.dev\.sigstore\.bundle\+json;\s*version=(\d+\.\d+)$/.exec(mediaType)?.[1];
}

/** The manifest to PUT by digest, with its bytes and digest. */
export interface BundleReferrer {
  readonly manifest: ImageManifest;
  readonly bytes: Buffer;
  readonly digest: Digest;
  /** The descriptor for the fallback tag index: artifactType and the manifest's annotations. */
  readonly descriptor: Descriptor;
}

/**
 * The referrer manifest for one bundle (its exact bytes as pushed as the layer blob):
 * artifactType and layer media type the bundle v0.3 type, the empty config descriptor (with the
 * artifactType, as cosign writes it), `subject` the signed manifest's descriptor, and the
 * annotations `org.opencontainers.image.created` (RFC 3339, whole seconds, UTC),
 * `dev.sigstore.bundle.content: dsse-envelope` and `dev.sigstore.bundle.predicateType`.
 */
export function bundleReferrer(options: {
  readonly bundle: Buffer;
  readonly subject: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>;
  readonly predicateType: string;
  readonly created: Date;
}): BundleReferrer {
  const annotations = {
    'dev.sigstore.bundle.content': 'dsse-envelope',
    'dev.sigstore.bundle.predicateType': options.predicateType,
    'org.opencontainers.image.created': formatTimestamp(options.created),
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
    config: { ...EMPTY_DESCRIPTOR, artifactType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE },
    layers: [describeBytes({ mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE, bytes: options.bundle })],
    subject: { mediaType: options.subject.mediaType, digest: options.subject.digest, size: options.subject.size },
    annotations,
  };
  const bytes = ggcrManifestBytes(manifest);
  const digest = sha256(bytes);
  return {
    manifest,
    bytes,
    digest,
    descriptor: { mediaType: MediaType.ociManifest, digest, size: bytes.length, artifactType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE, annotations },
  };
}
