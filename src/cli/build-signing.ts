/**
 * `caisson build --sign` and `--provenance`: after the push, each pushed repository gets the
 * image's signature and (with --provenance) the provenance attestation, stored next to it as
 * `caisson sign` stores them. Checked before the build starts: there must be a pushed image,
 * and the key must open (a wrong password fails in a second, not after the build).
 */
import { CaissonError } from '../errors.js';
import { parseReference, type Digest } from '../image/index.js';
import type { Logger } from '../log.js';
import type { RegistrySession } from '../registry/index.js';
import { attestImage, dockerReferenceOf, signImage, type PublishedArtifact, type Statement } from '../supplychain/index.js';
import type { CommandContext } from './context.js';
import { signingFromArgs, type SigningSetup } from './signing.js';
import type { ParsedArgs } from './spec.js';

/** What --sign and --provenance asked for, with the signer they use; undefined when neither was given. */
export async function buildSigning(options: { readonly args: ParsedArgs; readonly context: CommandContext; readonly pushed: readonly string[] }): Promise<(SigningSetup & { readonly sign: boolean; readonly attest: boolean }) | undefined> {
  const { args } = options;
  const sign = args.bool('sign');
  const attest = args.bool('provenance');
  if (!sign && !attest) return undefined;
  if (options.pushed.length === 0) {
    const flag = sign ? '--sign' : '--provenance';
    throw new CaissonError({
      code: 'ERR_USAGE',
      message: `${flag} needs a pushed image: signatures and attestations are stored next to it in its registry`,
      hint: 'Give --destination REF (without --no-push); for a local record of the build, --provenance-file FILE needs no registry and no key.',
    });
  }
  return { ...(await signingFromArgs(args, options.context)), sign, attest };
}

export interface SignedBuild {
  /** Per pushed repository, its signature's reference. */
  readonly signatures: readonly PublishedArtifact[];
  /** Per pushed repository, its provenance attestation's reference. */
  readonly attestations: readonly PublishedArtifact[];
}

/** Signs and attests the pushed image in every repository it went to (each repository once). */
export async function signBuild(options: {
  readonly setup: SigningSetup & { readonly sign: boolean; readonly attest: boolean };
  readonly registry: RegistrySession;
  readonly pushed: readonly string[];
  readonly image: { readonly digest: Digest; readonly mediaType: string; readonly size: number };
  readonly statement: Statement | undefined;
  readonly logger: Logger;
}): Promise<SignedBuild> {
  const { setup, logger } = options;
  const repositories = new Map(options.pushed.map((name) => {
    const reference = parseReference(name);
    return [dockerReferenceOf(reference), reference] as const;
  }));
  const signatures: PublishedArtifact[] = [];
  const attestations: PublishedArtifact[] = [];
  logger.info(`signing with ${setup.description}${setup.tlog === undefined ? ', no transparency log' : ''}${setup.tsa === undefined ? '' : `, timestamps from ${setup.tsa.url}`}`);
  for (const [name, reference] of repositories) {
    const common = { repository: options.registry.repository(reference), image: { name, ...options.image }, signer: setup.signer, format: setup.format, ...(setup.tlog === undefined ? {} : { tlog: setup.tlog }), ...(setup.tsa === undefined ? {} : { tsa: setup.tsa }) };
    if (setup.sign) {
      const signature = await signImage(common);
      logger.info(`signed ${name}@${options.image.digest}: ${signature.reference}`);
      signatures.push(signature);
    }
    if (setup.attest) {
      if (options.statement === undefined) throw new CaissonError({ code: 'ERR_INTERNAL', message: '--provenance without a provenance statement' });
      const attestation = await attestImage({ ...common, statement: options.statement, replace: true });
      logger.info(`attested ${name}@${options.image.digest} (SLSA v1 provenance): ${attestation.reference}`);
      attestations.push(attestation);
    }
  }
  return { signatures, attestations };
}
