/**
 * What `caisson build` says about itself in SLSA v1 provenance: the flags, the prepared context and
 * the build's result gathered into one `ProvenanceInput` (see CAISSON_BUILD_TYPE for the fields),
 * and the in-toto statement whose subjects are the pushed images.
 */
import { createHash, randomUUID } from 'node:crypto';
import { isAbsolute, relative } from 'node:path';
import type { BuildResult, PreparedContext } from '../build/index.js';
import { CaissonError } from '../errors.js';
import { formatPlatform, parseReference, type Digest, type Platform } from '../image/index.js';
import { buildProvenanceStatement, imageSubject, type ContextSource, type ImageDependency, type ProvenanceInput, type SlsaProvenance, type Statement } from '../supplychain/index.js';
import type { CommandContext } from './context.js';
import type { ParsedArgs } from './spec.js';
import { caissonVersion } from './version.js';

/** `--builder-id` when none is given: a build run by hand or by a CI step, not a hosted platform. */
export const DEFAULT_BUILDER_ID = 'https://caisson.dev/builder/cli';

/** The image caisson runs from, `REF@sha256:…`, when its container image sets it (`CAISSON_IMAGE`). */
function ownImage(context: CommandContext): ImageDependency | undefined {
  const text = context.env['CAISSON_IMAGE'];
  if (text === undefined || text === '') return undefined;
  const reference = parseReference(text);
  if (reference.digest === undefined) {
    context.logger.warn(`CAISSON_IMAGE=${text} has no @sha256 digest: caisson's own image is left out of the provenance`);
    return undefined;
  }
  return { reference, digest: reference.digest };
}

function contextSource(prepared: PreparedContext, digest: Digest | undefined): ContextSource {
  if (prepared.git !== undefined) return { kind: 'git', ...prepared.git, ...(prepared.commit === undefined ? {} : { commit: prepared.commit }), ...(digest === undefined ? {} : { digest }) };
  if (digest === undefined) throw new CaissonError({ code: 'ERR_INTERNAL', message: 'provenance: the build did not digest its context' });
  return { kind: 'content', digest };
}

export interface ProvenanceFacts {
  readonly args: ParsedArgs;
  readonly context: CommandContext;
  readonly prepared: PreparedContext;
  /** The Dockerfile's absolute path (or `-`) and its text. */
  readonly dockerfile: { readonly path: string; readonly text: string };
  readonly buildArgs: ReadonlyMap<string, string>;
  /** The target platforms (one image each; several make the index the statement is about). */
  readonly platforms: readonly Platform[];
  readonly result: BuildResult;
  readonly startedOn: Date;
  readonly finishedOn: Date;
}

/** The one description of this build that the provenance predicate is made from. */
export function provenanceInput(facts: ProvenanceFacts): ProvenanceInput {
  const { args, context, prepared, result } = facts;
  const inside = isAbsolute(facts.dockerfile.path) ? relative(prepared.dir, facts.dockerfile.path) : facts.dockerfile.path;
  const dockerfilePath = inside.startsWith('..') || isAbsolute(inside) ? facts.dockerfile.path : inside;
  const builderImage = ownImage(context);
  return {
    dockerfile: { path: dockerfilePath, digest: `sha256:${createHash('sha256').update(facts.dockerfile.text).digest('hex')}` as Digest },
    context: contextSource(prepared, result.contextDigest),
    targets: args.strings('target'),
    buildArgs: Object.fromEntries(facts.buildArgs),
    platforms: facts.platforms.map(formatPlatform),
    images: result.images.map((image) => ({ reference: parseReference(image.name), digest: image.digest })),
    builder: { id: args.string('builder-id') ?? DEFAULT_BUILDER_ID, version: caissonVersion(), ...(builderImage === undefined ? {} : { image: builderImage }) },
    invocationId: args.string('invocation-id') ?? randomUUID(),
    startedOn: facts.startedOn,
    finishedOn: facts.finishedOn,
  };
}

/** The statement: one subject per pushed repository (`registry/repository`), all at the image's digest. */
export function provenanceStatement(options: { readonly input: ProvenanceInput; readonly pushed: readonly string[]; readonly digest: Digest }): Statement<SlsaProvenance> {
  const names = [...new Set(options.pushed.map((name) => {
    const reference = parseReference(name);
    return `${reference.registry}/${reference.repository}`;
  }))];
  const subjects = names.length === 0 ? [imageSubject({ digest: options.digest })] : names.map((name) => imageSubject({ digest: options.digest, name }));
  return buildProvenanceStatement({ subjects, input: options.input });
}
