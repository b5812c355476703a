/**
 * Verifying cosign's legacy layout (shared/specs/supply-chain.md §1 "What cosign verify checks",
 * §2): the image at `sha256-<hex>.sig` / `.att` beside the signed image, one signature or
 * attestation per layer, each checked on its own (its blob against its digest, its signature,
 * claims, certificate, Rekor bundle annotation and RFC 3161 timestamp annotation).
 */
import { createHash } from 'node:crypto';
import { readAll, sha256, type Descriptor, type Digest, type ImageSource } from '../image/index.js';
import { CosignAnnotation, parseRekorBundleAnnotation, parseTimestampAnnotation } from './cosign-annotations.js';
import { cosignTag, type CosignTagKind } from './cosign-image.js';
import { parseEnvelope } from './dsse.js';
import { checkCertificateTime, checkSigner, type CheckedSigner } from './signer-check.js';
import { parseSimpleSigningPayload } from './simple-signing.js';
import { checkTimestamps } from './timestamp-check.js';
import { checkTlogEntry, type TlogExpectation } from './tlog-check.js';
import type { TlogEntry } from './tlog.js';
import type { VerificationTrust } from './trust.js';
import { checkAnnotations, checkEnvelope, parsed } from './verify-envelope.js';
import { Rejected, type VerifiedAttestation, type VerifiedSignature } from './verify-result.js';
import { decodeBase64, isObject } from './wire.js';

/** The signed image: its repository name (for messages and payload identities) and digest. */
export interface SignedImage {
  /** `registry/repository`, as in a simple-signing docker-reference. */
  readonly name: string;
  readonly digest: Digest;
}

/** One layer's outcome: verified, or rejected with where and why. */
export type LayerOutcome<T> = { readonly kind: 'verified'; readonly value: T } | { readonly kind: 'rejected'; readonly where: string; readonly rejection: Rejected };

/** The layers at the image's `.sig` or `.att` tag; none when the tag does not exist. */
export async function cosignLayers(options: { readonly source: ImageSource; readonly digest: Digest; readonly kind: CosignTagKind }): Promise<{ readonly tag: string; readonly layers: readonly Descriptor[] }> {
  const tag = cosignTag({ digest: options.digest, kind: options.kind });
  let root: Descriptor;
  try {
    root = await options.source.resolve(tag);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_MANIFEST_UNKNOWN') return { tag, layers: [] };
    throw error;
  }
  const manifest = await options.source.readManifest(root);
  return { tag, layers: manifest.kind === 'manifest' ? manifest.manifest.layers : [] };
}

/** The blob's bytes, checked against the descriptor's digest and size. */
export async function readBlob(source: ImageSource, descriptor: Descriptor): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readAll(await source.openBlob(descriptor));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_DIGEST_MISMATCH' || code === 'ERR_BLOB_UNKNOWN') throw new Rejected('malformed', `the blob ${descriptor.digest} is missing or does not match its digest`);
    throw error;
  }
  if (sha256(bytes) !== descriptor.digest) throw new Rejected('malformed', `the blob does not match its digest ${descriptor.digest}`);
  return bytes;
}

/** The tlog entry of a `dev.sigstore.cosign/bundle` annotation, if the layer has one. */
function bundleEntry(annotations: Readonly<Record<string, string>>, what: string): TlogEntry | undefined {
  const text = annotations[CosignAnnotation.bundle];
  if (text === undefined || text === '') return undefined;
  const bundle = parsed(() => parseRekorBundleAnnotation({ text, what }));
  const body = decodeBase64(bundle.payload.body) ?? Buffer.alloc(0);
  let kind: unknown;
  try {
    const parsedBody: unknown = JSON.parse(body.toString('utf8'));
    kind = isObject(parsedBody) ? parsedBody['kind'] : undefined;
  } catch {
    kind = undefined;
  }
  if (kind !== 'hashedrekord' && kind !== 'dsse') throw new Rejected('tlog-body', `the Rekor bundle logs a ${String(kind)} entry, not hashedrekord or dsse`);
  return {
    kind,
    logIndex: bundle.payload.logIndex,
    integratedTime: bundle.payload.integratedTime,
    logId: Buffer.from(bundle.payload.logId, 'hex'),
    canonicalizedBody: body,
    signedEntryTimestamp: bundle.signedEntryTimestamp,
  };
}

/**
 * The layer's RFC 3161 timestamp, when it has one, checked over `data` (cosign stamps a `.sig`
 * layer's signature bytes and an `.att` layer's blob); the time it attests.
 */
function checkLayerTimestamp(options: { readonly annotations: Readonly<Record<string, string>>; readonly data: Buffer; readonly trust: VerificationTrust; readonly where: string }): Date | undefined {
  const text = options.annotations[CosignAnnotation.rfc3161Timestamp];
  if (text === undefined || text === '') return undefined;
  const response = parsed(() => parseTimestampAnnotation({ text, what: options.where }));
  return checkTimestamps({ responses: [response], data: options.data, authorities: options.trust.timestampAuthorities });
}

/** Tlog, then the certificate's validity at the integrated time (or now, without an entry). */
function checkLogged(options: { readonly entry: TlogEntry | undefined; readonly trust: VerificationTrust; readonly expect: TlogExpectation; readonly checked: CheckedSigner }): TlogEntry | undefined {
  const entry = checkTlogEntry(options);
  checkCertificateTime({ checked: options.checked, ...(entry === undefined ? { at: new Date(), source: 'now' } : { at: new Date(entry.integratedTime * 1000), source: 'tlog' }) });
  return entry;
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** One `.sig` layer: signature, then claims (digest, type, annotations), certificate, tlog. */
async function checkSignatureLayer(options: {
  readonly source: ImageSource;
  readonly layer: Descriptor;
  readonly image: SignedImage;
  readonly trust: VerificationTrust;
  readonly annotations: Readonly<Record<string, string>>;
  readonly where: string;
}): Promise<VerifiedSignature> {
  const { layer, where } = options;
  const annotations = layer.annotations ?? {};
  const signature = decodeBase64(annotations[CosignAnnotation.signature] ?? '');
  if (signature === undefined || signature.length === 0) throw new Rejected('malformed', 'the layer has no base64 signature annotation');
  const blob = await readBlob(options.source, layer);
  const certificate = annotations[CosignAnnotation.certificate];
  const checked = checkSigner({ trust: options.trust.signer, data: blob, signature, ...(certificate === undefined ? {} : { certificate }) });
  const payload = parsed(() => parseSimpleSigningPayload({ bytes: blob, what: where }));
  if (payload.digest !== options.image.digest) throw new Rejected('payload-digest', `the payload signs ${payload.digest}, another image`);
  checkAnnotations({ wanted: options.annotations, claims: payload.optional });
  const entry = bundleEntry(annotations, where);
  const tlogEntry = checkLogged({ entry, trust: options.trust, expect: { kind: 'hashedrekord', contentSha256: sha256Hex(blob), signature }, checked });
  const timestamp = checkLayerTimestamp({ annotations, data: signature, trust: options.trust, where });
  return {
    layout: 'legacy',
    where,
    payload: blob,
    claims: { kind: 'simple-signing', payload },
    signer: checked.signer,
    ...(tlogEntry === undefined ? {} : { tlogEntry }),
    ...(timestamp === undefined ? {} : { timestamp }),
  };
}

/** One `.att` layer: the envelope (type, signature over the PAE, subject, predicateType), certificate, tlog. */
async function checkAttestationLayer(options: {
  readonly source: ImageSource;
  readonly layer: Descriptor;
  readonly image: SignedImage;
  readonly trust: VerificationTrust;
  readonly predicateType: string;
  readonly where: string;
}): Promise<VerifiedAttestation> {
  const { layer, where } = options;
  const annotations = layer.annotations ?? {};
  const blob = await readBlob(options.source, layer);
  const envelope = parsed(() => parseEnvelope({ bytes: blob, what: where }));
  const certificate = annotations[CosignAnnotation.certificate];
  const result = checkEnvelope({
    envelope,
    trust: options.trust.signer,
    digest: options.image.digest,
    predicateType: options.predicateType,
    what: where,
    ...(certificate === undefined ? {} : { certificate }),
  });
  const entry = bundleEntry(annotations, where);
  const tlogEntry = checkLogged({ entry, trust: options.trust, expect: { kind: 'dsse', envelopeSha256: sha256Hex(blob), signature: result.signature }, checked: result.checked });
  const timestamp = checkLayerTimestamp({ annotations, data: blob, trust: options.trust, where });
  return {
    layout: 'legacy',
    where,
    envelope: blob,
    statement: result.statement,
    signer: result.checked.signer,
    ...(tlogEntry === undefined ? {} : { tlogEntry }),
    ...(timestamp === undefined ? {} : { timestamp }),
  };
}

/** Runs one candidate's check: verified, or the rejection (other errors, such as a registry failure, propagate). */
export async function outcome<T>(where: string, check: () => Promise<T>): Promise<LayerOutcome<T>> {
  try {
    return { kind: 'verified', value: await check() };
  } catch (error) {
    if (error instanceof Rejected) return { kind: 'rejected', where, rejection: error };
    throw error;
  }
}

/** Every layer of the `.sig` image, each verified or rejected. */
export async function legacySignatures(options: {
  readonly source: ImageSource;
  readonly image: SignedImage;
  readonly trust: VerificationTrust;
  readonly annotations: Readonly<Record<string, string>>;
}): Promise<readonly LayerOutcome<VerifiedSignature>[]> {
  const { tag, layers } = await cosignLayers({ source: options.source, digest: options.image.digest, kind: 'sig' });
  return Promise.all(layers.map((layer, index) => {
    const where = `${tag} layer ${index + 1}`;
    return outcome(where, () => checkSignatureLayer({ ...options, layer, where }));
  }));
}

/** Every layer of the `.att` image, each verified or rejected. */
export async function legacyAttestations(options: {
  readonly source: ImageSource;
  readonly image: SignedImage;
  readonly trust: VerificationTrust;
  readonly predicateType: string;
}): Promise<readonly LayerOutcome<VerifiedAttestation>[]> {
  const { tag, layers } = await cosignLayers({ source: options.source, digest: options.image.digest, kind: 'att' });
  return Promise.all(layers.map((layer, index) => {
    const where = `${tag} layer ${index + 1}`;
    return outcome(where, () => checkAttestationLayer({ ...options, layer, where }));
  }));
}
