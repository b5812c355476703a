/**
 * SLSA Provenance v1 (https://slsa.dev/spec/v1.1/provenance; slsa spec/schema/provenance.cue)
 * for a caisson build, built from one typed description of it. Secrets stay out: build-arg
 * values under secret-looking names are replaced, and credentials in URLs are removed.
 */
import { CaissonError } from '../errors.js';
import { digestAlgorithm, digestHex, type Digest, type Reference } from '../image/index.js';
import { redactSecrets } from '../registry/index.js';
import { buildStatement, type ResourceDescriptor, type Statement, type Subject } from './statement.js';
import { formatTimestamp } from './wire.js';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

/**
 * caisson's buildType. Its `externalParameters` (everything a user chose) are:
 * - `dockerfile`: the Dockerfile's path, relative to the context when it lies inside it;
 * - `context`: where the build context came from: `{url, commit?, ref?, subdir?}` for a git
 *   context (the URL without credentials; the commit when it is known), else `{digest}`, the
 *   sha256 caisson computed over the context's files;
 * - `targets`: the `--target` stages, `[]` for the last stage;
 * - `buildArgs`: `--build-arg` names and values, sorted by name; a value whose name looks secret
 *   (matches {@link SECRET_BUILD_ARG}) is {@link REDACTED}, and credentials inside other values
 *   (URL userinfo, `token=…`) are replaced too;
 * - `platforms`: the target platforms, `os/arch[/variant]`.
 * `internalParameters` is not written. `resolvedDependencies` lists the Dockerfile
 * (`name: "dockerfile"`, its sha256), the context (`name: "context"`: `git+<url>[@<ref>]` with
 * `gitCommit`, or the context's sha256), every base and `COPY --from`/`--mount from=` image as
 * `{uri: "oci://<registry>/<repository>", digest: {sha256}}` (Tekton Chains' form for images),
 * and caisson's own image (`name: "caisson"`) when known.
 */
export const CAISSON_BUILD_TYPE = 'https://caisson.dev/build/v1';

/** The replacement for a secret build-arg value. */
export const REDACTED = '[REDACTED]';

/**
 * Build-arg names whose values never appear in provenance: any name containing pass, secret,
 * token, key, credential, auth, private or cookie, in any case (`NPM_TOKEN`, `DB_PASSWORD`,
 * `SSH_PRIVATE_KEY`, `AUTH_HEADER`). Over-redacting (`KEYBOARD`) is preferred to leaking.
 */
export const SECRET_BUILD_ARG = /pass|secret|token|key|credential|auth|private|cookie/i;

/** An image the build read: a base (`FROM`) or a `COPY --from` / `RUN --mount from=` image. */
export interface ImageDependency {
  readonly reference: Pick<Reference, 'registry' | 'repository'>;
  readonly digest: Digest;
}

/** Where the build context came from. */
export type ContextSource =
  | {
      readonly kind: 'git';
      /** The repository URL as given; credentials in it are removed. */
      readonly url: string;
      /** The commit built, when known. */
      readonly commit?: string;
      /** The branch or tag asked for. */
      readonly ref?: string;
      /** The subdirectory used as the context. */
      readonly subdir?: string;
      /** The context's content digest; required when the commit is unknown. */
      readonly digest?: Digest;
    }
  | { readonly kind: 'content'; readonly digest: Digest };

/** Everything the provenance says about one caisson build. */
export interface ProvenanceInput {
  readonly dockerfile: { readonly path: string; readonly digest: Digest };
  readonly context: ContextSource;
  readonly targets: readonly string[];
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly platforms: readonly string[];
  readonly images: readonly ImageDependency[];
  readonly builder: {
    /** `--builder-id`; in Tekton the Task reference. */
    readonly id: string;
    /** caisson's version. */
    readonly version: string;
    /** caisson's own image, when it runs from one and knows its digest. */
    readonly image?: ImageDependency;
  };
  /** The TaskRun UID in Tekton; any unique id elsewhere. */
  readonly invocationId: string;
  readonly startedOn: Date;
  readonly finishedOn: Date;
}

/** The predicate, as spec/schema/provenance.cue names its fields. */
export interface SlsaProvenance {
  readonly buildDefinition: {
    readonly buildType: string;
    readonly externalParameters: Readonly<Record<string, unknown>>;
    readonly internalParameters?: Readonly<Record<string, unknown>>;
    readonly resolvedDependencies: readonly ResourceDescriptor[];
  };
  readonly runDetails: {
    readonly builder: { readonly id: string; readonly version: Readonly<Record<string, string>>; readonly builderDependencies?: readonly ResourceDescriptor[] };
    readonly metadata: { readonly invocationId: string; readonly startedOn: string; readonly finishedOn: string };
    readonly byproducts?: readonly ResourceDescriptor[];
  };
}

/** Build-arg values fit for publication: see {@link SECRET_BUILD_ARG}. Sorted by name. */
export function redactBuildArgs(buildArgs: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(buildArgs)
      .sort()
      .map((name) => [name, SECRET_BUILD_ARG.test(name) ? REDACTED : redactSecrets(buildArgs[name] ?? '')]),
  );
}

/** A URL without its userinfo (`https://user:token@host/x` → `https://host/x`); other text redacted as usual. */
export function withoutCredentials(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      const parsed = new URL(url);
      if (parsed.username !== '' || parsed.password !== '') {
        parsed.username = '';
        parsed.password = '';
        return redactSecrets(parsed.toString());
      }
    } catch {
      // Not a URL Node can parse: the generic redaction below still removes userinfo.
    }
  }
  return redactSecrets(url);
}

function sha256Set(digest: Digest, what: string): { sha256: string } {
  if (digestAlgorithm(digest) !== 'sha256') throw new CaissonError({ code: 'ERR_SIGNING', message: `provenance: ${what} has a ${digestAlgorithm(digest)} digest; SLSA subjects and dependencies here are sha256` });
  return { sha256: digestHex(digest) };
}

function imageDescriptor(image: ImageDependency, name?: string): ResourceDescriptor {
  return { ...(name === undefined ? {} : { name }), uri: `oci://${image.reference.registry}/${image.reference.repository}`, digest: sha256Set(image.digest, `image ${image.reference.repository}`) };
}

function gitUri(url: string, ref: string | undefined): string {
  const clean = withoutCredentials(url);
  const prefixed = /^(https?|ssh|file):\/\//.test(clean) ? `git+${clean}` : clean;
  return ref === undefined ? prefixed : `${prefixed}@${ref}`;
}

function contextParameters(context: ContextSource): Record<string, unknown> {
  if (context.kind === 'content') return { digest: context.digest };
  return {
    url: withoutCredentials(context.url),
    ...(context.commit === undefined ? {} : { commit: context.commit }),
    ...(context.ref === undefined ? {} : { ref: context.ref }),
    ...(context.subdir === undefined ? {} : { subdir: context.subdir }),
    ...(context.commit === undefined && context.digest !== undefined ? { digest: context.digest } : {}),
  };
}

function contextDescriptor(context: ContextSource): ResourceDescriptor {
  if (context.kind === 'content') return { name: 'context', digest: sha256Set(context.digest, 'the context') };
  const uri = gitUri(context.url, context.ref);
  if (context.commit !== undefined) {
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(context.commit)) {
      throw new CaissonError({ code: 'ERR_SIGNING', message: `provenance: the context commit "${context.commit.slice(0, 80)}" is not a full git object id` });
    }
    return { name: 'context', uri, digest: { gitCommit: context.commit } };
  }
  if (context.digest === undefined) {
    throw new CaissonError({ code: 'ERR_SIGNING', message: `provenance: the git context ${uri} has neither a commit nor a content digest` });
  }
  return { name: 'context', uri, digest: sha256Set(context.digest, 'the context') };
}

function checkTime(date: Date, field: string): string {
  if (Number.isNaN(date.getTime())) throw new CaissonError({ code: 'ERR_SIGNING', message: `provenance: ${field} is not a valid time` });
  return formatTimestamp(date);
}

/** The SLSA v1 predicate for a build: see {@link CAISSON_BUILD_TYPE} for what each field holds. */
export function buildProvenance(input: ProvenanceInput): SlsaProvenance {
  if (input.builder.id.trim() === '') {
    throw new CaissonError({ code: 'ERR_SIGNING', message: 'provenance: builder.id is empty', hint: 'Pass --builder-id (in Tekton, the Task reference).' });
  }
  const seen = new Set<string>();
  const images: ResourceDescriptor[] = [];
  for (const image of input.images) {
    const descriptor = imageDescriptor(image);
    const key = `${descriptor.uri} ${image.digest}`;
    if (seen.has(key)) continue;
    seen.add(key);
    images.push(descriptor);
  }
  return {
    buildDefinition: {
      buildType: CAISSON_BUILD_TYPE,
      externalParameters: {
        dockerfile: input.dockerfile.path,
        context: contextParameters(input.context),
        targets: [...input.targets],
        buildArgs: redactBuildArgs(input.buildArgs),
        platforms: [...input.platforms],
      },
      resolvedDependencies: [
        { name: 'dockerfile', digest: sha256Set(input.dockerfile.digest, 'the Dockerfile') },
        contextDescriptor(input.context),
        ...images,
        ...(input.builder.image === undefined ? [] : [imageDescriptor(input.builder.image, 'caisson')]),
      ],
    },
    runDetails: {
      builder: { id: input.builder.id, version: { caisson: input.builder.version } },
      metadata: {
        invocationId: input.invocationId,
        startedOn: checkTime(input.startedOn, 'startedOn'),
        finishedOn: checkTime(input.finishedOn, 'finishedOn'),
      },
    },
  };
}

/** The in-toto Statement v1 whose subjects are the pushed images and whose predicate is {@link buildProvenance}. */
export function buildProvenanceStatement(options: { readonly subjects: readonly Subject[]; readonly input: ProvenanceInput }): Statement<SlsaProvenance> {
  return buildStatement({ subjects: options.subjects, predicateType: SLSA_PROVENANCE_V1, predicate: buildProvenance(options.input) });
}
