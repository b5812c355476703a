/**
 * Tekton results: the files a build step leaves in its results directory (`/tekton/results`, or a
 * StepAction's step results) for the TaskRun's status and for Tekton Chains, which reads
 * `IMAGE_URL` + `IMAGE_DIGEST`, `IMAGES` and the object result `IMAGE_ARTIFACT_OUTPUTS` (its
 * `isBuildArtifact` type hint, slsa/v2alpha4) as the provenance subjects.
 *
 * Results travel in the step container's termination message, 4,096 bytes at most for the
 * container; they are measured as Tekton encodes them (a JSON list of `{"key","value","type"}`)
 * with room kept for Tekton's own entries. A build whose results could exceed that is refused
 * before anything is built (`checkResultsFit` on the worst case), rather than truncating `IMAGES`:
 * a truncated list would silently leave pushed images out of Chains' provenance.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CaissonError } from '../errors.js';

/** The termination message's limit for one container (tektoncd/pipeline, TEP-0127). */
export const TERMINATION_MESSAGE_LIMIT = 4096;

/** Bytes kept free for the entries Tekton's entrypoint adds itself (`StartedAt`, exit code). */
export const TEKTON_RESERVED_BYTES = 160;

/** Every result caisson writes, in the order the Task declares them. */
export const RESULT_NAMES = ['IMAGE_DIGEST', 'IMAGE_URL', 'IMAGES', 'IMAGE_ARTIFACT_OUTPUTS', 'SIGNATURE_REF', 'ATTESTATION_REF', 'PROVENANCE_DIGEST'] as const;

export type ResultName = (typeof RESULT_NAMES)[number];

export interface TektonResult {
  readonly name: ResultName;
  /** The file's exact bytes: no trailing newline (Tekton keeps what the file holds). */
  readonly value: string;
}

/** One pushed destination: `registry/repo:tag` as given, and its repository `registry/repo`. */
export interface PushedImage {
  readonly url: string;
  readonly repository: string;
}

/** What a build produced, as the results describe it. */
export interface BuildOutcome {
  /** The image (or index) digest, `sha256:<hex>`. */
  readonly digest: string;
  /** Every destination pushed, in command-line order; empty with --no-push. */
  readonly pushed: readonly PushedImage[];
  /** Signature references (one per pushed repository), first one reported. */
  readonly signatures: readonly string[];
  /** Attestation references (one per pushed repository), first one reported. */
  readonly attestations: readonly string[];
  /** The provenance statement's bytes as attested or written, when there is one. */
  readonly provenance?: Uint8Array;
}

/** The seven results of a build, in declaration order. */
export function tektonResults(outcome: BuildOutcome): TektonResult[] {
  const first = outcome.pushed[0];
  const images = [...new Set(outcome.pushed.map((image) => `${image.repository}@${outcome.digest}`))];
  const artifact = { uri: first?.repository ?? '', digest: outcome.digest, isBuildArtifact: first === undefined ? 'false' : 'true' };
  const values: Record<ResultName, string> = {
    IMAGE_DIGEST: outcome.digest,
    IMAGE_URL: first?.url ?? '',
    IMAGES: images.join('\n'),
    IMAGE_ARTIFACT_OUTPUTS: JSON.stringify(artifact),
    SIGNATURE_REF: outcome.signatures[0] ?? '',
    ATTESTATION_REF: outcome.attestations[0] ?? '',
    PROVENANCE_DIGEST: outcome.provenance === undefined ? '' : `sha256:${createHash('sha256').update(outcome.provenance).digest('hex')}`,
  };
  return RESULT_NAMES.map((name) => ({ name, value: values[name] }));
}

/** The bytes `results` take in the termination message, as Tekton's entrypoint encodes them. */
export function resultsSize(results: readonly TektonResult[]): number {
  return Buffer.byteLength(JSON.stringify(results.map((result) => ({ key: result.name, value: result.value, type: 1 }))));
}

/** The largest results a build to `pushed` can have: any digest has the same length, references take cosign's longer `.sig`/`.att` tag form. */
export function worstCaseResults(options: { readonly pushed: readonly PushedImage[]; readonly sign: boolean; readonly attest: boolean; readonly provenance: boolean }): TektonResult[] {
  const digest = `sha256:${'f'.repeat(64)}`;
  const tagged = (suffix: string): string[] => (options.pushed[0] === undefined ? [] : [`${options.pushed[0].repository}:sha256-${'f'.repeat(64)}.${suffix}`]);
  return tektonResults({
    digest,
    pushed: options.pushed,
    signatures: options.sign ? tagged('sig') : [],
    attestations: options.attest ? tagged('att') : [],
    ...(options.provenance ? { provenance: new Uint8Array() } : {}),
  });
}

/** Throws when `results` would not fit in the step's termination message. */
export function checkResultsFit(results: readonly TektonResult[]): void {
  const size = resultsSize(results);
  const budget = TERMINATION_MESSAGE_LIMIT - TEKTON_RESERVED_BYTES;
  if (size <= budget) return;
  const images = results.find((result) => result.name === 'IMAGES')?.value.split('\n').length ?? 0;
  throw new CaissonError({
    code: 'ERR_USAGE',
    message: `the Tekton results would take ${size} bytes (${images} image name(s) in IMAGES); a step's results must fit in ${budget} of the termination message's ${TERMINATION_MESSAGE_LIMIT} bytes`,
    hint: "Push to fewer destinations in one step (or shorter names), or raise Tekton's limit with results-from: sidecar-logs and build without --results-dir.",
  });
}

/** Writes each result to `<dir>/<NAME>` atomically (a temporary file renamed over it); creates `dir`. */
export async function writeTektonResults(options: { readonly dir: string; readonly results: readonly TektonResult[] }): Promise<void> {
  checkResultsFit(options.results);
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  for (const result of options.results) {
    const target = join(dir, result.name);
    const temporary = join(dir, `.${result.name}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(temporary, result.value);
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `cannot write the Tekton result ${target}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, hint: 'Check that the results directory (--results-dir) is writable.', cause: error });
    }
  }
}
