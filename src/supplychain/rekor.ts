/**
 * The transparency log (Rekor v1, `POST /api/v1/log/entries`): a `hashedrekord` v0.0.1 entry for
 * a `.sig` (the payload's sha256, the signature, the key or certificate PEM) and a `dsse` v0.0.1
 * entry for an `.att` (the envelope JSON string exactly as stored, so Rekor's envelopeHash equals
 * the layer digest), answered as a `TlogEntry`; and the offline check of an entry's signed entry
 * timestamp (SET) against the log's public key. See shared/specs/supply-chain.md §1 and §2.
 *
 * Not @sigstore/sign's RekorWitness: it re-serialises the envelope (so the string Rekor hashes
 * would not be our layer's bytes) and answers in protobuf shapes; this is one POST on undici.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { CaissonError } from '../errors.js';
import { rekorBundleOf, rekorSetPayload } from './cosign-annotations.js';
import { dsseRekorRequest, hashedRekordRequest } from './rekor-entries.js';
import { postJson, refusal } from './sigstore-http.js';
import type { SignerIdentity } from './signer.js';
import type { TlogEntry } from './tlog.js';

/** The public-good Rekor instance. */
export const DEFAULT_REKOR_URL = 'https://rekor.sigstore.dev';

/** What to log: a `.sig` payload and its signature, or an `.att` envelope (its signature is inside). */
export type TlogProposal =
  | { readonly kind: 'hashedrekord'; readonly payload: Buffer; readonly signature: Buffer; readonly identity: SignerIdentity }
  | { readonly kind: 'dsse'; readonly envelope: string; readonly identity: SignerIdentity };

/** The request body (rekor `pkg/types/{hashedrekord,dsse}/v0.0.1`). */
function proposedEntry(proposal: TlogProposal): Buffer {
  switch (proposal.kind) {
    case 'hashedrekord':
      return hashedRekordRequest({ payload: proposal.payload, signature: { signature: proposal.signature, identity: proposal.identity } });
    case 'dsse':
      return dsseRekorRequest({ envelope: Buffer.from(proposal.envelope, 'utf8'), identity: proposal.identity });
  }
}

export interface RekorClientOptions {
  /** Default https://rekor.sigstore.dev. */
  readonly rekorURL?: string;
  /** The log's public key (PEM): when given, every answer's SET must verify with it. */
  readonly publicKeyPem?: string;
  /** undici dispatcher (a custom CA, a proxy); the global one by default. */
  readonly dispatcher?: Dispatcher;
}

/** A Rekor v1 client that adds entries. */
export class RekorClient {
  readonly #options: RekorClientOptions;

  constructor(options: RekorClientOptions = {}) {
    this.#options = options;
  }

  get rekorURL(): string {
    return (this.#options.rekorURL ?? DEFAULT_REKOR_URL).replace(/\/+$/, '');
  }

  /** Adds the entry; ERR_SIGNING when Rekor cannot be reached, refuses it, or answers a malformed or unsigned entry. */
  async upload(proposal: TlogProposal): Promise<TlogEntry> {
    const url = `${this.rekorURL}/api/v1/log/entries`;
    const response = await postJson({
      service: 'Rekor',
      url,
      body: proposedEntry(proposal),
      ...(this.#options.dispatcher === undefined ? {} : { dispatcher: this.#options.dispatcher }),
    });
    if (response.status !== 201 && response.status !== 200) {
      throw refusal({ service: 'Rekor', url, response, action: `add a ${proposal.kind} entry`, hint: response.status === 409 ? 'the log already has this entry' : 'check the Rekor URL and the entry' });
    }
    const entry = parseLogEntry(response.text, proposal.kind);
    if (typeof entry === 'string') throw new CaissonError({ code: 'ERR_SIGNING', message: `Rekor at ${url} answered ${entry}` });
    if (this.#options.publicKeyPem !== undefined && !verifySet(entry, this.#options.publicKeyPem)) {
      throw new CaissonError({ code: 'ERR_SIGNING', message: `Rekor at ${url} answered an entry whose signed entry timestamp does not verify with the log's public key`, hint: 'is the Rekor public key the one of this log?' });
    }
    return entry;
  }
}

/**
 * Whether the entry's SET is the log's ECDSA signature over SHA-256 of the RFC 8785 (JCS) form of
 * `{body, integratedTime, logID, logIndex}` (cosign `pkg/cosign/verify.go` VerifySET,
 * `pkg/cosign/bundle/rekor.go` RekorPayload), and its logId is the sha256 of that key.
 */
export function verifySet(entry: TlogEntry, rekorPublicKeyPem: string): boolean {
  let key;
  try {
    key = createPublicKey(rekorPublicKeyPem);
  } catch {
    return false;
  }
  const logId = createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest();
  if (!logId.equals(entry.logId)) return false;
  try {
    return verify('sha256', rekorSetPayload(rekorBundleOf(entry).payload), key, entry.signedEntryTimestamp);
  } catch {
    return false;
  }
}

/** Rekor's answer `{<uuid>: LogEntryAnon}` as a TlogEntry, or why it is not one. */
function parseLogEntry(text: string, kind: TlogEntry['kind']): TlogEntry | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'something that is not JSON';
  }
  const values = isObject(parsed) ? Object.values(parsed) : [];
  const anon = values.length === 1 ? values[0] : undefined;
  if (!isObject(anon)) return 'no log entry';
  const { body, integratedTime, logID, logIndex, verification } = anon;
  if (typeof body !== 'string' || !isCount(integratedTime) || typeof logID !== 'string' || !/^[0-9a-f]{64}$/.test(logID) || !isCount(logIndex)) {
    return 'an entry without body, integratedTime, logID or logIndex';
  }
  if (!isObject(verification) || typeof verification.signedEntryTimestamp !== 'string') return 'an entry without a signed entry timestamp';
  const canonicalizedBody = Buffer.from(body, 'base64');
  let bodyKind: unknown;
  try {
    bodyKind = (JSON.parse(canonicalizedBody.toString('utf8')) as { kind?: unknown }).kind;
  } catch {
    bodyKind = undefined;
  }
  if (bodyKind !== kind) return `an entry of kind ${String(bodyKind)}, not ${kind}`;
  const proof = verification.inclusionProof;
  let inclusionProof: TlogEntry['inclusionProof'];
  if (proof !== undefined) {
    if (!isObject(proof) || !isCount(proof.logIndex) || !isCount(proof.treeSize) || typeof proof.rootHash !== 'string' || typeof proof.checkpoint !== 'string' || !Array.isArray(proof.hashes) || !proof.hashes.every((hash) => typeof hash === 'string')) {
      return 'a malformed inclusion proof';
    }
    inclusionProof = {
      logIndex: proof.logIndex,
      rootHash: Buffer.from(proof.rootHash, 'hex'),
      treeSize: proof.treeSize,
      hashes: proof.hashes.map((hash: string) => Buffer.from(hash, 'hex')),
      checkpoint: proof.checkpoint,
    };
  }
  return {
    kind,
    logIndex,
    integratedTime,
    logId: Buffer.from(logID, 'hex'),
    canonicalizedBody,
    signedEntryTimestamp: Buffer.from(verification.signedEntryTimestamp, 'base64'),
    ...(inclusionProof === undefined ? {} : { inclusionProof }),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
