/**
 * in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md)
 * and its ResourceDescriptor (resource_descriptor.md): any predicate type, so provenance today
 * and an SBOM attestation later go through the same builder.
 */
import { digestAlgorithm, digestHex, type Digest } from '../image/index.js';
import { SignatureFormatError } from './format-error.js';
import { isObject, parseJsonObject } from './wire.js';

export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** What cosign's `attest` (v2 and v3) still writes; accepted when parsing. */
export const STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';

/** Algorithm → lowercase hex (digest_set.md); `gitCommit` for git commits. */
export type DigestSet = Readonly<Record<string, string>>;

/**
 * A reference to an artifact (resource_descriptor.md): at least one of `uri`, `digest`,
 * `content` is set. `content` is the artifact itself, base64.
 */
export interface ResourceDescriptor {
  readonly name?: string;
  readonly uri?: string;
  readonly digest?: DigestSet;
  readonly content?: string;
  readonly downloadLocation?: string;
  readonly mediaType?: string;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

/** A statement subject: matched by digest only; the name is informative. */
export interface Subject {
  readonly name?: string;
  readonly digest: DigestSet;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

export interface Statement<Predicate = unknown> {
  readonly _type: string;
  readonly subject: readonly Subject[];
  readonly predicateType: string;
  readonly predicate: Predicate;
}

/** The subject for an image digest (sha256 only), with an optional name such as `ghcr.io/org/app`. */
export function imageSubject(options: { readonly digest: Digest; readonly name?: string }): Subject {
  if (digestAlgorithm(options.digest) !== 'sha256') throw new TypeError(`a statement subject needs a sha256 digest, not ${options.digest}`);
  return { ...(options.name === undefined ? {} : { name: options.name }), digest: { sha256: digestHex(options.digest) } };
}

/** A Statement v1 over `subjects` with any predicate (SLSA provenance, an SBOM, cosign's sign/v1). */
export function buildStatement<Predicate>(options: {
  readonly subjects: readonly Subject[];
  readonly predicateType: string;
  readonly predicate: Predicate;
}): Statement<Predicate> {
  if (options.subjects.length === 0) throw new TypeError('a statement needs at least one subject');
  return { _type: STATEMENT_V1, subject: options.subjects, predicateType: options.predicateType, predicate: options.predicate };
}

/** The statement's bytes, the DSSE payload: keys in the order _type, subject, predicateType, predicate. */
export function serializeStatement(statement: Statement): Buffer {
  return Buffer.from(JSON.stringify({ _type: statement._type, subject: statement.subject, predicateType: statement.predicateType, predicate: statement.predicate }));
}

/**
 * Parses a statement for verification: `_type` v1 or v0.1, a non-empty `subject` list whose
 * entries all have a non-empty `digest` of lowercase hex strings (and a string `name` if any),
 * and a `predicateType`. The predicate is returned unchecked; matching a subject against the
 * image is the verifier's job.
 */
export function parseStatement(options: { readonly bytes: Buffer; readonly what: string }): Statement {
  const { what } = options;
  const root = parseJsonObject({ bytes: options.bytes, what, kind: 'in-toto statement' });
  const type = root['_type'];
  if (type !== STATEMENT_V1 && type !== STATEMENT_V01) {
    throw new SignatureFormatError({ problem: 'statement-type', what, detail: `_type is ${JSON.stringify(type ?? null)}, not ${STATEMENT_V1}` });
  }
  const subjects = root['subject'];
  if (!Array.isArray(subjects) || subjects.length === 0) {
    throw new SignatureFormatError({ problem: 'statement-subject', what, detail: 'the statement has no subject' });
  }
  subjects.forEach((subject: unknown, index) => {
    const digest = isObject(subject) ? subject['digest'] : undefined;
    const values = isObject(digest) ? Object.values(digest) : [];
    const named = isObject(subject) && (subject['name'] === undefined || typeof subject['name'] === 'string');
    if (!named || values.length === 0 || !values.every((value) => typeof value === 'string' && /^[0-9a-f]+$/.test(value))) {
      throw new SignatureFormatError({ problem: 'statement-subject', what, detail: `subject[${index}] has no digest of lowercase hex values` });
    }
  });
  const predicateType = root['predicateType'];
  if (typeof predicateType !== 'string' || predicateType === '') {
    throw new SignatureFormatError({ problem: 'statement-predicate-type', what, detail: 'the statement has no predicateType' });
  }
  return { _type: type, subject: subjects as Subject[], predicateType, predicate: root['predicate'] };
}
