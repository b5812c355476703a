/**
 * `caisson sign <image> [--key K | --signing-secrets DIR | keyless] [-a KEY=VALUE]…`: cosign's
 * `sign`. A tag is resolved first: the signature is always made for, and stored at, the digest
 * (an index's digest for a multi-platform image). Prints where the signature went: the
 * `sha256-<hex>.sig` tag, or the bundle referrer's digest with --signature-format bundle.
 */
import { CaissonError } from '../../errors.js';
import { formatReference, referenceIdentifier } from '../../image/index.js';
import { RegistrySession } from '../../registry/index.js';
import { dockerReferenceOf, signImage } from '../../supplychain/index.js';
import type { CommandContext } from '../context.js';
import { parseLocation } from '../locations.js';
import { resolveRegistryOptions } from '../registry-settings.js';
import { keyValueFlags } from '../key-value-flags.js';
import { signingFromArgs } from '../signing.js';
import type { ParsedArgs } from '../spec.js';

/** `-a KEY=VALUE` pairs (cosign's `--annotations`), in the simple-signing payload's `optional`. */
function annotationFlags(values: readonly string[]): Record<string, string> {
  return Object.fromEntries(keyValueFlags({ flag: 'annotation', values, hint: 'e.g. -a env=prod; repeat -a for more.' }));
}

export async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const text = args.positional ?? '';
  const location = parseLocation({ text, cwd: context.cwd });
  if (location.kind !== 'registry') {
    throw new CaissonError({ code: 'ERR_USAGE', message: `"${text}": caisson sign signs images in a registry`, hint: 'Push the image first (caisson copy), then sign docker://REF.' });
  }
  const annotations = annotationFlags(args.strings('annotation'));
  const signing = await signingFromArgs(args, context);
  const { reference } = location;
  const session = new RegistrySession(resolveRegistryOptions({ args, context, roles: { pushHosts: [reference.registry], pullHosts: [reference.registry] } }));
  try {
    const repository = session.repository(reference);
    const root = await repository.resolve(referenceIdentifier(reference));
    const published = await signImage({
      repository,
      image: { name: dockerReferenceOf(reference), digest: root.digest, mediaType: root.mediaType, size: root.size },
      signer: signing.signer,
      format: signing.format,
      ...(signing.tlog === undefined ? {} : { tlog: signing.tlog }),
      ...(signing.tsa === undefined ? {} : { tsa: signing.tsa }),
      ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
    });
    context.logger.info(`signed ${formatReference(reference)} (${root.digest}) with ${signing.description}${signing.tlog === undefined ? ', not logged in Rekor' : ` and logged in ${signing.tlog.rekorURL}`}${signing.tsa === undefined ? '' : `, timestamped by ${signing.tsa.url}`}`);
    context.stdout(`${published.reference}\n`);
  } finally {
    await session.close();
  }
}
