/**
 * The error for a malformed signature, envelope, statement or annotation: a `CaissonError` with
 * code ERR_SIGNATURE_INVALID whose `problem` names what exactly is wrong, so verification can
 * report (and tests can assert) each rejection distinctly.
 */
import { CaissonError } from '../errors.js';

/** Every way a supply-chain document can be malformed, one name each. */
export type FormatProblem =
  | 'not-json'
  | 'not-object'
  | 'simple-signing-critical'
  | 'simple-signing-type'
  | 'simple-signing-digest'
  | 'simple-signing-identity'
  | 'simple-signing-optional'
  | 'dsse-payload'
  | 'dsse-payload-type'
  | 'dsse-signatures'
  | 'dsse-signature'
  | 'statement-type'
  | 'statement-subject'
  | 'statement-predicate-type'
  | 'rekor-bundle-set'
  | 'rekor-bundle-payload'
  | 'cosign-config'
  | 'timestamp-malformed';

/** ERR_SIGNATURE_INVALID with the problem's name; still one `CaissonError` for renderers. */
export class SignatureFormatError extends CaissonError {
  readonly problem: FormatProblem;

  constructor(options: { readonly problem: FormatProblem; readonly what: string; readonly detail: string; readonly hint?: string }) {
    super({
      code: 'ERR_SIGNATURE_INVALID',
      message: `${options.what}: ${options.detail}`,
      hint: options.hint ?? 'The signature or attestation was not written by cosign or caisson, or was changed after signing.',
    });
    this.name = 'SignatureFormatError';
    this.problem = options.problem;
  }
}

export function isSignatureFormatError(value: unknown): value is SignatureFormatError {
  return value instanceof SignatureFormatError;
}
