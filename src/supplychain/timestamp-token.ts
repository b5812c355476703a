/**
 * RFC 3161 time-stamp responses read with der.ts, pure: the `TimeStampResp` status, the token
 * (a CMS `SignedData`, RFC 5652) and its `TSTInfo` (what was stamped, when, the nonce), and the
 * signer info a verifier checks. Anything malformed is a `SignatureFormatError`
 * (`timestamp-malformed`) naming the input.
 */
import { children, oidText, readTlv, type Tlv } from './der.js';
import { SignatureFormatError } from './format-error.js';

export const OID = {
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentTypeAttribute: '1.2.840.113549.1.9.3',
  messageDigestAttribute: '1.2.840.113549.1.9.4',
} as const;

/** The node hash name of a digest algorithm OID, when it is one caisson knows. */
export function hashName(oid: string): 'sha256' | 'sha384' | 'sha512' | undefined {
  switch (oid) {
    case OID.sha256:
      return 'sha256';
    case OID.sha384:
      return 'sha384';
    case OID.sha512:
      return 'sha512';
    default:
      return undefined;
  }
}

/** One CMS SignerInfo, as far as verification needs it. */
export interface TimestampSignerInfo {
  readonly digestAlgorithm: string;
  /** The `[0] IMPLICIT` signed attributes element as encoded (its tag is 0xa0; what was signed is it with tag 0x31). */
  readonly signedAttributes?: Buffer;
  readonly signatureAlgorithm: string;
  readonly signature: Buffer;
}

/** A time-stamp token: what the authority said, and what proves it. */
export interface TimestampToken {
  readonly genTime: Date;
  readonly policy: string;
  readonly imprint: { readonly hashAlgorithm: string; readonly digest: Buffer };
  /** The nonce's big-endian magnitude (leading zero octets dropped), when the authority echoed one. */
  readonly nonce?: Buffer;
  /** The encapsulated content: the DER `TSTInfo` the signer signed. */
  readonly tstInfo: Buffer;
  /** DER certificates the token carries (the authority's, when the request asked for them). */
  readonly certificates: readonly Buffer[];
  readonly signerInfos: readonly TimestampSignerInfo[];
}

function malformed(what: string, detail: string): SignatureFormatError {
  return new SignatureFormatError({ problem: 'timestamp-malformed', what, detail: `the RFC 3161 timestamp ${detail}` });
}

function need(element: Tlv | undefined, tag: number, what: string, name: string): Tlv {
  if (element?.tag !== tag) throw malformed(what, `has no ${name}`);
  return element;
}

/** `YYYYMMDDhhmmss[.fff]Z`. */
function generalizedTime(value: Buffer, what: string): Date {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(value.toString('latin1'));
  if (match === null) throw malformed(what, 'genTime is not a UTC GeneralizedTime');
  const [, year, month, day, hour, minute, second, fraction] = match;
  return new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}${(fraction ?? '').slice(0, 4)}Z`);
}

function algorithm(element: Tlv | undefined, what: string, name: string): string {
  const oid = children(need(element, 0x30, what, name).value)[0];
  return oidText(need(oid, 0x06, what, `${name} algorithm`).value);
}

function magnitude(integer: Buffer): Buffer {
  let start = 0;
  while (start < integer.length - 1 && integer[start] === 0) start += 1;
  return integer.subarray(start);
}

function parseTstInfo(der: Buffer, what: string): Pick<TimestampToken, 'genTime' | 'policy' | 'imprint' | 'nonce'> {
  const info = readTlv(der, 0);
  if (info?.tag !== 0x30 || info.end !== der.length) throw malformed(what, 'TSTInfo is not a SEQUENCE');
  const [, policy, imprint, , genTime, ...rest] = children(info.value);
  const [hashAlgorithm, hashed] = children(need(imprint, 0x30, what, 'messageImprint').value);
  const nonce = rest.find((element) => element.tag === 0x02);
  return {
    policy: oidText(need(policy, 0x06, what, 'policy').value),
    imprint: { hashAlgorithm: algorithm(hashAlgorithm, what, 'messageImprint hash'), digest: Buffer.from(need(hashed, 0x04, what, 'hashedMessage').value) },
    genTime: generalizedTime(need(genTime, 0x18, what, 'genTime').value, what),
    ...(nonce === undefined ? {} : { nonce: Buffer.from(magnitude(nonce.value)) }),
  };
}

function parseSignerInfo(element: Tlv, what: string): TimestampSignerInfo {
  const [, , digestAlgorithm, ...rest] = children(need(element, 0x30, what, 'SignerInfo').value);
  const attributes = rest[0]?.tag === 0xa0 ? rest.shift() : undefined;
  const [signatureAlgorithm, signature] = rest;
  return {
    digestAlgorithm: algorithm(digestAlgorithm, what, 'SignerInfo digest'),
    ...(attributes === undefined ? {} : { signedAttributes: Buffer.from(attributes.raw) }),
    signatureAlgorithm: algorithm(signatureAlgorithm, what, 'SignerInfo signature'),
    signature: Buffer.from(need(signature, 0x04, what, 'SignerInfo signature').value),
  };
}

/** Reads a DER `TimeStampToken` (a CMS ContentInfo holding SignedData over a TSTInfo). */
export function parseTimestampToken(options: { readonly bytes: Buffer; readonly what: string }): TimestampToken {
  const { bytes, what } = options;
  const info = readTlv(bytes, 0);
  if (info?.tag !== 0x30 || info.end !== bytes.length) throw malformed(what, 'token is not a DER SEQUENCE');
  const [contentType, content] = children(info.value);
  if (oidText(need(contentType, 0x06, what, 'content type').value) !== OID.signedData) throw malformed(what, 'token is not CMS SignedData');
  const signedData = need(children(need(content, 0xa0, what, 'SignedData').value)[0], 0x30, what, 'SignedData');
  const [, , encapsulated, ...rest] = children(signedData.value);
  const [eContentType, eContent] = children(need(encapsulated, 0x30, what, 'encapContentInfo').value);
  if (oidText(need(eContentType, 0x06, what, 'eContentType').value) !== OID.tstInfo) throw malformed(what, 'token does not hold a TSTInfo');
  const tstInfo = Buffer.from(need(children(need(eContent, 0xa0, what, 'eContent').value)[0], 0x04, what, 'eContent').value);
  const certificates = rest.find((element) => element.tag === 0xa0);
  const signerInfos = rest.at(-1);
  return {
    ...parseTstInfo(tstInfo, what),
    tstInfo,
    certificates: certificates === undefined ? [] : children(certificates.value).filter((element) => element.tag === 0x30).map((element) => Buffer.from(element.raw)),
    signerInfos: children(need(signerInfos, 0x31, what, 'signerInfos').value).map((element) => parseSignerInfo(element, what)),
  };
}

/** A `TimeStampResp`: granted (status 0 or 1) with its token, or refused with the authority's status and text. */
export type TimestampResponse =
  | { readonly kind: 'granted'; readonly token: Buffer; readonly parsed: TimestampToken }
  | { readonly kind: 'refused'; readonly status: number; readonly text: string };

/** Reads a DER `TimeStampResp`; a granted one must hold a well-formed token. */
export function parseTimestampResponse(options: { readonly bytes: Buffer; readonly what: string }): TimestampResponse {
  const { bytes, what } = options;
  const response = readTlv(bytes, 0);
  if (response?.tag !== 0x30 || response.end !== bytes.length) throw malformed(what, 'response is not a DER SEQUENCE');
  const [statusInfo, token] = children(response.value);
  const [status, text] = children(need(statusInfo, 0x30, what, 'status').value);
  const code = need(status, 0x02, what, 'status').value;
  const value = code.length === 0 || code.length > 4 ? -1 : code.readIntBE(0, code.length);
  if (value !== 0 && value !== 1) {
    return { kind: 'refused', status: value, text: text?.tag === 0x30 ? children(text.value).map((line) => line.value.toString('utf8')).join(' ') : '' };
  }
  if (token === undefined) throw malformed(what, 'response grants a timestamp but holds no token');
  const tokenBytes = Buffer.from(token.raw);
  return { kind: 'granted', token: tokenBytes, parsed: parseTimestampToken({ bytes: tokenBytes, what }) };
}
