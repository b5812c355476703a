/**
 * `caisson verify <image> (--key cosign.pub | --certificate-identity SAN --certificate-oidc-issuer URL)
 * [--trusted-root F] [--insecure-ignore-tlog] [-a KEY=VALUE]…`: cosign's `verify`. The tag is
 * resolved to its digest, then every signature — cosign's `sha256-<hex>.sig` layers and cosign
 * v3's Sigstore-bundle referrers — is checked; one valid signature is enough. Prints each
 * verified payload as one JSON line on stdout (as cosign does) and a "Verified OK" line per
 * signature on stderr; exit 10 (ERR_VERIFY_FAILED) naming each rejected signature otherwise.
 */
import { CaissonError } from '../../errors.js';
import { verifyImageSignatures } from '../../supplychain/index.js';
import type { CommandContext } from '../context.js';
import type { ParsedArgs } from '../spec.js';
import { imageArgument, runVerification } from '../verify-trust.js';

function annotationFlags(values: readonly string[]): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf('=');
    if (equals <= 0) throw new CaissonError({ code: 'ERR_USAGE', message: `--annotation "${value}": expected KEY=VALUE`, hint: 'e.g. -a tag=v1.2 (each must be among the signed annotations).' });
    annotations[value.slice(0, equals)] = value.slice(equals + 1);
  }
  return annotations;
}

export async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const reference = imageArgument(args.positional);
  const annotations = annotationFlags(args.strings('annotation'));
  await runVerification({
    args,
    context,
    reference,
    verify: ({ repository, image, trust }) => verifyImageSignatures({ repository, image, trust, annotations }),
    describe: (signature, image) => `${image.name}@${image.digest} (${signature.where})`,
    stdout: (signature) => JSON.stringify(JSON.parse(signature.payload.toString('utf8'))),
  });
}
