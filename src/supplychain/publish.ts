/**
 * Publishing signatures and attestations next to an image in its registry, as cosign does
 * (shared/specs/supply-chain.md §1–§3):
 * - `legacy`: a simple-signing layer appended to the `sha256-<hex>.sig` image (deduplicated as
 *   cosign does), or a DSSE envelope layer appended to `sha256-<hex>.att`;
 * - `bundle`: a Sigstore bundle v0.3 in an OCI 1.1 referrer manifest pushed by digest (cosign v3),
 *   the fallback `sha256-<hex>` index kept by `RegistryRepository.writeManifest` on registries
 *   without the referrers API.
 * Order: sign, log in Rekor when `tlog` is given, timestamp when `tsa` is given, then blobs, then
 * the manifest, so a failure leaves no manifest behind. What is timestamped is what cosign
 * stamps: a `.sig` layer's signature bytes, an `.att` layer's blob (the envelope JSON; its
 * signature annotation is empty), a bundle's DSSE signature bytes (sigstore-go, sigstore-js). Registry failures are ERR_SIGNING naming the signature's reference.
 */
import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { CaissonError } from '../errors.js';
import { digestHex, MediaType, type Descriptor, type Digest } from '../image/index.js';
import type { RegistryRepository } from '../registry/index.js';
import { bundleReferrer, COSIGN_SIGN_PREDICATE_TYPE, EMPTY_DESCRIPTOR, EMPTY_JSON_BLOB } from './bundle-referrer.js';
import { CosignAnnotation, cosignLayerAnnotations } from './cosign-annotations.js';
import { appendCosignLayer, cosignLayer, cosignTag, type AppendOptions } from './cosign-image.js';
import { DSSE_ENVELOPE_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE, serializeEnvelope, signEnvelope } from './dsse.js';
import { readCosignImage, repositoryReference, writeArtifact } from './publish-registry.js';
import type { RekorClient } from './rekor.js';
import type { TimestampClient } from './tsa.js';
import type { PayloadSigner, SignerIdentity } from './signer.js';
import { sigstoreBundleJson } from './sigstore-bundle.js';
import { SIMPLE_SIGNING_MEDIA_TYPE, simpleSigningPayload } from './simple-signing.js';
import { buildStatement, serializeStatement, type Statement } from './statement.js';
import { decodeBase64 } from './wire.js';

export interface PublishedArtifact {
  /** Where it is: `<registry>/<repo>:sha256-<hex>.sig|.att` (legacy) or `<registry>/<repo>@sha256:<referrer manifest digest>` (bundle). */
  readonly reference: string;
  /** The digest of the manifest written (.sig/.att image, or the bundle referrer). */
  readonly digest: Digest;
}

export interface PublishOptions {
  /** The signed image's repository (signatures go next to it, as cosign does). */
  readonly repository: RegistryRepository;
  /** The image: `name` = `<registry>/<repository>` (the simple-signing docker-reference), `digest` = its manifest (or index) digest. */
  readonly image: { readonly name: string; readonly digest: Digest; readonly mediaType: string; readonly size: number };
  readonly signer: PayloadSigner;
  /** Rekor; absent = --tlog-upload=false. */
  readonly tlog?: RekorClient;
  /** An RFC 3161 timestamp authority (--tsa-url); absent = no timestamp. */
  readonly tsa?: TimestampClient;
  readonly format: 'legacy' | 'bundle';
}

/**
 * Signs the image. `legacy`: the simple-signing payload (`annotations` in `optional`) signed,
 * logged as a hashedrekord entry, appended to `sha256-<hex>.sig` unless an equal signature by the
 * same key is there already (then nothing is written and that image is returned). `bundle`: an
 * in-toto statement with predicateType `https://sigstore.dev/cosign/sign/v1` and an empty
 * predicate (`annotations` on its subject), DSSE-signed, as a bundle referrer.
 */
export async function signImage(options: PublishOptions & { readonly annotations?: Readonly<Record<string, string>> }): Promise<PublishedArtifact> {
  switch (options.format) {
    case 'legacy':
      return signLegacy(options);
    case 'bundle': {
      const annotations = options.annotations ?? {};
      const statement = buildStatement({
        subjects: [{ digest: { sha256: digestHex(options.image.digest) }, ...(Object.keys(annotations).length === 0 ? {} : { annotations }) }],
        predicateType: COSIGN_SIGN_PREDICATE_TYPE,
        predicate: {},
      });
      return publishBundle({ ...options, statement });
    }
  }
}

/**
 * Attests the image with a DSSE-signed in-toto statement (one of whose subjects must be the
 * image's sha256). `legacy`: the envelope is the layer blob of `sha256-<hex>.att` and, with a
 * tlog, the exact string logged as a dsse entry; never deduplicated; `replace` drops the earlier
 * layers of the same predicateType. `bundle`: a bundle referrer (`replace` does not apply).
 */
export async function attestImage(options: PublishOptions & { readonly statement: Statement; readonly replace?: boolean }): Promise<PublishedArtifact> {
  const hex = digestHex(options.image.digest);
  if (!options.statement.subject.some((subject) => subject.digest['sha256'] === hex)) {
    throw new CaissonError({
      code: 'ERR_SIGNING',
      message: `${options.image.name}@${options.image.digest}: the ${options.statement.predicateType} statement has no subject with this digest`,
      hint: 'cosign verify-attestation matches a subject digest against the image; attest the image the statement is about.',
    });
  }
  switch (options.format) {
    case 'legacy':
      return attestLegacy(options);
    case 'bundle':
      return publishBundle(options);
  }
}

function publicKeyOf(identity: SignerIdentity): KeyObject {
  switch (identity.kind) {
    case 'key':
      return createPublicKey(identity.publicKeyPem);
    case 'certificate':
      return new X509Certificate(identity.certificatePem).publicKey;
  }
}

/** Whether `signature` (base64) is `identity`'s signature over `payload` (cosign's duplicate check). */
function signedBy(options: { readonly identity: SignerIdentity; readonly payload: Buffer; readonly signature: string | undefined }): boolean {
  const signature = options.signature === undefined ? undefined : decodeBase64(options.signature);
  if (signature === undefined || signature.length === 0) return false;
  try {
    const key = publicKeyOf(options.identity);
    return verify(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', options.payload, key, signature);
  } catch {
    return false;
  }
}

async function signLegacy(options: PublishOptions & { readonly annotations?: Readonly<Record<string, string>> }): Promise<PublishedArtifact> {
  const payload = simpleSigningPayload({ dockerReference: options.image.name, digest: options.image.digest, ...(options.annotations === undefined ? {} : { annotations: options.annotations }) });
  const signature = await options.signer.sign(payload);
  const tlogEntry = await options.tlog?.upload({ kind: 'hashedrekord', payload, signature: signature.signature, identity: signature.identity });
  const timestamp = await options.tsa?.timestamp(signature.signature);
  const annotations = cosignLayerAnnotations({
    signature,
    layer: { kind: 'signature' },
    ...(tlogEntry === undefined ? {} : { tlogEntry }),
    ...(timestamp === undefined ? {} : { rfc3161Timestamp: timestamp.response }),
  });
  return appendLegacy({
    ...options,
    tagKind: 'sig',
    blob: payload,
    layer: cosignLayer({ mediaType: SIMPLE_SIGNING_MEDIA_TYPE, blob: payload, annotations }),
    kind: { kind: 'signature', verifies: (existing) => signedBy({ identity: signature.identity, payload, signature: existing.annotations?.[CosignAnnotation.signature] }) },
  });
}

async function attestLegacy(options: PublishOptions & { readonly statement: Statement; readonly replace?: boolean }): Promise<PublishedArtifact> {
  const { envelope, signature } = await signEnvelope({ payloadType: IN_TOTO_PAYLOAD_TYPE, payload: serializeStatement(options.statement), signer: options.signer });
  const blob = serializeEnvelope(envelope);
  const tlogEntry = await options.tlog?.upload({ kind: 'dsse', envelope: blob.toString('utf8'), identity: signature.identity });
  const timestamp = await options.tsa?.timestamp(blob);
  const annotations = cosignLayerAnnotations({
    signature,
    layer: { kind: 'attestation', predicateType: options.statement.predicateType },
    ...(tlogEntry === undefined ? {} : { tlogEntry }),
    ...(timestamp === undefined ? {} : { rfc3161Timestamp: timestamp.response }),
  });
  return appendLegacy({
    ...options,
    tagKind: 'att',
    blob,
    layer: cosignLayer({ mediaType: DSSE_ENVELOPE_MEDIA_TYPE, blob, annotations }),
    kind: { kind: 'attestation', ...(options.replace === undefined ? {} : { replace: options.replace }) },
  });
}

/** Reads the `.sig`/`.att` image, appends the layer (or finds it a duplicate), writes it back. */
async function appendLegacy(options: {
  readonly repository: RegistryRepository;
  readonly image: PublishOptions['image'];
  readonly tagKind: 'sig' | 'att';
  readonly blob: Buffer;
  readonly layer: Descriptor;
  readonly kind: AppendOptions['kind'];
}): Promise<PublishedArtifact> {
  const { repository } = options;
  const tag = cosignTag({ digest: options.image.digest, kind: options.tagKind });
  const reference = `${repositoryReference(repository)}:${tag}`;
  const existing = await readCosignImage({ repository, tag, what: reference });
  const result = appendCosignLayer({ layer: options.layer, kind: options.kind, ...(existing === undefined ? {} : { existing: existing.image }) });
  switch (result.kind) {
    case 'duplicate':
      if (existing === undefined) throw new CaissonError({ code: 'ERR_INTERNAL', message: `${reference}: a duplicate signature in an image that does not exist` });
      return { reference, digest: existing.digest };
    case 'appended': {
      const image = result.image;
      await writeArtifact({
        repository,
        what: reference,
        blobs: [
          { descriptor: options.layer, bytes: options.blob },
          { descriptor: image.manifest.config, bytes: image.configBytes },
        ],
        manifest: { descriptor: { mediaType: image.manifest.mediaType ?? MediaType.ociManifest, digest: image.manifestDigest, size: image.manifestBytes.length }, bytes: image.manifestBytes },
        tag,
      });
      return { reference, digest: image.manifestDigest };
    }
  }
}

/** DSSE-signs the statement, logs the envelope as a dsse entry, and pushes the bundle referrer by digest. */
async function publishBundle(options: PublishOptions & { readonly statement: Statement }): Promise<PublishedArtifact> {
  const { repository, image } = options;
  const { envelope, signature } = await signEnvelope({ payloadType: IN_TOTO_PAYLOAD_TYPE, payload: serializeStatement(options.statement), signer: options.signer });
  const tlogEntry = await options.tlog?.upload({ kind: 'dsse', envelope: serializeEnvelope(envelope).toString('utf8'), identity: signature.identity });
  const timestamp = await options.tsa?.timestamp(signature.signature);
  const bundle = sigstoreBundleJson({
    envelope,
    identity: signature.identity,
    ...(tlogEntry === undefined ? {} : { tlogEntry }),
    ...(timestamp === undefined ? {} : { rfc3161Timestamp: timestamp.response }),
  });
  const referrer = bundleReferrer({
    bundle,
    subject: { mediaType: image.mediaType, digest: image.digest, size: image.size },
    predicateType: options.statement.predicateType,
    created: new Date(),
  });
  const reference = `${repositoryReference(repository)}@${referrer.digest}`;
  const layer = referrer.manifest.layers[0];
  if (layer === undefined) throw new CaissonError({ code: 'ERR_INTERNAL', message: `${reference}: the bundle referrer has no layer` });
  await writeArtifact({
    repository,
    what: reference,
    blobs: [
      { descriptor: layer, bytes: bundle },
      { descriptor: EMPTY_DESCRIPTOR, bytes: EMPTY_JSON_BLOB },
    ],
    manifest: { descriptor: referrer.descriptor, bytes: referrer.bytes },
  });
  return { reference, digest: referrer.digest };
}
