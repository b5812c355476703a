/**
 * What a verifier trusts: who may have signed (a public key, or a Fulcio certificate for one
 * identity and OIDC issuer under trusted CAs), the Rekor keys whose signed entry timestamps
 * count, the RFC 3161 timestamp authorities, and whether a transparency-log entry is required.
 * The CAs, Rekor keys and TSAs come from a Sigstore `trusted_root.json` (protobuf-specs
 * `sigstore_trustroot.proto`; shared/specs/supply-chain.md §3 "Custom Rekor, Fulcio or TSA") and/or a Rekor key PEM file
 * (cosign's `SIGSTORE_REKOR_PUBLIC_KEY`).
 */
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CaissonError } from '../errors.js';
import { decodeBase64, isObject } from './wire.js';

/** A span of time a key or CA was in use; open-ended when a bound is absent. */
export interface ValidFor {
  readonly start?: Date;
  readonly end?: Date;
}

/** A Fulcio CA: its chain from the CA that issues leaves up to the root. */
export interface CertificateAuthority {
  readonly certificates: readonly X509Certificate[];
  readonly validFor?: ValidFor;
}

/** A transparency log's public key; `logId` is sha256 of its DER SPKI. */
export interface TransparencyLogKey {
  readonly publicKey: KeyObject;
  readonly logId: Buffer;
  readonly validFor?: ValidFor;
}

/** Who may have signed. */
export type SignerTrust =
  /** cosign.pub: an SPKI `PUBLIC KEY` PEM (ECDSA, RSA or Ed25519). */
  | { readonly kind: 'key'; readonly publicKeyPem: string }
  /**
   * Keyless: a certificate chaining to one of `roots`, whose SAN (email or URI) is exactly
   * `identity` and whose Fulcio issuer extension is exactly `issuer`.
   */
  | { readonly kind: 'certificate'; readonly identity: string; readonly issuer: string; readonly roots: readonly CertificateAuthority[] };

/** Everything verification trusts. */
export interface VerificationTrust {
  readonly signer: SignerTrust;
  /** Rekor keys; an entry's SET must verify with the one whose log ID it names. */
  readonly rekorKeys: readonly TransparencyLogKey[];
  /** Accept signatures without a transparency-log entry (`--insecure-ignore-tlog`); entries present are still checked. */
  readonly ignoreTlog: boolean;
  /** RFC 3161 timestamp authorities (the trusted root's `timestampAuthorities`); a signature's timestamp must verify with one. */
  readonly timestampAuthorities?: readonly CertificateAuthority[];
}

/** The parts of a trusted root caisson uses. */
export interface TrustedRoot {
  readonly certificateAuthorities: readonly CertificateAuthority[];
  readonly tlogs: readonly TransparencyLogKey[];
  /** Each a TSA's chain, its signing certificate first. */
  readonly timestampAuthorities: readonly CertificateAuthority[];
}

/** The trusted-root media types (v0.1 and v0.2). */
export const TRUSTED_ROOT_MEDIA_TYPES: readonly string[] = [
  'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  'application/vnd.dev.sigstore.trustedroot.v0.2+json',
];

function invalid(what: string, detail: string): CaissonError {
  return new CaissonError({ code: 'ERR_VERIFY_FAILED', message: `trusted root ${what}: ${detail}`, hint: 'Give a Sigstore trusted_root.json (sigstore_trustroot.proto), e.g. from "cosign trusted-root create".' });
}

/** The log ID of a public key: sha256 of its DER SPKI. */
export function logIdOf(publicKey: KeyObject): Buffer {
  return createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest();
}

/** A Rekor key from PEM text (`SIGSTORE_REKOR_PUBLIC_KEY`'s file); ERR_VERIFY_FAILED naming `what`. */
export function transparencyLogKeyFromPem(options: { readonly pem: string; readonly what: string }): TransparencyLogKey {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(options.pem);
  } catch (error) {
    throw new CaissonError({ code: 'ERR_VERIFY_FAILED', message: `Rekor public key ${options.what}: not a PEM public key`, cause: error });
  }
  return { publicKey, logId: logIdOf(publicKey) };
}

function validFor(value: unknown, what: string, field: string): ValidFor | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw invalid(what, `${field}.validFor is not an object`);
  const time = (name: 'start' | 'end'): Record<string, Date> => {
    const text = value[name];
    if (text === undefined) return {};
    const date = typeof text === 'string' ? new Date(text) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) throw invalid(what, `${field}.validFor.${name} is not an RFC 3339 time`);
    return { [name]: date };
  };
  return { ...time('start'), ...time('end') };
}

function rawBytes(value: unknown, what: string, field: string): Buffer {
  const raw = isObject(value) && typeof value['rawBytes'] === 'string' ? decodeBase64(value['rawBytes']) : undefined;
  if (raw === undefined || raw.length === 0) throw invalid(what, `${field}.rawBytes is missing or not base64`);
  return raw;
}

function list(root: Record<string, unknown>, name: string, what: string): unknown[] {
  const value = root[name] ?? [];
  if (!Array.isArray(value)) throw invalid(what, `"${name}" is not a list`);
  return value;
}

/**
 * Parses a trusted root: `tlogs[].publicKey.rawBytes` (DER SPKI, base64) with `logId.keyId`
 * (which must be the key's sha256) and `validFor`, and
 * `certificateAuthorities[].certChain.certificates[].rawBytes` (DER, issuing CA first) with
 * `validFor`, and `timestampAuthorities` in the same shape (the TSA's signing certificate first).
 * CT logs are not used. `what` names the file in errors.
 */
export function parseTrustedRoot(options: { readonly bytes: Buffer; readonly what: string }): TrustedRoot {
  const { what } = options;
  let root: unknown;
  try {
    root = JSON.parse(options.bytes.toString('utf8'));
  } catch {
    throw invalid(what, 'not JSON');
  }
  if (!isObject(root)) throw invalid(what, 'not a JSON object');
  const mediaType = root['mediaType'];
  if (typeof mediaType !== 'string' || !TRUSTED_ROOT_MEDIA_TYPES.includes(mediaType)) {
    throw invalid(what, `mediaType ${JSON.stringify(mediaType ?? null)} is not ${TRUSTED_ROOT_MEDIA_TYPES.join(' or ')}`);
  }
  const tlogs = list(root, 'tlogs', what).map((tlog, index): TransparencyLogKey => {
    const field = `tlogs[${index}]`;
    if (!isObject(tlog)) throw invalid(what, `${field} is not an object`);
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: rawBytes(tlog['publicKey'], what, `${field}.publicKey`), format: 'der', type: 'spki' });
    } catch (error) {
      if (error instanceof CaissonError) throw error;
      throw invalid(what, `${field}.publicKey is not a DER public key`);
    }
    const logId = logIdOf(publicKey);
    const keyId = isObject(tlog['logId']) && typeof tlog['logId']['keyId'] === 'string' ? decodeBase64(tlog['logId']['keyId']) : undefined;
    if (keyId !== undefined && !keyId.equals(logId)) throw invalid(what, `${field}.logId.keyId is not the sha256 of its public key`);
    const span = validFor(isObject(tlog['publicKey']) ? tlog['publicKey']['validFor'] : undefined, what, `${field}.publicKey`);
    return { publicKey, logId, ...(span === undefined ? {} : { validFor: span }) };
  });
  const authorities = (name: 'certificateAuthorities' | 'timestampAuthorities'): CertificateAuthority[] => list(root, name, what).map((authority, index): CertificateAuthority => {
    const field = `${name}[${index}]`;
    const chain = isObject(authority) && isObject(authority['certChain']) ? authority['certChain']['certificates'] : undefined;
    if (!Array.isArray(chain) || chain.length === 0) throw invalid(what, `${field}.certChain.certificates is missing or empty`);
    const certificates = chain.map((entry: unknown, position) => {
      const der = rawBytes(entry, what, `${field}.certChain.certificates[${position}]`);
      try {
        return new X509Certificate(der);
      } catch {
        throw invalid(what, `${field}.certChain.certificates[${position}] is not a DER certificate`);
      }
    });
    const span = validFor(isObject(authority) ? authority['validFor'] : undefined, what, field);
    return { certificates, ...(span === undefined ? {} : { validFor: span }) };
  });
  return { certificateAuthorities: authorities('certificateAuthorities'), tlogs, timestampAuthorities: authorities('timestampAuthorities') };
}

/** Reads and parses a trusted_root.json; errors name the file. */
export async function readTrustedRoot(path: string): Promise<TrustedRoot> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `cannot read the trusted root ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`, cause: error });
  }
  return parseTrustedRoot({ bytes, what: path });
}

/** Whether `time` lies within `span` (inclusive; an absent span or bound is open). */
export function isWithin(span: ValidFor | undefined, time: Date): boolean {
  if (span === undefined) return true;
  return (span.start === undefined || span.start.getTime() <= time.getTime()) && (span.end === undefined || time.getTime() <= span.end.getTime());
}
