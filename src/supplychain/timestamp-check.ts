/**
 * Verifying an RFC 3161 timestamp offline, as cosign (`VerifyRFC3161Timestamp`) and sigstore-go
 * do, against the timestamp authorities of a trusted root: the response grants a token; its
 * message imprint is the hash of what was stamped (a signature's bytes, or an `.att` layer's
 * blob); the CMS signed attributes name a TSTInfo and carry its digest; their signature verifies
 * with an authority's signing certificate (the first of its chain), which chains to the last,
 * carries the timeStamping extended key usage, and (with its authority) was valid at genTime.
 * Each failure is a `Rejected('timestamp', …)` naming the part that does not hold.
 */
import { createHash, verify, type X509Certificate } from 'node:crypto';
import { children, oidText } from './der.js';
import { hashName, OID, parseTimestampResponse, type TimestampSignerInfo, type TimestampToken } from './timestamp-token.js';
import { isWithin, type CertificateAuthority } from './trust.js';
import { Rejected } from './verify-result.js';

const TIME_STAMPING_EKU = '1.3.6.1.5.5.7.3.8';

function digestOf(algorithm: string, data: Buffer, what: string): Buffer {
  const name = hashName(algorithm);
  if (name === undefined) throw new Rejected('timestamp', `the timestamp's ${what} uses an unsupported hash (${algorithm})`);
  return createHash(name).update(data).digest();
}

/** The value of a signed attribute (the first of its SET), by OID. */
function attribute(signedAttributes: Buffer, oid: string): Buffer | undefined {
  const set = children(signedAttributes)[0];
  for (const entry of set === undefined ? [] : children(set.value)) {
    const [type, values] = children(entry.value);
    if (type?.tag === 0x06 && oidText(type.value) === oid && values?.tag === 0x31) return children(values.value)[0]?.value;
  }
  return undefined;
}

/**
 * The signed attributes as signed (the `[0] IMPLICIT` element re-tagged as a SET, RFC 5652 §5.4),
 * once they are shown to name a TSTInfo and carry its digest.
 */
function signedAttributes(token: TimestampToken, signerInfo: TimestampSignerInfo): Buffer {
  const attributes = signerInfo.signedAttributes;
  if (attributes === undefined) throw new Rejected('timestamp', 'the timestamp token has no signed attributes');
  const contentType = attribute(attributes, OID.contentTypeAttribute);
  if (contentType === undefined || oidText(contentType) !== OID.tstInfo) throw new Rejected('timestamp', 'the timestamp token does not sign a TSTInfo');
  const digest = attribute(attributes, OID.messageDigestAttribute);
  if (digest === undefined || !digest.equals(digestOf(signerInfo.digestAlgorithm, token.tstInfo, 'content digest'))) {
    throw new Rejected('timestamp', "the timestamp token's message digest attribute is not the digest of its TSTInfo");
  }
  const signed = Buffer.from(attributes);
  signed[0] = 0x31;
  return signed;
}

function signedByAuthority(options: { readonly signerInfo: TimestampSignerInfo; readonly signed: Buffer; readonly leaf: X509Certificate }): boolean {
  const hash = hashName(options.signerInfo.digestAlgorithm);
  try {
    return hash !== undefined && verify(hash, options.signed, options.leaf.publicKey, options.signerInfo.signature);
  } catch {
    return false;
  }
}

/** Whether each certificate is issued and signed by the next, and the last is self-signed. */
function chains(certificates: readonly X509Certificate[]): boolean {
  return certificates.every((certificate, index) => {
    const issuer = certificates[index + 1] ?? certificate;
    return certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey);
  });
}

/**
 * Checks a DER `TimeStampResp` over `data` against the trusted timestamp authorities; returns the
 * time it attests.
 */
export function checkTimestamp(options: { readonly response: Buffer; readonly data: Buffer; readonly authorities: readonly CertificateAuthority[] }): Date {
  let answer;
  try {
    answer = parseTimestampResponse({ bytes: options.response, what: 'the RFC 3161 timestamp' });
  } catch (error) {
    throw new Rejected('timestamp', error instanceof Error ? error.message : String(error));
  }
  if (answer.kind === 'refused') throw new Rejected('timestamp', `the RFC 3161 timestamp is a refusal (status ${answer.status})`);
  const token = answer.parsed;
  if (!token.imprint.digest.equals(digestOf(token.imprint.hashAlgorithm, options.data, 'message imprint'))) {
    throw new Rejected('timestamp', 'the RFC 3161 timestamp is for other data than this signature');
  }
  if (options.authorities.length === 0) throw new Rejected('timestamp', 'the signature has an RFC 3161 timestamp but no timestamp authority is trusted (the trusted root has no timestampAuthorities)');
  const signerInfo = token.signerInfos[0];
  if (signerInfo === undefined || token.signerInfos.length !== 1) throw new Rejected('timestamp', 'the timestamp token does not have exactly one signer');
  const signed = signedAttributes(token, signerInfo);
  const at = token.genTime;
  for (const authority of options.authorities) {
    const [leaf] = authority.certificates;
    if (leaf === undefined || !signedByAuthority({ signerInfo, signed, leaf })) continue;
    if (!chains(authority.certificates)) throw new Rejected('timestamp', "the timestamp authority's certificates do not chain to its root");
    if (!(leaf.keyUsage ?? []).includes(TIME_STAMPING_EKU)) throw new Rejected('timestamp', "the timestamp authority's certificate is not for time stamping (no timeStamping extended key usage)");
    const covers = (certificate: X509Certificate): boolean => certificate.validFromDate.getTime() <= at.getTime() && at.getTime() <= certificate.validToDate.getTime();
    if (!authority.certificates.every(covers) || !isWithin(authority.validFor, at)) throw new Rejected('timestamp', `the timestamp authority was not valid at the stamped time ${at.toISOString()}`);
    return at;
  }
  throw new Rejected('timestamp', "the RFC 3161 timestamp's signature does not verify with a trusted timestamp authority");
}

/**
 * Every timestamp a signature carries must verify over `data`; the earliest time they attest, or
 * undefined when there are none.
 */
export function checkTimestamps(options: { readonly responses: readonly Buffer[]; readonly data: Buffer; readonly authorities: readonly CertificateAuthority[] | undefined }): Date | undefined {
  const times = options.responses.map((response) => checkTimestamp({ response, data: options.data, authorities: options.authorities ?? [] }));
  return times.reduce<Date | undefined>((earliest, time) => (earliest === undefined || time.getTime() < earliest.getTime() ? time : earliest), undefined);
}
