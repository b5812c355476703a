/**
 * DSSE envelopes (https://github.com/secure-systems-lab/dsse, envelope.md and protocol.md v1.0.2;
 * shared/specs/supply-chain.md §2): the pre-authentication encoding that is signed, envelopes
 * written with stable bytes, and parsed strictly.
 */
import { SignatureFormatError } from './format-error.js';
import type { PayloadSignature, PayloadSigner } from './signer.js';
import { decodeBase64, isObject, parseJsonObject } from './wire.js';

/** The payloadType of in-toto statements; cosign and sigstore-go accept no other for attestations. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** The media type of an `.att` layer, whose blob is an envelope. */
export const DSSE_ENVELOPE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';

export interface DsseSignature {
  /** An unauthenticated hint; cosign v3 omits it. */
  readonly keyid?: string;
  readonly sig: Buffer;
}

export interface DsseEnvelope {
  readonly payloadType: string;
  /** The body bytes (not their base64). */
  readonly payload: Buffer;
  readonly signatures: readonly DsseSignature[];
}

/**
 * PAE: `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in decimal bytes. This is
 * what gets signed, never the base64 of the body.
 */
export function preAuthEncoding(options: { readonly payloadType: string; readonly payload: Buffer }): Buffer {
  const type = Buffer.from(options.payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${options.payload.length} `), options.payload]);
}

/**
 * The envelope's JSON bytes, always the same for the same envelope: keys in the order
 * payload, payloadType, signatures; each signature `{keyid?, sig}`; standard base64.
 */
export function serializeEnvelope(envelope: DsseEnvelope): Buffer {
  return Buffer.from(
    JSON.stringify({
      payload: envelope.payload.toString('base64'),
      payloadType: envelope.payloadType,
      signatures: envelope.signatures.map((signature) => ({
        ...(signature.keyid === undefined ? {} : { keyid: signature.keyid }),
        sig: signature.sig.toString('base64'),
      })),
    }),
  );
}

/**
 * Signs `payload` with one signer: the signature is over the PAE. Returns the envelope and the
 * signer's identity (for the layer annotations and the Rekor entry).
 */
export async function signEnvelope(options: {
  readonly payloadType: string;
  readonly payload: Buffer;
  readonly signer: PayloadSigner;
  readonly keyid?: string;
}): Promise<{ readonly envelope: DsseEnvelope; readonly signature: PayloadSignature }> {
  const signature = await options.signer.sign(preAuthEncoding(options));
  const entry: DsseSignature = options.keyid === undefined ? { sig: signature.signature } : { keyid: options.keyid, sig: signature.signature };
  return { envelope: { payloadType: options.payloadType, payload: options.payload, signatures: [entry] }, signature };
}

/**
 * Parses an envelope: `payload` base64 (standard or URL-safe), a non-empty `payloadType`, at
 * least one signature with a base64 `sig` and an optional string `keyid`. Checking the payload
 * type and the signatures is the verifier's job.
 */
export function parseEnvelope(options: { readonly bytes: Buffer; readonly what: string }): DsseEnvelope {
  const { what } = options;
  const root = parseJsonObject({ bytes: options.bytes, what, kind: 'DSSE envelope' });
  const payloadText = root['payload'];
  const payload = typeof payloadText === 'string' ? decodeBase64(payloadText) : undefined;
  if (payload === undefined) throw new SignatureFormatError({ problem: 'dsse-payload', what, detail: 'the envelope\'s "payload" is missing or not base64' });
  const payloadType = root['payloadType'];
  if (typeof payloadType !== 'string' || payloadType === '') {
    throw new SignatureFormatError({ problem: 'dsse-payload-type', what, detail: 'the envelope has no "payloadType"' });
  }
  const list = root['signatures'];
  if (!Array.isArray(list) || list.length === 0) {
    throw new SignatureFormatError({ problem: 'dsse-signatures', what, detail: 'the envelope has no signatures' });
  }
  const signatures = list.map((entry: unknown, index): DsseSignature => {
    const sig = isObject(entry) && typeof entry['sig'] === 'string' ? decodeBase64(entry['sig']) : undefined;
    const keyid = isObject(entry) ? entry['keyid'] : undefined;
    if (sig === undefined || sig.length === 0 || (keyid !== undefined && typeof keyid !== 'string')) {
      throw new SignatureFormatError({ problem: 'dsse-signature', what, detail: `signatures[${index}] has no base64 "sig" or a "keyid" that is not a string` });
    }
    return keyid === undefined || keyid === '' ? { sig } : { keyid, sig };
  });
  return { payloadType, payload, signatures };
}
