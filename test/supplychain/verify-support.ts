/**
 * Test helper (never a test itself): writes signatures into a real registry exactly as
 * shared/specs/supply-chain.md lays them out — cosign's `.sig`/`.att` images (read, append a
 * layer, push under the tag) and cosign v3's Sigstore bundle v0.3 referrers — made with the pure
 * builders and a `PayloadSigner`, with a hook to tamper with each part; and a trusted_root.json
 * for the Sigstore mock.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Descriptor, Digest } from '../../src/image/index.js';
import type { RegistryRepository } from '../../src/registry/index.js';
import {
  appendCosignLayer, bundleReferrer, cosignLayer, cosignLayerAnnotations, cosignTag, DSSE_ENVELOPE_MEDIA_TYPE, EMPTY_DESCRIPTOR, EMPTY_JSON_BLOB,
  IN_TOTO_PAYLOAD_TYPE, serializeEnvelope, SIGSTORE_BUNDLE_V03_MEDIA_TYPE, SIMPLE_SIGNING_MEDIA_TYPE, signEnvelope, tlogEntryToProtoJson,
  type PayloadSignature, type PayloadSigner, type RekorClient, type TlogEntry,
} from '../../src/supplychain/index.js';
import { makeImage, makeLayer, type TestImage } from '../support/images.js';
import type { SigstoreMock } from '../support/sigstore-mock.js';

async function writeBlob(repository: RegistryRepository, descriptor: Descriptor, bytes: Buffer): Promise<void> {
  await repository.writeBlob({ descriptor, open: async () => Readable.from([bytes]) });
}

/** Pushes a small distinct image; returns it (its manifest descriptor has the digest). */
export async function pushImage(repository: RegistryRepository, content: string, tag?: string): Promise<TestImage> {
  const image = makeImage({ layers: [makeLayer({ 'etc/id': content })] });
  for (const layer of image.layers) await writeBlob(repository, layer.descriptor, layer.bytes);
  await writeBlob(repository, image.config, image.configBytes);
  const { platform: _platform, ...descriptor } = image.manifest;
  await repository.writeManifest({ descriptor, bytes: image.manifestBytes, ...(tag === undefined ? {} : { tag }) });
  return image;
}

/** Appends one layer (its blob `blob`) to the `.sig`/`.att` image of `digest`, as cosign does. */
export async function appendLayer(options: { readonly repository: RegistryRepository; readonly digest: Digest; readonly kind: 'sig' | 'att'; readonly layer: Descriptor; readonly blob: Buffer }): Promise<void> {
  const { repository } = options;
  const tag = cosignTag({ digest: options.digest, kind: options.kind });
  let existing: Parameters<typeof appendCosignLayer>[0]['existing'];
  try {
    const root = await repository.resolve(tag);
    const parsed = await repository.readManifest(root);
    if (parsed.kind !== 'manifest') throw new Error('not a manifest');
    const chunks: Buffer[] = [];
    for await (const chunk of await repository.openBlob(parsed.manifest.config)) chunks.push(chunk as Buffer);
    existing = { manifest: parsed.manifest, configBytes: Buffer.concat(chunks), what: tag };
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MANIFEST_UNKNOWN') throw error;
  }
  const result = appendCosignLayer({
    ...(existing === undefined ? {} : { existing }),
    layer: options.layer,
    kind: options.kind === 'sig' ? { kind: 'signature', verifies: () => false } : { kind: 'attestation' },
  });
  if (result.kind !== 'appended') throw new Error('unexpected duplicate');
  await writeBlob(repository, options.layer, options.blob);
  await writeBlob(repository, result.image.manifest.config, result.image.configBytes);
  await repository.writeManifest({ descriptor: { mediaType: result.image.manifest.mediaType as string, digest: result.image.manifestDigest, size: result.image.manifestBytes.length }, bytes: result.image.manifestBytes, tag });
}

/** How a test changes what gets written. */
export interface Tamper {
  /** Store this blob instead of what was signed (the signature and tlog entry stay the old ones). */
  readonly blob?: Buffer;
  /** Replace the signature bytes. */
  readonly signature?: (signature: Buffer) => Buffer;
  /** Replace the tlog entry (after upload). */
  readonly entry?: (entry: TlogEntry) => TlogEntry;
}

/** Signs `payload` (a simple-signing payload), logs it unless `rekor` is absent, and appends the `.sig` layer. */
export async function writeLegacySignature(options: {
  readonly repository: RegistryRepository;
  readonly digest: Digest;
  readonly payload: Buffer;
  readonly signer: PayloadSigner;
  readonly rekor?: RekorClient;
  readonly tamper?: Tamper;
}): Promise<void> {
  const tamper = options.tamper ?? {};
  const signed = await options.signer.sign(options.payload);
  const signature: PayloadSignature = { ...signed, signature: tamper.signature?.(signed.signature) ?? signed.signature };
  const uploaded = options.rekor === undefined ? undefined : await options.rekor.upload({ kind: 'hashedrekord', payload: options.payload, signature: signed.signature, identity: signed.identity });
  const tlogEntry = uploaded === undefined ? undefined : tamper.entry?.(uploaded) ?? uploaded;
  const blob = tamper.blob ?? options.payload;
  const layer = cosignLayer({ mediaType: SIMPLE_SIGNING_MEDIA_TYPE, blob, annotations: cosignLayerAnnotations({ signature, layer: { kind: 'signature' }, ...(tlogEntry === undefined ? {} : { tlogEntry }) }) });
  await appendLayer({ repository: options.repository, digest: options.digest, kind: 'sig', layer, blob });
}

/** Signs `statement` bytes in a DSSE envelope, logs it (dsse), and appends the `.att` layer. */
export async function writeLegacyAttestation(options: {
  readonly repository: RegistryRepository;
  readonly digest: Digest;
  readonly statement: Buffer;
  readonly predicateType: string;
  readonly signer: PayloadSigner;
  readonly rekor?: RekorClient;
  readonly tamper?: Tamper;
}): Promise<void> {
  const tamper = options.tamper ?? {};
  const { envelope, signature } = await signEnvelope({ payloadType: IN_TOTO_PAYLOAD_TYPE, payload: options.statement, signer: options.signer });
  const blob = tamper.blob ?? serializeEnvelope(envelope);
  const uploaded = options.rekor === undefined ? undefined : await options.rekor.upload({ kind: 'dsse', envelope: serializeEnvelope(envelope).toString('utf8'), identity: signature.identity });
  const tlogEntry = uploaded === undefined ? undefined : tamper.entry?.(uploaded) ?? uploaded;
  const layer = cosignLayer({
    mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
    blob,
    annotations: cosignLayerAnnotations({ signature, layer: { kind: 'attestation', predicateType: options.predicateType }, ...(tlogEntry === undefined ? {} : { tlogEntry }) }),
  });
  await appendLayer({ repository: options.repository, digest: options.digest, kind: 'att', layer, blob });
}

/**
 * A Sigstore bundle v0.3 (DSSE) over `statement`, pushed as cosign v3 does: the bundle and `{}`
 * blobs, then the referrer manifest by digest (the registry keeps the fallback tag when it has
 * no referrers API). Returns the referrer's digest.
 */
export async function writeBundle(options: {
  readonly repository: RegistryRepository;
  readonly subject: Descriptor;
  readonly statement: Buffer;
  readonly predicateType: string;
  readonly signer: PayloadSigner;
  readonly rekor?: RekorClient;
  readonly mediaType?: string;
  readonly tamper?: Tamper;
}): Promise<Digest> {
  const tamper = options.tamper ?? {};
  const { envelope, signature } = await signEnvelope({ payloadType: IN_TOTO_PAYLOAD_TYPE, payload: options.statement, signer: options.signer });
  const uploaded = options.rekor === undefined ? undefined : await options.rekor.upload({ kind: 'dsse', envelope: serializeEnvelope(envelope).toString('utf8'), identity: signature.identity });
  const tlogEntry = uploaded === undefined ? undefined : tamper.entry?.(uploaded) ?? uploaded;
  const identity = signature.identity;
  const material =
    identity.kind === 'key'
      ? { publicKey: { hint: createHash('sha256').update(createPublicKey(identity.publicKeyPem).export({ format: 'der', type: 'spki' })).digest('base64') } }
      : { certificate: { rawBytes: new X509Certificate(identity.certificatePem).raw.toString('base64') } };
  const bundle = Buffer.from(
    JSON.stringify({
      mediaType: options.mediaType ?? SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial: { ...material, tlogEntries: tlogEntry === undefined ? [] : [tlogEntryToProtoJson(tlogEntry)] },
      dsseEnvelope: {
        payload: (tamper.blob ?? envelope.payload).toString('base64'),
        payloadType: envelope.payloadType,
        signatures: [{ sig: (tamper.signature?.(signature.signature) ?? signature.signature).toString('base64') }],
      },
    }),
  );
  const referrer = bundleReferrer({ bundle, subject: options.subject, predicateType: options.predicateType, created: new Date() });
  const layer = referrer.manifest.layers[0] as Descriptor;
  await writeBlob(options.repository, layer, bundle);
  await writeBlob(options.repository, EMPTY_DESCRIPTOR, EMPTY_JSON_BLOB);
  await options.repository.writeManifest({ descriptor: { mediaType: referrer.descriptor.mediaType, digest: referrer.digest, size: referrer.bytes.length }, bytes: referrer.bytes });
  return referrer.digest;
}

/** A trusted_root.json (v0.1 media type) for the mock: its CA root and its Rekor key. */
export function mockTrustedRoot(mock: SigstoreMock): Buffer {
  const der = (pem: string): string => pem.replace(/-----[^-]+-----|\s/g, '');
  return Buffer.from(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: mock.rekorURL,
          hashAlgorithm: 'SHA2_256',
          publicKey: { rawBytes: der(mock.rekorPublicKeyPem), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2020-01-01T00:00:00Z' } },
          logId: { keyId: mock.rekorLogId.toString('base64') },
        },
      ],
      certificateAuthorities: [
        {
          subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
          uri: mock.fulcioURL,
          certChain: { certificates: [{ rawBytes: new X509Certificate(mock.caRootPem).raw.toString('base64') }] },
          validFor: { start: '2020-01-01T00:00:00Z' },
        },
      ],
      ctlogs: [],
      timestampAuthorities: [],
    }),
  );
}
