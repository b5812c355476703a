/**
 * Sigstore bundle JSON (protobuf-specs `sigstore_bundle.proto`, `sigstore_rekor.proto`;
 * shared/specs/supply-chain.md §3 "Sigstore bundle v0.3 JSON"), both ways, pure:
 * - writing v0.3 for one DSSE envelope, as cosign v3 stores it in a referrer: protojson (camelCase,
 *   standard base64 bytes, int64 as strings, empty fields omitted);
 * - reading v0.1–v0.3 for verification: the signing certificate or key hint, the tlog entries, and
 *   the content (a DSSE envelope or a message signature). Malformed bundles are
 *   `SignatureFormatError`s naming the problem.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { SIGSTORE_BUNDLE_V03_MEDIA_TYPE, sigstoreBundleVersion } from './bundle-referrer.js';
import { parseEnvelope, type DsseEnvelope } from './dsse.js';
import { SignatureFormatError } from './format-error.js';
import type { SignerIdentity } from './signer.js';
import { tlogEntryFromProtoJson, type TlogEntry } from './tlog.js';
import { decodeBase64, isObject, parseJsonObject } from './wire.js';

/**
 * The `publicKey.hint` of a keyed bundle: standard base64 of sha256(SPKI DER), as sigstore-go
 * writes it. Verifiers given `--key` ignore it.
 */
export function publicKeyHint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

function verificationContent(identity: SignerIdentity): Record<string, unknown> {
  switch (identity.kind) {
    case 'key':
      return { publicKey: { hint: publicKeyHint(identity.publicKeyPem) } };
    case 'certificate':
      // v0.3 carries the leaf alone; the chain is the verifier's trusted root.
      return { certificate: { rawBytes: new X509Certificate(identity.certificatePem).raw.toString('base64') } };
  }
}

/** A `TransparencyLogEntry` in protojson. */
export function tlogEntryToProtoJson(entry: TlogEntry): Record<string, unknown> {
  const proof = entry.inclusionProof;
  return {
    logIndex: String(entry.logIndex),
    logId: { keyId: entry.logId.toString('base64') },
    kindVersion: { kind: entry.kind, version: '0.0.1' },
    integratedTime: String(entry.integratedTime),
    inclusionPromise: { signedEntryTimestamp: entry.signedEntryTimestamp.toString('base64') },
    ...(proof === undefined
      ? {}
      : {
          inclusionProof: {
            logIndex: String(proof.logIndex),
            rootHash: proof.rootHash.toString('base64'),
            treeSize: String(proof.treeSize),
            hashes: proof.hashes.map((hash) => hash.toString('base64')),
            checkpoint: { envelope: proof.checkpoint },
          },
        }),
    canonicalizedBody: entry.canonicalizedBody.toString('base64'),
  };
}

/**
 * The bundle's bytes: `mediaType` v0.3, `verificationMaterial` (the key hint or the leaf
 * certificate, the tlog entry and the RFC 3161 timestamp — a DER `TimeStampResp` over the DSSE
 * signature — when there are), `dsseEnvelope` with its one signature (`keyid` only when the
 * envelope has one; cosign v3 leaves it out).
 */
export function sigstoreBundleJson(options: { readonly envelope: DsseEnvelope; readonly identity: SignerIdentity; readonly tlogEntry?: TlogEntry; readonly rfc3161Timestamp?: Buffer }): Buffer {
  const { envelope, tlogEntry, rfc3161Timestamp } = options;
  return Buffer.from(
    JSON.stringify({
      mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial: {
        ...verificationContent(options.identity),
        ...(tlogEntry === undefined ? {} : { tlogEntries: [tlogEntryToProtoJson(tlogEntry)] }),
        ...(rfc3161Timestamp === undefined ? {} : { timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: rfc3161Timestamp.toString('base64') }] } }),
      },
      dsseEnvelope: {
        payload: envelope.payload.toString('base64'),
        payloadType: envelope.payloadType,
        signatures: envelope.signatures.map((signature) => ({
          sig: signature.sig.toString('base64'),
          ...(signature.keyid === undefined || signature.keyid === '' ? {} : { keyid: signature.keyid }),
        })),
      },
    }),
  );
}

/** What a bundle signs. */
export type BundleContent =
  | { readonly kind: 'dsse'; readonly envelope: DsseEnvelope }
  /** A signature over an artifact whose SHA-256 is `digest`. */
  | { readonly kind: 'message-signature'; readonly digest: Buffer; readonly signature: Buffer };

export interface SigstoreBundle {
  /** `0.1`, `0.2` or `0.3`. */
  readonly version: string;
  /** The signing certificate (DER), when keyless; absent for a key (its hint is not trusted). */
  readonly certificate?: Buffer;
  readonly tlogEntries: readonly TlogEntry[];
  /** `timestampVerificationData.rfc3161Timestamps[].signedTimestamp`: DER `TimeStampResp`s over the signature. */
  readonly timestamps: readonly Buffer[];
  readonly content: BundleContent;
}

function bad(what: string, detail: string): SignatureFormatError {
  return new SignatureFormatError({ problem: 'not-object', what, detail: `the Sigstore bundle ${detail}` });
}

function certificateOf(material: Record<string, unknown>, what: string): Buffer | undefined {
  const single = material['certificate'];
  const chain = material['x509CertificateChain'];
  const first = isObject(chain) && Array.isArray(chain['certificates']) ? chain['certificates'][0] : undefined;
  const holder = isObject(single) ? single : isObject(first) ? first : undefined;
  if (holder === undefined) return undefined;
  const der = typeof holder['rawBytes'] === 'string' ? decodeBase64(holder['rawBytes']) : undefined;
  if (der === undefined || der.length === 0) throw bad(what, 'certificate has no base64 rawBytes');
  return der;
}

function contentOf(root: Record<string, unknown>, what: string): BundleContent {
  const envelope = root['dsseEnvelope'];
  if (isObject(envelope)) return { kind: 'dsse', envelope: parseEnvelope({ bytes: Buffer.from(JSON.stringify(envelope)), what }) };
  const message = root['messageSignature'];
  if (isObject(message)) {
    const digest = message['messageDigest'];
    const value = isObject(digest) && digest['algorithm'] === 'SHA2_256' && typeof digest['digest'] === 'string' ? decodeBase64(digest['digest']) : undefined;
    const signature = typeof message['signature'] === 'string' ? decodeBase64(message['signature']) : undefined;
    if (value === undefined || value.length !== 32 || signature === undefined || signature.length === 0) throw bad(what, 'messageSignature needs a SHA2_256 messageDigest and a base64 signature');
    return { kind: 'message-signature', digest: value, signature };
  }
  throw bad(what, 'has neither dsseEnvelope nor messageSignature');
}

function timestampsOf(material: Record<string, unknown>, what: string): Buffer[] {
  const data = material['timestampVerificationData'];
  if (data === undefined) return [];
  const list = isObject(data) ? (data['rfc3161Timestamps'] ?? []) : undefined;
  if (!Array.isArray(list)) throw bad(what, 'timestampVerificationData.rfc3161Timestamps is not a list');
  return list.map((entry: unknown) => {
    const der = isObject(entry) && typeof entry['signedTimestamp'] === 'string' ? decodeBase64(entry['signedTimestamp']) : undefined;
    if (der === undefined || der.length === 0) throw bad(what, 'RFC 3161 timestamp has no base64 signedTimestamp');
    return der;
  });
}

/** Parses a bundle's JSON bytes. */
export function parseSigstoreBundle(options: { readonly bytes: Buffer; readonly what: string }): SigstoreBundle {
  const { what } = options;
  const root = parseJsonObject({ bytes: options.bytes, what, kind: 'Sigstore bundle' });
  const mediaType = root['mediaType'];
  const version = typeof mediaType === 'string' ? sigstoreBundleVersion(mediaType) : undefined;
  if (version === undefined) throw bad(what, `mediaType ${JSON.stringify(mediaType ?? null)} is not a Sigstore bundle type`);
  const material = root['verificationMaterial'];
  if (!isObject(material)) throw bad(what, 'has no verificationMaterial');
  const entries = material['tlogEntries'] ?? [];
  if (!Array.isArray(entries)) throw bad(what, 'tlogEntries is not a list');
  const certificate = certificateOf(material, what);
  return {
    version,
    ...(certificate === undefined ? {} : { certificate }),
    tlogEntries: entries.map((value: unknown) => tlogEntryFromProtoJson({ value, what })),
    timestamps: timestampsOf(material, what),
    content: contentOf(root, what),
  };
}
