/**
 * `caisson build`'s build record (cache/build-record.ts). A build is filed under its request:
 * caisson's version, the machine's architecture, the working directory, every option and
 * argument but the log's, and the environment variables the build reads (SOURCE_DATE_EPOCH, those
 * a bare --build-arg NAME takes). Not the uid: a rootless build re-runs itself as uid 0 of a user
 * namespace, and its record must answer the next build before that. A rebuild of the same request
 * whose record shows nothing changed (every file it read whole reads the same, every other path
 * stamps the same, every tag resolves to the same digest, every destination holds the image and
 * an index's images: manifest HEADs) is answered from the record: the digest files and results
 * are written, the image is printed, and nothing is planned, keyed or pushed. Otherwise the build
 * runs, tells the record's journal what it reads, and files a new record when it succeeds.
 *
 * Builds that ask for something a record cannot give have none: --no-cache, --cache-explain,
 * --no-push, --sign, --provenance, a local output (--oci-layout-path, --tar-path), a Dockerfile
 * from standard input or a URL, or no --destination.
 */
import { BuildJournal, buildRecordName, changedFile, readBuildRecord, stampPaths, writeBuildRecord, type BuildRecord } from '../cache/index.js';
import { formatReference, parseReference, referenceIdentifier } from '../image/index.js';
import { RegistrySession } from '../registry/index.js';
import { resultsTarget, writeDigestOutputs } from './build-outputs.js';
import { cacheDirectory } from './cache-directory.js';
import type { CommandContext } from './context.js';
import { isDockerfileUrl } from './input.js';
import { resolveRegistryOptions } from './registry-settings.js';
import type { ParsedArgs } from './spec.js';
import { parseDuration } from './units.js';
import { caissonVersion } from './version.js';

/** Flags that ask for what a record cannot give: a build or a new signature each time, an explanation, a local output. */
const REFUSING_SWITCHES = ['no-cache', 'cache-explain', 'no-push', 'sign', 'provenance'];
const REFUSING_VALUES = ['provenance-file', 'oci-layout-path', 'tar-path'];
/** Options that change only what the log looks like. */
const LOG_OPTIONS = ['verbosity', 'log-format'];

/** `--cache-ttl` in ms: how long cache entries are used, and so the records resting on them. */
export function cacheTtlMs(args: ParsedArgs): number {
  return parseDuration({ flag: '--cache-ttl', text: args.string('cache-ttl') ?? '336h' });
}

/** What a build of `args` is filed under (JSON). */
function buildRequest(args: ParsedArgs, context: CommandContext): string {
  const bareArgs = [...args.strings('build-arg'), ...args.rest].filter((word) => !word.includes('='));
  const env = Object.fromEntries(['SOURCE_DATE_EPOCH', ...bareArgs].map((name) => [name, context.env[name] ?? null]));
  const request = { version: caissonVersion(), arch: process.arch, cwd: context.cwd, options: args.entries().filter(([name]) => !LOG_OPTIONS.includes(name)), positionals: args.positionals, rest: args.rest, env };
  return JSON.stringify(request);
}

export class BuildRecorder {
  /** Told by the build what it reads; the record is made from it. */
  readonly journal: BuildJournal;
  readonly #args: ParsedArgs;
  readonly #context: CommandContext;
  readonly #cacheDir: string;
  readonly #request: string;
  /** The record's name, for the log. */
  readonly #name: string;
  /** The destinations, as the build names them. */
  readonly #destinations: readonly string[];

  private constructor(options: { readonly args: ParsedArgs; readonly context: CommandContext; readonly destinations: readonly string[] }) {
    this.journal = new BuildJournal({ since: Date.now() });
    this.#args = options.args;
    this.#context = options.context;
    this.#destinations = options.destinations;
    this.#cacheDir = cacheDirectory(options.args, options.context);
    this.#request = buildRequest(options.args, options.context);
    this.#name = buildRecordName(this.#request);
  }

  /** The recorder of a build of `args`; undefined when the flags ask for what a record cannot give (or cannot be read: the build says why). */
  static open(options: { readonly args: ParsedArgs; readonly context: CommandContext }): BuildRecorder | undefined {
    const { args } = options;
    if (REFUSING_SWITCHES.some((name) => args.bool(name)) || REFUSING_VALUES.some((name) => args.string(name) !== undefined)) return undefined;
    const dockerfile = args.string('dockerfile');
    if (dockerfile === '-' || (dockerfile !== undefined && isDockerfileUrl(dockerfile))) return undefined;
    try {
      const destinations = args.strings('destination').map((text) => formatReference(parseReference(text)));
      return destinations.length === 0 ? undefined : new BuildRecorder({ ...options, destinations });
    } catch {
      return undefined;
    }
  }

  /**
   * Answers the build from its record when nothing it read changed: writes the digest files and
   * Tekton results, prints the image, and returns true. False when there is no record, or
   * something changed (or could not be asked): then the build runs.
   */
  async replay(): Promise<boolean> {
    const args = this.#args;
    const { logger } = this.#context;
    const record = await readBuildRecord({ cacheDir: this.#cacheDir, request: this.#request, ttlMs: cacheTtlMs(args), now: Date.now(), logger });
    if (record === undefined) return false;
    const changed = await this.#changed(record);
    if (changed !== undefined) {
      logger.debug(`build record ${this.#name}: ${changed}; the build runs`);
      return false;
    }
    const pushed = this.#destinations;
    const results = await resultsTarget({ args, context: this.#context, pushed, sign: false, attest: false, provenance: false });
    await writeDigestOutputs({ args, context: this.#context, pushed, digest: record.digest, results });
    const images = record.images.length === 0 ? 'no image tag' : record.images.length === 1 ? 'the image tag' : `the ${record.images.length} image tags`;
    const where = pushed.length === 1 ? 'the destination' : `the ${pushed.length} destinations`;
    logger.info(`no change since the build of ${record.created} (build record ${this.#name}): the ${record.files.length + record.paths.length} files and paths it read, ${images} and ${where} are as it left them; nothing built or pushed (--no-cache builds anyway)`);
    this.#context.stdout(pushed.map((name) => `${name}@${record.digest}\n`).join(''));
    return true;
  }

  /** What differs from `record` now (the first thing found), or undefined when nothing does. */
  async #changed(record: BuildRecord): Promise<string | undefined> {
    const pushHosts = this.#destinations.map((name) => parseReference(name).registry);
    const registry = new RegistrySession(resolveRegistryOptions({ args: this.#args, context: this.#context, roles: { pushHosts, pullHosts: [] } }));
    try {
      // The registries answer (manifest HEADs: the digests, not the manifests) while the paths are stamped.
      const asked = Promise.all([
        ...record.images.map(async (image) => {
          const root = await registry.head({ reference: parseReference(image.reference) });
          return root?.digest === image.digest ? undefined : `${image.reference} is now ${root?.digest ?? 'gone'}`;
        }),
        ...this.#destinations.map(async (name) => {
          const reference = parseReference(name);
          const repository = registry.repository(reference);
          const root = await repository.head(referenceIdentifier(reference));
          if (root?.digest !== record.digest) return `${name} is now ${root?.digest ?? 'gone'}`;
          // An index's images: one deleted from the repository makes the index unpullable there.
          for (const manifest of record.manifests) if ((await repository.head(manifest)) === undefined) return `${name}'s image ${manifest} is gone`;
          return undefined;
        }),
      ]).catch((error: unknown) => `a registry could not tell (${error instanceof Error ? error.message : String(error)})`);
      const file = changedFile(record.files);
      const stamped = file !== undefined ? `${file} changed` : (await stampPaths({ paths: record.paths })) === record.stamps ? undefined : 'a path it read changed';
      const answers = await asked;
      return stamped ?? (typeof answers === 'string' ? answers : answers.find((answer) => answer !== undefined));
    } finally {
      await registry.close();
    }
  }

  /**
   * Files the record of the build that made `digest` (for an index, of the images `manifests`),
   * unless the journal says it cannot vouch for it.
   */
  async save(options: { readonly digest: string; readonly manifests: readonly string[] }): Promise<void> {
    const { logger } = this.#context;
    const { journal } = this;
    if (journal.reason !== undefined) {
      logger.debug(`no build record: ${journal.reason}`);
      return;
    }
    const paths = journal.paths;
    const stamps = await stampPaths({ paths, since: journal.since });
    if (stamps === undefined) {
      logger.info('no build record: a file the build read changed while it ran (or just before); the next build makes one');
      return;
    }
    const record = { created: new Date(journal.since).toISOString(), oldest: new Date(journal.oldest).toISOString(), digest: options.digest, manifests: options.manifests, files: journal.files, paths, stamps, images: journal.images };
    await writeBuildRecord({ cacheDir: this.#cacheDir, request: this.#request, record }).catch((error: unknown) => {
      logger.warn(`cannot write the build record in ${this.#cacheDir} (${error instanceof Error ? error.message : String(error)}); the next build runs in full`);
    });
  }
}
