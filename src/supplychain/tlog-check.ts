/**
 * Checking a transparency-log entry offline against the signature it is said to log (cosign
 * pkg/cosign/verify.go `VerifyBundle`, `VerifySET`; shared/specs/supply-chain.md §1 "Rekor
 * bundle annotation", §2 "Rekor for .att"): the SET verifies with the trusted Rekor key whose
 * log ID the entry names (valid at the integrated time), and the entry body holds this
 * signature, this signer's key or certificate, and this content's sha256.
 *
 * Bodies are read in Rekor's canonical forms — hashedrekord v0.0.1 `spec.data.hash` +
 * `spec.signature`; dsse v0.0.1 `spec.envelopeHash`/`payloadHash`/`signatures[]` — and, for a
 * dsse entry, also in the proposed form `spec.proposedContent` (what a log that stores the request
 * as sent, like @sigstore/mock's, signs): its envelope string is hashed and read here.
 */
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { parseEnvelope } from './dsse.js';
import { verifySet } from './rekor.js';
import type { CheckedSigner } from './signer-check.js';
import type { TlogEntry } from './tlog.js';
import { isWithin, type VerificationTrust } from './trust.js';
import { Rejected } from './verify-result.js';
import { decodeBase64, isObject } from './wire.js';

/** What the entry must record. */
export type TlogExpectation =
  /** A `.sig` layer: sha256 of the payload blob and the signature over it. */
  | { readonly kind: 'hashedrekord'; readonly contentSha256: string; readonly signature: Buffer }
  /**
   * A DSSE envelope: a legacy `.att` layer is stored byte for byte as logged, so the envelope
   * hash is checked; a bundle's envelope is re-serialized, so its payload hash is.
   */
  | { readonly kind: 'dsse'; readonly envelopeSha256?: string; readonly payloadSha256?: string; readonly signature: Buffer };

interface DsseBody {
  readonly envelopeSha256?: string;
  readonly payloadSha256?: string;
  readonly signatures: readonly { readonly signature: Buffer; readonly verifier: string }[];
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function hashValue(value: unknown): string | undefined {
  return isObject(value) && value['algorithm'] === 'sha256' && typeof value['value'] === 'string' ? value['value'] : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function dsseBody(spec: Record<string, unknown>): DsseBody | undefined {
  const proposed = spec['proposedContent'];
  if (isObject(proposed)) {
    const envelopeText = text(proposed['envelope']);
    const verifiers = proposed['verifiers'];
    if (envelopeText === undefined || !Array.isArray(verifiers) || typeof verifiers[0] !== 'string') return undefined;
    const envelope = parseEnvelope({ bytes: Buffer.from(envelopeText, 'utf8'), what: 'the logged envelope' });
    return {
      envelopeSha256: sha256Hex(Buffer.from(envelopeText, 'utf8')),
      payloadSha256: sha256Hex(envelope.payload),
      signatures: envelope.signatures.map((entry) => ({ signature: entry.sig, verifier: verifiers[0] as string })),
    };
  }
  const signatures = spec['signatures'];
  if (!Array.isArray(signatures)) return undefined;
  const envelopeSha256 = hashValue(spec['envelopeHash']);
  const payloadSha256 = hashValue(spec['payloadHash']);
  return {
    ...(envelopeSha256 === undefined ? {} : { envelopeSha256 }),
    ...(payloadSha256 === undefined ? {} : { payloadSha256 }),
    signatures: signatures.flatMap((entry: unknown) => {
      const signature = isObject(entry) ? decodeBase64(text(entry['signature']) ?? '') : undefined;
      const verifier = isObject(entry) ? text(entry['verifier']) : undefined;
      return signature === undefined || verifier === undefined ? [] : [{ signature, verifier }];
    }),
  };
}

/** Whether a body's verifier (base64 of a PEM key or certificate) is the signer's key or certificate. */
function sameVerifier(verifierBase64: string, checked: CheckedSigner): boolean {
  const pem = decodeBase64(verifierBase64)?.toString('utf8');
  if (pem === undefined) return false;
  try {
    if (pem.includes('CERTIFICATE')) {
      const certificate = new X509Certificate(pem);
      return checked.certificate !== undefined && certificate.raw.equals(checked.certificate.leaf.raw);
    }
    if (checked.certificate !== undefined) return false;
    const der = (key: KeyObject): Buffer => key.export({ format: 'der', type: 'spki' });
    return der(createPublicKey(pem)).equals(der(checked.publicKey));
  } catch {
    return false;
  }
}

function bodyOf(entry: TlogEntry): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(entry.canonicalizedBody.toString('utf8'));
  } catch {
    throw new Rejected('tlog-body', 'the tlog entry body is not JSON');
  }
  if (!isObject(body) || !isObject(body['spec'])) throw new Rejected('tlog-body', 'the tlog entry body has no spec');
  return body;
}

function checkBody(options: { readonly entry: TlogEntry; readonly expect: TlogExpectation; readonly checked: CheckedSigner }): void {
  const { expect, checked } = options;
  const body = bodyOf(options.entry);
  const spec = body['spec'] as Record<string, unknown>;
  if (body['kind'] !== expect.kind) throw new Rejected('tlog-body', `the tlog entry is a ${String(body['kind'])} entry, not ${expect.kind}`);
  switch (expect.kind) {
    case 'hashedrekord': {
      const data = spec['data'];
      const signature = spec['signature'];
      if (hashValue(isObject(data) ? data['hash'] : undefined) !== expect.contentSha256) throw new Rejected('tlog-body', 'the tlog entry logs another payload hash');
      const content = isObject(signature) ? decodeBase64(text(signature['content']) ?? '') : undefined;
      if (content === undefined || !content.equals(expect.signature)) throw new Rejected('tlog-body', 'the tlog entry logs another signature');
      const key = isObject(signature) && isObject(signature['publicKey']) ? text(signature['publicKey']['content']) : undefined;
      if (key === undefined || !sameVerifier(key, checked)) throw new Rejected('tlog-body', 'the tlog entry logs another key or certificate');
      return;
    }
    case 'dsse': {
      let logged: DsseBody | undefined;
      try {
        logged = dsseBody(spec);
      } catch {
        logged = undefined;
      }
      if (logged === undefined) throw new Rejected('tlog-body', 'the tlog entry is not a dsse v0.0.1 body');
      if (expect.envelopeSha256 !== undefined && logged.envelopeSha256 !== expect.envelopeSha256) throw new Rejected('tlog-body', 'the tlog entry logs another envelope hash');
      if (expect.payloadSha256 !== undefined && logged.payloadSha256 !== expect.payloadSha256) throw new Rejected('tlog-body', 'the tlog entry logs another payload hash');
      const ours = logged.signatures.filter((entry) => entry.signature.equals(expect.signature));
      if (ours.length === 0) throw new Rejected('tlog-body', 'the tlog entry logs another signature');
      if (!ours.some((entry) => sameVerifier(entry.verifier, checked))) throw new Rejected('tlog-body', 'the tlog entry logs another key or certificate');
      return;
    }
  }
}

/**
 * Checks the entry (if any) for a signature whose signer is already verified: returns the entry
 * when it verifies, undefined when there is none and the trust ignores the tlog; otherwise a
 * `tlog-missing`, `tlog-set` or `tlog-body` rejection.
 */
export function checkTlogEntry(options: { readonly entry: TlogEntry | undefined; readonly trust: VerificationTrust; readonly expect: TlogExpectation; readonly checked: CheckedSigner }): TlogEntry | undefined {
  const { entry, trust } = options;
  if (entry === undefined) {
    if (trust.ignoreTlog) return undefined;
    throw new Rejected('tlog-missing', 'there is no transparency-log entry (Rekor bundle); pass --insecure-ignore-tlog to accept signatures without one');
  }
  const key = trust.rekorKeys.find((candidate) => candidate.logId.equals(entry.logId));
  if (key === undefined) throw new Rejected('tlog-set', `the tlog entry is from log ${entry.logId.toString('hex')}, not a trusted Rekor log`);
  if (!verifySet(entry, key.publicKey.export({ format: 'pem', type: 'spki' }).toString())) throw new Rejected('tlog-set', "the tlog entry's signed entry timestamp (SET) does not verify with the Rekor key");
  if (!isWithin(key.validFor, new Date(entry.integratedTime * 1000))) throw new Rejected('tlog-set', 'the Rekor key was not valid at the entry\'s integrated time');
  checkBody({ entry, expect: options.expect, checked: options.checked });
  return entry;
}
