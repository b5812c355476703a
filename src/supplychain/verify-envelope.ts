/**
 * Checks shared by both layouts: a DSSE envelope carrying an in-toto statement about the image
 * (cosign `verify-attestation`, and cosign v3's bundle signatures), the `-a` annotation claims,
 * and turning a malformed-input error into a rejection.
 */
import { digestHex, type Digest } from '../image/index.js';
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding, type DsseEnvelope } from './dsse.js';
import { isSignatureFormatError } from './format-error.js';
import { checkSigner, type CheckedSigner } from './signer-check.js';
import { parseStatement, type Statement } from './statement.js';
import type { SignerTrust } from './trust.js';
import { Rejected } from './verify-result.js';

/** Runs `parse`, turning a malformed-input error (ERR_SIGNATURE_INVALID) into a `malformed` rejection. */
export function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (isSignatureFormatError(error)) throw new Rejected(error.problem === 'simple-signing-type' ? 'claims' : 'malformed', error.message);
    throw error;
  }
}

/** What an envelope check found: the statement, the signer and the signature that verified. */
export interface CheckedEnvelope {
  readonly statement: Statement;
  readonly checked: CheckedSigner;
  readonly signature: Buffer;
}

/**
 * The envelope's payloadType is in-toto, one of its signatures verifies over the PAE (the key
 * hint is ignored), the statement parses, a subject's sha256 is the image's, and the
 * predicateType is `predicateType`.
 */
export function checkEnvelope(options: {
  readonly envelope: DsseEnvelope;
  readonly trust: SignerTrust;
  readonly certificate?: string | Buffer;
  readonly digest: Digest;
  readonly predicateType: string;
  readonly what: string;
}): CheckedEnvelope {
  const { envelope } = options;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new Rejected('payload-type', `the envelope's payloadType is ${envelope.payloadType}, not ${IN_TOTO_PAYLOAD_TYPE}`);
  const data = preAuthEncoding(envelope);
  let failure: Rejected | undefined;
  let verified: { readonly checked: CheckedSigner; readonly signature: Buffer } | undefined;
  for (const entry of envelope.signatures) {
    try {
      verified = { checked: checkSigner({ trust: options.trust, data, signature: entry.sig, ...(options.certificate === undefined ? {} : { certificate: options.certificate }) }), signature: entry.sig };
      break;
    } catch (error) {
      if (!(error instanceof Rejected)) throw error;
      failure = error;
    }
  }
  if (verified === undefined) throw failure ?? new Rejected('signature', 'the envelope has no signature');
  const statement = parsed(() => parseStatement({ bytes: envelope.payload, what: options.what }));
  const hex = digestHex(options.digest);
  if (!statement.subject.some((subject) => subject.digest['sha256'] === hex)) {
    const named = statement.subject.map((subject) => (subject.digest['sha256'] === undefined ? Object.keys(subject.digest).join('/') : `sha256:${subject.digest['sha256']}`));
    throw new Rejected('subject', `the statement's subject is ${named.join(', ')}, not ${options.digest}`);
  }
  if (statement.predicateType !== options.predicateType) throw new Rejected('predicate-type', `the predicateType is ${statement.predicateType}, not ${options.predicateType}`);
  return { statement, ...verified };
}

/** `wanted` (`-a key=value`) are all in `claims` with equal string values; a `claims` rejection otherwise. */
export function checkAnnotations(options: { readonly wanted: Readonly<Record<string, string>>; readonly claims: Readonly<Record<string, unknown>> | null | undefined }): void {
  const missing = Object.entries(options.wanted).filter(([key, value]) => options.claims?.[key] !== value);
  if (missing.length > 0) throw new Rejected('claims', `the signed annotations lack ${missing.map(([key, value]) => `${key}=${value}`).join(', ')}`);
}
