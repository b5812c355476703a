/**
 * What `caisson build` writes besides the image, once its digest is known: --digest-file,
 * --image-name-with-digest-file, --image-name-tag-with-digest-file and the Tekton results. A build
 * writes them after its push, a rebuild answered from its build record (build-record.ts) from the
 * record's digest.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { formatReference, parseReference } from '../image/index.js';
import type { PushedImage } from '../tekton/index.js';
import type { SignedBuild } from './build-signing.js';
import type { CommandContext } from './context.js';
import type { ParsedArgs } from './spec.js';

export interface ResultsTarget {
  readonly dir: string;
  readonly pushed: readonly PushedImage[];
}

/**
 * Where the Tekton results go (--results-dir, else Tekton's own directory when caisson runs in a
 * Tekton step), checked before the build: results that could outgrow the termination message are
 * refused now, not after the push. The tekton modules load only for a build that writes results.
 */
export async function resultsTarget(options: { readonly args: ParsedArgs; readonly context: CommandContext; readonly pushed: readonly string[]; readonly sign: boolean; readonly attest: boolean; readonly provenance: boolean }): Promise<ResultsTarget | undefined> {
  const given = options.args.string('results-dir') ?? options.context.tektonResultsDir;
  if (given === undefined) return undefined;
  const { checkResultsFit, worstCaseResults } = await import('../tekton/index.js');
  const pushed = options.pushed.map((url) => ({ url, repository: formatReference({ ...parseReference(url), tag: undefined }) }));
  checkResultsFit(worstCaseResults({ pushed, sign: options.sign, attest: options.attest, provenance: options.provenance }));
  return { dir: resolve(options.context.cwd, given), pushed };
}

/** Writes the digest files and the Tekton results the flags ask for, of the image `digest` pushed to `pushed`. */
export async function writeDigestOutputs(options: {
  readonly args: ParsedArgs;
  readonly context: CommandContext;
  readonly pushed: readonly string[];
  readonly digest: string;
  readonly results: ResultsTarget | undefined;
  readonly signed?: SignedBuild;
  /** The provenance statement's bytes, for the results. */
  readonly provenance?: Buffer;
}): Promise<void> {
  const { args, context, pushed, digest, results } = options;
  const file = (flag: string): string | undefined => {
    const path = args.string(flag);
    return path === undefined ? undefined : resolve(context.cwd, path);
  };
  const digestFile = file('digest-file');
  if (digestFile !== undefined) await writeFile(digestFile, digest);
  const withDigest = file('image-name-with-digest-file');
  if (withDigest !== undefined) await writeFile(withDigest, pushed.map((name) => `${formatReference({ ...parseReference(name), tag: undefined })}@${digest}\n`).join(''));
  if (results !== undefined) {
    const { tektonResults, writeTektonResults } = await import('../tekton/index.js');
    await writeTektonResults({
      dir: results.dir,
      results: tektonResults({
        digest,
        pushed: results.pushed,
        signatures: options.signed?.signatures.map((artifact) => artifact.reference) ?? [],
        attestations: options.signed?.attestations.map((artifact) => artifact.reference) ?? [],
        ...(options.provenance === undefined ? {} : { provenance: options.provenance }),
      }),
    });
    context.logger.info(`Tekton results written to ${results.dir}`);
  }
  const tagWithDigest = file('image-name-tag-with-digest-file');
  if (tagWithDigest !== undefined) await writeFile(tagWithDigest, pushed.map((name) => `${name}@${digest}\n`).join(''));
}
