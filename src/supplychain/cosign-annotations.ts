/**
 * The annotations of cosign `.sig` / `.att` layers (cosign pkg/oci/static/signature.go and
 * options.go; shared/specs/supply-chain.md §1 "Layer annotations"), and the legacy Rekor bundle
 * annotation (cosign pkg/cosign/bundle/rekor.go) made from a tlog entry and parsed back.
 */
import { SignatureFormatError } from './format-error.js';
import type { PayloadSignature } from './signer.js';
import type { TlogEntry } from './tlog.js';
import { decodeBase64, goJson, isObject, parseJsonObject } from './wire.js';

export const CosignAnnotation = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
  rfc3161Timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
  predicateType: 'predicateType',
} as const;

/** The `Payload` of a Rekor bundle annotation; `logId` is hex. */
export interface RekorBundlePayload {
  /** base64 of the canonicalized entry body. */
  readonly body: string;
  readonly integratedTime: number;
  readonly logIndex: number;
  readonly logId: string;
}

export interface RekorBundle {
  readonly signedEntryTimestamp: Buffer;
  readonly payload: RekorBundlePayload;
}

/** The bundle annotation's value for a tlog entry. */
export function rekorBundleOf(entry: TlogEntry): RekorBundle {
  return {
    signedEntryTimestamp: entry.signedEntryTimestamp,
    payload: {
      body: entry.canonicalizedBody.toString('base64'),
      integratedTime: entry.integratedTime,
      logIndex: entry.logIndex,
      logId: entry.logId.toString('hex'),
    },
  };
}

/**
 * `{"SignedEntryTimestamp":<b64>,"Payload":{"body":<b64>,"integratedTime":<int>,"logIndex":<int>,"logID":<hex>}}`,
 * the capitalised names and field order of cosign's Go struct.
 */
export function rekorBundleAnnotation(entry: TlogEntry): string {
  const bundle = rekorBundleOf(entry);
  return goJson({
    SignedEntryTimestamp: bundle.signedEntryTimestamp.toString('base64'),
    Payload: { body: bundle.payload.body, integratedTime: bundle.payload.integratedTime, logIndex: bundle.payload.logIndex, logID: bundle.payload.logId },
  });
}

/**
 * What the SET signs: RFC 8785 (JCS) of `Payload`, i.e. its members sorted (body, integratedTime,
 * logID, logIndex). Integers and base64/hex strings need no other canonicalization.
 */
export function rekorSetPayload(payload: RekorBundlePayload): Buffer {
  return Buffer.from(JSON.stringify({ body: payload.body, integratedTime: payload.integratedTime, logID: payload.logId, logIndex: payload.logIndex }));
}

/** Parses a `dev.sigstore.cosign/bundle` annotation; `rekor-bundle-set` / `rekor-bundle-payload` problems otherwise. */
export function parseRekorBundleAnnotation(options: { readonly text: string; readonly what: string }): RekorBundle {
  const { what } = options;
  const root = parseJsonObject({ bytes: options.text, what, kind: 'Rekor bundle annotation' });
  const set = typeof root['SignedEntryTimestamp'] === 'string' ? decodeBase64(root['SignedEntryTimestamp']) : undefined;
  if (set === undefined || set.length === 0) {
    throw new SignatureFormatError({ problem: 'rekor-bundle-set', what, detail: 'the Rekor bundle has no base64 SignedEntryTimestamp' });
  }
  const payload = root['Payload'];
  const valid =
    isObject(payload) &&
    typeof payload['body'] === 'string' &&
    decodeBase64(payload['body']) !== undefined &&
    Number.isSafeInteger(payload['integratedTime']) &&
    Number.isSafeInteger(payload['logIndex']) &&
    typeof payload['logID'] === 'string' &&
    /^[0-9a-f]{64}$/.test(payload['logID']);
  if (!valid) throw new SignatureFormatError({ problem: 'rekor-bundle-payload', what, detail: 'the Rekor bundle Payload needs body (base64), integratedTime, logIndex and logID (64 hex)' });
  return {
    signedEntryTimestamp: set,
    payload: { body: payload['body'] as string, integratedTime: payload['integratedTime'] as number, logIndex: payload['logIndex'] as number, logId: payload['logID'] as string },
  };
}

/** The DER `TimeStampResp` of a `dev.sigstore.cosign/rfc3161timestamp` annotation (`{"SignedRFC3161Timestamp":"<b64>"}`). */
export function parseTimestampAnnotation(options: { readonly text: string; readonly what: string }): Buffer {
  const root = parseJsonObject({ bytes: options.text, what: options.what, kind: 'RFC 3161 timestamp annotation' });
  const der = typeof root['SignedRFC3161Timestamp'] === 'string' ? decodeBase64(root['SignedRFC3161Timestamp']) : undefined;
  if (der === undefined || der.length === 0) throw new SignatureFormatError({ problem: 'timestamp-malformed', what: options.what, detail: 'the RFC 3161 timestamp annotation has no base64 SignedRFC3161Timestamp' });
  return der;
}

/** What goes on one layer besides its descriptor: who signed, the tlog entry, a timestamp. */
export interface LayerAnnotationOptions {
  /** The signature and identity; an attestation layer's signature annotation is `""` (the signature lives in the envelope). */
  readonly signature: PayloadSignature;
  readonly layer: { readonly kind: 'signature' } | { readonly kind: 'attestation'; readonly predicateType: string };
  readonly tlogEntry?: TlogEntry;
  /** A DER RFC 3161 TimeStampResp. */
  readonly rfc3161Timestamp?: Buffer;
}

/**
 * A layer's annotations, sorted by key as Go writes the map: the signature (base64, or `""` for
 * an attestation), the certificate and chain for a certificate identity (the chain may be `""`),
 * the Rekor bundle when there is a tlog entry, the RFC 3161 timestamp, the predicateType.
 */
export function cosignLayerAnnotations(options: LayerAnnotationOptions): Record<string, string> {
  const annotations: Record<string, string> = {
    [CosignAnnotation.signature]: options.layer.kind === 'signature' ? options.signature.signature.toString('base64') : '',
  };
  const identity = options.signature.identity;
  if (identity.kind === 'certificate') {
    annotations[CosignAnnotation.certificate] = identity.certificatePem;
    annotations[CosignAnnotation.chain] = identity.chainPem;
  }
  if (options.tlogEntry !== undefined) annotations[CosignAnnotation.bundle] = rekorBundleAnnotation(options.tlogEntry);
  if (options.rfc3161Timestamp !== undefined) {
    annotations[CosignAnnotation.rfc3161Timestamp] = goJson({ SignedRFC3161Timestamp: options.rfc3161Timestamp.toString('base64') });
  }
  if (options.layer.kind === 'attestation') annotations[CosignAnnotation.predicateType] = options.layer.predicateType;
  return Object.fromEntries(Object.keys(annotations).sort().map((key) => [key, annotations[key] as string]));
}
