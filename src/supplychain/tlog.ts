/**
 * A Rekor transparency-log entry as signing gets it back (from Rekor's response or a Sigstore
 * bundle's `tlogEntries[]`, protobuf-specs sigstore_rekor.proto), in one shape for the legacy
 * bundle annotation and for bundles.
 */
import { SignatureFormatError } from './format-error.js';
import { decodeBase64, isObject } from './wire.js';

export interface InclusionProof {
  readonly logIndex: number;
  readonly rootHash: Buffer;
  readonly treeSize: number;
  readonly hashes: readonly Buffer[];
  /** The signed checkpoint note. */
  readonly checkpoint: string;
}

export interface TlogEntry {
  readonly kind: 'hashedrekord' | 'dsse';
  readonly logIndex: number;
  /** Seconds since the epoch. */
  readonly integratedTime: number;
  /** sha256 of the log's DER public key. */
  readonly logId: Buffer;
  /** The entry body Rekor canonicalized (JSON bytes, not base64). */
  readonly canonicalizedBody: Buffer;
  /** Rekor's signature over the entry (the inclusion promise). */
  readonly signedEntryTimestamp: Buffer;
  readonly inclusionProof?: InclusionProof;
}

function bad(what: string, detail: string): SignatureFormatError {
  return new SignatureFormatError({ problem: 'rekor-bundle-payload', what, detail });
}

function int64(value: unknown, what: string, field: string): number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^(0|[1-9][0-9]*)$/.test(text) || !Number.isSafeInteger(Number(text))) throw bad(what, `${field} is not a non-negative integer`);
  return Number(text);
}

function bytes(value: unknown, what: string, field: string): Buffer {
  const decoded = typeof value === 'string' ? decodeBase64(value) : undefined;
  if (decoded === undefined) throw bad(what, `${field} is not base64`);
  return decoded;
}

/**
 * A `TransparencyLogEntry` in protojson (int64 as strings, bytes as base64), as `@sigstore/sign`
 * and bundles carry it; the entry needs its inclusion promise (SET).
 */
export function tlogEntryFromProtoJson(options: { readonly value: unknown; readonly what: string }): TlogEntry {
  const { value, what } = options;
  if (!isObject(value)) throw bad(what, 'the tlog entry is not an object');
  const kindVersion = value['kindVersion'];
  const kind = isObject(kindVersion) ? kindVersion['kind'] : undefined;
  if (kind !== 'hashedrekord' && kind !== 'dsse') throw bad(what, `the tlog entry kind ${JSON.stringify(kind ?? null)} is neither hashedrekord nor dsse`);
  const logId = value['logId'];
  const promise = value['inclusionPromise'];
  if (!isObject(promise)) throw new SignatureFormatError({ problem: 'rekor-bundle-set', what, detail: 'the tlog entry has no inclusionPromise' });
  const proof = value['inclusionProof'];
  let inclusionProof: InclusionProof | undefined;
  if (isObject(proof)) {
    const hashes = proof['hashes'] ?? [];
    const checkpoint = proof['checkpoint'];
    const envelope = isObject(checkpoint) ? checkpoint['envelope'] : undefined;
    if (!Array.isArray(hashes) || typeof envelope !== 'string') throw bad(what, 'inclusionProof has no hashes list or checkpoint');
    inclusionProof = {
      logIndex: int64(proof['logIndex'], what, 'inclusionProof.logIndex'),
      rootHash: bytes(proof['rootHash'], what, 'inclusionProof.rootHash'),
      treeSize: int64(proof['treeSize'], what, 'inclusionProof.treeSize'),
      hashes: hashes.map((hash: unknown, index) => bytes(hash, what, `inclusionProof.hashes[${index}]`)),
      checkpoint: envelope,
    };
  }
  return {
    kind,
    logIndex: int64(value['logIndex'], what, 'logIndex'),
    integratedTime: int64(value['integratedTime'], what, 'integratedTime'),
    logId: bytes(isObject(logId) ? logId['keyId'] : undefined, what, 'logId.keyId'),
    canonicalizedBody: bytes(value['canonicalizedBody'], what, 'canonicalizedBody'),
    signedEntryTimestamp: bytes(promise['signedEntryTimestamp'], what, 'inclusionPromise.signedEntryTimestamp'),
    ...(inclusionProof === undefined ? {} : { inclusionProof }),
  };
}
