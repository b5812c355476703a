/**
 * `caisson verify <image> (--key cosign.pub | --certificate-identity SAN --certificate-oidc-issuer URL)
 * [--trusted-root F] [--insecure-ignore-tlog] [-a KEY=VALUE]…`: cosign's `verify`. The tag is
 * resolved to its digest, then every signature — cosign's `sha256-<hex>.sig` layers and cosign
 * v3's Sigstore-bundle referrers — is checked; one valid signature is enough. Prints each
 * verified payload as one JSON line on stdout (as cosign does) and a "Verified OK" line per
 * signature on stderr; exit 10 (ERR_VERIFY_FAILED) naming each rejected signature otherwise.
 */
import { verifyImageSignatures } from '../../supplychain/index.js';
import type { CommandContext } from '../context.js';
import { keyValueFlags } from '../key-value-flags.js';
import type { ParsedArgs } from '../spec.js';
import { imageArgument, runVerification } from '../verify-trust.js';

/** `-a KEY=VALUE`: each must be among the signed annotations. */
function annotationFlags(values: readonly string[]): Record<string, string> {
  return Object.fromEntries(keyValueFlags({ flag: 'annotation', values, hint: 'e.g. -a tag=v1.2 (each must be among the signed annotations).' }));
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
