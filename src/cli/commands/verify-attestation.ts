/**
 * `caisson verify-attestation <image> [--type slsaprovenance1|…|URI] (--key … | --certificate-identity …)`:
 * cosign's `verify-attestation`. Every attestation — cosign's `sha256-<hex>.att` layers and
 * cosign v3's Sigstore-bundle referrers — is checked: in-toto payloadType, a signature over the
 * PAE, a subject with the image's digest, the predicateType. `--type` defaults to
 * `slsaprovenance1` (SLSA v1 provenance, what `caisson build --provenance` attaches); cosign's
 * default is `custom`. Prints each verified envelope as one JSON line (as cosign does), a
 * "Verified OK" line per attestation on stderr; exit 10 (ERR_VERIFY_FAILED) otherwise.
 */
import { CaissonError } from '../../errors.js';
import { DEFAULT_PREDICATE_TYPE, PREDICATE_TYPE_NAMES, predicateTypeOf, verifyImageAttestations } from '../../supplychain/index.js';
import type { CommandContext } from '../context.js';
import type { ParsedArgs } from '../spec.js';
import { imageArgument, runVerification } from '../verify-trust.js';

function predicateTypeFlag(value: string): string {
  if (PREDICATE_TYPE_NAMES[value] === undefined && !/^[a-z][a-z0-9+.-]*:\S+$/i.test(value)) {
    throw new CaissonError({ code: 'ERR_USAGE', message: `--type "${value}": neither a predicate type name nor a URI`, hint: `Use one of ${Object.keys(PREDICATE_TYPE_NAMES).join(', ')}, or the predicateType URI.` });
  }
  return predicateTypeOf(value);
}

export async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const reference = imageArgument(args.positional);
  const predicateType = predicateTypeFlag(args.string('type') ?? DEFAULT_PREDICATE_TYPE);
  await runVerification({
    args,
    context,
    reference,
    verify: ({ repository, image, trust }) => verifyImageAttestations({ repository, image, trust, predicateType }),
    describe: (attestation, image) => `${attestation.statement.predicateType} attestation of ${image.name}@${image.digest} (${attestation.where})`,
    stdout: (attestation) => attestation.envelope.toString('utf8').trim(),
  });
}
