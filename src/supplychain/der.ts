/**
 * Just enough DER (ITU-T X.690) to read what node's `X509Certificate` does not expose: a
 * certificate's extensions by OID, its subjectAltName entries, and Fulcio's OIDC-issuer
 * extensions (1.3.6.1.4.1.57264.1.8, UTF8String; the legacy 1.3.6.1.4.1.57264.1.1, raw bytes);
 * and the reading and writing primitives the RFC 3161 timestamp client (tsa.ts) builds on.
 * Anything malformed reads as absent; the certificate itself was parsed by node first.
 */

/** One DER element. */
export interface Tlv {
  readonly tag: number;
  /** The contents, without tag and length. */
  readonly value: Buffer;
  /** The whole element: tag, length and contents. */
  readonly raw: Buffer;
  /** Where the next element starts. */
  readonly end: number;
}

/** The element at `offset`; undefined when it is malformed or runs past the end. */
export function readTlv(bytes: Buffer, offset: number): Tlv | undefined {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined || (tag & 0x1f) === 0x1f) return undefined;
  let length = first;
  let start = offset + 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4 || start + count > bytes.length) return undefined;
    length = 0;
    for (let index = 0; index < count; index += 1) length = length * 256 + (bytes[start + index] as number);
    start += count;
  }
  if (start + length > bytes.length) return undefined;
  return { tag, value: bytes.subarray(start, start + length), raw: bytes.subarray(offset, start + length), end: start + length };
}

/** The elements inside a constructed element's contents, in order (stopping at the first malformed one). */
export function children(bytes: Buffer): Tlv[] {
  const list: Tlv[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const element = readTlv(bytes, offset);
    if (element === undefined) return list;
    list.push(element);
    offset = element.end;
  }
  return list;
}

/** The dotted form of an OBJECT IDENTIFIER's contents. */
export function oidText(value: Buffer): string {
  const arcs: number[] = [];
  let current = 0;
  for (const byte of value) {
    current = current * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(current);
      current = 0;
    }
  }
  const [first = 0, ...rest] = arcs;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...rest].join('.');
}

/** An element: `tag`, the DER length, then `contents`. */
export function derElement(tag: number, ...contents: readonly Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const length = body.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), body]);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.concat([Buffer.from([tag, 0x80 | octets.length, ...octets]), body]);
}

/** A SEQUENCE of already-encoded elements. */
export function derSequence(...elements: readonly Buffer[]): Buffer {
  return derElement(0x30, ...elements);
}

/** An OBJECT IDENTIFIER from its dotted form. */
export function derOid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const octets: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const base128: number[] = [arc % 128];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) base128.unshift(0x80 | (value % 128));
    octets.push(...base128);
  }
  return derElement(0x06, Buffer.from(octets));
}

/** A non-negative INTEGER from its big-endian magnitude (leading zeros dropped, a 0x00 added when the high bit is set). */
export function derUnsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start += 1;
  const trimmed = magnitude.subarray(start);
  return derElement(0x02, ((trimmed[0] ?? 0) & 0x80) === 0 && trimmed.length > 0 ? trimmed : Buffer.concat([Buffer.from([0]), trimmed]));
}

/** The `extnValue` (OCTET STRING contents) of each extension of a DER certificate, by OID. */
export function certificateExtensions(der: Buffer): ReadonlyMap<string, Buffer> {
  const found = new Map<string, Buffer>();
  const certificate = readTlv(der, 0);
  const tbs = certificate === undefined ? undefined : children(certificate.value)[0];
  if (tbs === undefined) return found;
  // Extensions are the TBSCertificate's [3] EXPLICIT element, a SEQUENCE of Extension.
  const explicit = children(tbs.value).find((element) => element.tag === 0xa3);
  const list = explicit === undefined ? undefined : children(explicit.value)[0];
  for (const extension of list === undefined ? [] : children(list.value)) {
    const parts = children(extension.value);
    const oid = parts[0];
    const value = parts.at(-1);
    if (oid?.tag === 0x06 && value?.tag === 0x04) found.set(oidText(oid.value), value.value);
  }
  return found;
}

const SUBJECT_ALT_NAME = '2.5.29.17';
const FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';

/** The certificate's rfc822Name (email) and uniformResourceIdentifier SAN entries, in order. */
export function subjectAltNames(der: Buffer): readonly string[] {
  const value = certificateExtensions(der).get(SUBJECT_ALT_NAME);
  const names = value === undefined ? undefined : readTlv(value, 0);
  if (names === undefined) return [];
  // GeneralName [1] rfc822Name and [6] uniformResourceIdentifier, both IMPLICIT IA5String.
  return children(names.value)
    .filter((name) => name.tag === 0x81 || name.tag === 0x86)
    .map((name) => name.value.toString('latin1'));
}

/** The OIDC issuer Fulcio recorded: the v2 extension (a DER UTF8String), else the legacy raw one. */
export function fulcioIssuer(der: Buffer): string | undefined {
  const extensions = certificateExtensions(der);
  const v2 = extensions.get(FULCIO_ISSUER_V2);
  if (v2 !== undefined) {
    const text = readTlv(v2, 0);
    if (text?.tag === 0x0c) return text.value.toString('utf8');
  }
  return extensions.get(FULCIO_ISSUER_V1)?.toString('utf8');
}
