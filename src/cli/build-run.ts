/**
 * `caisson build [context]` when it builds (commands/build.ts decides): kaniko's executor. Resolves
 * the flags once into BuildOptions (the only place that reads the environment and files named by
 * flags), runs the build, writes the digest files, and prints `ref@digest` of the image on stdout.
 */
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, relative, resolve } from 'node:path';
import { buildImage, openContextArtifact, parseGitOptions, prepareContext, type BuildOutput, type CacheSettings, type CachedStepKind, type NamedContext, type PreparedContext } from '../build/index.js';
import { CaissonError } from '../errors.js';
import { checkCompressionLevel, type SnapshotMode } from '../fs/index.js';
import type { SandboxMode } from '../exec/index.js';
import { formatPlatform, formatReference, hostPlatform, parsePlatform, parseReference, type Compression, type Digest, type Platform } from '../image/index.js';
import { RegistrySession } from '../registry/index.js';
import { parseBuildArgs } from './build-args.js';
import { resultsTarget, writeDigestOutputs } from './build-outputs.js';
import { cacheTtlMs, type BuildRecorder } from './build-record.js';
import { keyValueFlags } from './key-value-flags.js';
import type { ProvenanceFacts } from './build-provenance.js';
import type { SignedBuild } from './build-signing.js';
import type { Statement } from '../supplychain/index.js';
import type { CommandContext } from './context.js';
import { dockerfileLocation, isDockerfileUrl, readDockerfile } from './input.js';
import { cacheDirectory } from './cache-directory.js';
import { resolveRegistryOptions } from './registry-settings.js';
import { containerKeepPaths } from './container-keep.js';
import { formatSize } from './units.js';
import type { ParsedArgs } from './spec.js';

function usage(message: string, hint: string): CaissonError {
  return new CaissonError({ code: 'ERR_USAGE', message, hint });
}

/** `--label` / `--annotation` values. */
function pairs(flag: string, values: readonly string[]): Map<string, string> {
  return keyValueFlags({ flag, values, hint: `e.g. --${flag} org.opencontainers.image.source=https://example.com/repo` });
}

/**
 * The build context as kaniko's -c/--context names it (a directory, dir://, tar://FILE,
 * tar://stdin, a git URL), made into a directory under a scratch directory that is removed after
 * the build, also when it fails.
 */
async function withContext(args: ParsedArgs, context: CommandContext, build: (prepared: PreparedContext) => Promise<void>): Promise<void> {
  const spec = args.string('context') ?? args.positional ?? '.';
  if (spec === 'tar://stdin' && args.string('dockerfile') === '-') {
    throw usage('--context tar://stdin and --dockerfile - both read standard input', 'Put the Dockerfile in the archive (-f PATH inside it), or give the context another way.');
  }
  const scratch = await mkdtemp(join(tmpdir(), 'caisson-context-')).catch((error: unknown) => {
    throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `cannot make a temporary directory in ${tmpdir()}: ${(error as Error).message}`, hint: 'Point TMPDIR at a directory this user can write.', cause: error });
  });
  try {
    const subPath = args.string('context-sub-path');
    const git = args.string('git');
    const prepared = await prepareContext({
      spec,
      cwd: context.cwd,
      scratch,
      stdin: async () => {
        if (context.readStdinBytes === undefined) throw usage('--context tar://stdin: this caisson cannot read binary standard input', 'Give tar://FILE instead.');
        const bytes = await context.readStdinBytes();
        return (async function* () {
          yield bytes;
        })();
      },
      // oci:// (what caisson submit pushes): read with this command's registry flags, --insecure-pull and friends.
      openArtifact: async (reference) => {
        const registry = new RegistrySession(resolveRegistryOptions({ args, context, roles: { pushHosts: [], pullHosts: [reference.registry] } }));
        const layer = await openContextArtifact({ registry, reference }).catch(async (error: unknown) => {
          await registry.close();
          throw error;
        });
        return (async function* () {
          try {
            yield* layer;
          } finally {
            await registry.close();
          }
        })();
      },
      ...(subPath === undefined ? {} : { subPath }),
      ...(git === undefined ? {} : { git: parseGitOptions(git) }),
      env: context.env,
      logger: context.logger,
      ...(context.signal === undefined ? {} : { signal: context.signal }),
    });
    context.logger.info(`context: ${prepared.description}`);
    try {
      await build(prepared);
    } finally {
      await prepared.cleanup();
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** `--secret id=ID[,src=FILE|env=VAR]`; a bare id reads the environment variable of that name. */
function secrets(args: ParsedArgs, context: CommandContext): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (const value of args.strings('secret')) {
    const fields = new Map(value.split(',').map((field) => [field.slice(0, Math.max(0, field.indexOf('='))), field.slice(field.indexOf('=') + 1)] as const));
    const id = fields.get('id');
    if (id === undefined || id === '') throw usage('--secret needs id=NAME', 'e.g. --secret id=npmrc,src=$HOME/.npmrc or --secret id=TOKEN,env=TOKEN');
    const src = fields.get('src') ?? fields.get('source');
    if (src !== undefined) {
      try {
        map.set(id, readFileSync(resolve(context.cwd, src)));
      } catch {
        throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `--secret id=${id}: cannot read ${src}`, hint: 'Give a readable file with src=, or env=VAR.' });
      }
      continue;
    }
    const name = fields.get('env') ?? id;
    const text = context.env[name];
    if (text === undefined) throw usage(`--secret id=${id}: the environment has no ${name}`, `Export ${name}, or give src=FILE.`);
    map.set(id, Buffer.from(text));
  }
  return map;
}

/** `--build-context name=DIR` or `name=docker-image://REF` (BuildKit's forms). */
function namedContexts(args: ParsedArgs, context: CommandContext): Map<string, NamedContext> {
  const map = new Map<string, NamedContext>();
  for (const [name, value] of pairs('build-context', args.strings('build-context'))) {
    if (value.startsWith('docker-image://')) {
      map.set(name, { kind: 'image', reference: formatReference(parseReference(value.slice('docker-image://'.length))) });
      continue;
    }
    const dir = resolve(context.cwd, value.startsWith('dir://') ? value.slice('dir://'.length) : value);
    if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) {
      throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `--build-context ${name}=${value}: ${dir} is not a directory`, hint: 'Give a directory, or docker-image://REF for an image.' });
    }
    map.set(name, { kind: 'directory', dir });
  }
  return map;
}

/**
 * `--custom-platform` / `--platform`: one platform (kaniko's flag), or a comma-separated list as
 * BuildKit takes it (`linux/amd64,linux/arm64`), which builds one image per platform and writes
 * their index. Each is normalised (aarch64 → arm64) and given once.
 */
function platformsFlag(args: ParsedArgs): Platform[] {
  const text = args.string('custom-platform');
  if (text === undefined) return [hostPlatform()];
  const platforms = new Map<string, Platform>();
  for (const item of text.split(',').map((part) => part.trim())) {
    if (item === '') throw usage(`--platform ${text}: an empty platform in the list`, 'write os/arch[/variant] separated by commas, e.g. linux/amd64,linux/arm64');
    const parsed = parsePlatform(item);
    if ('error' in parsed) throw usage(`--platform ${parsed.error}`, 'write os/arch[/variant], e.g. linux/arm64, or a comma-separated list: linux/amd64,linux/arm64');
    const key = formatPlatform(parsed);
    if (platforms.has(key)) throw usage(`--platform ${text}: ${key} is given twice`, 'name each platform once.');
    platforms.set(key, parsed);
  }
  return [...platforms.values()];
}

function clampTime(args: ParsedArgs, context: CommandContext): number | undefined {
  if (args.bool('reproducible')) return 0;
  const epoch = context.env['SOURCE_DATE_EPOCH'];
  if (epoch === undefined || epoch === '') return undefined;
  if (!/^\d+$/.test(epoch)) throw usage(`SOURCE_DATE_EPOCH "${epoch}" is not a number of seconds`, 'e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)');
  return Number(epoch);
}

/** --ignore-path values: absolute and clean; `/` would leave nothing to build. */
function ignorePaths(args: ParsedArgs): string[] {
  return args.strings('ignore-path').map((text) => {
    const path = posix.resolve('/', text);
    if (!text.startsWith('/') || path === '/') throw usage(`--ignore-path ${text}: give an absolute path other than /`, 'e.g. --ignore-path /var/cache/apt');
    return path;
  });
}

/** `--cache-repo`, else `<first destination's repository>/cache` (kaniko's rule); undefined without --cache. */
function cacheRepository(args: ParsedArgs, context: CommandContext, destinations: readonly string[]): string | undefined {
  const given = args.string('cache-repo');
  if (!args.bool('cache')) return undefined;
  if (given !== undefined) {
    if (given.startsWith('oci:')) {
      if (given === 'oci:') throw usage('--cache-repo oci: needs a directory', 'e.g. --cache-repo oci:/cache/layout');
      return `oci:${resolve(context.cwd, given.slice('oci:'.length))}`;
    }
    // docker://, as the log names cache repositories (and as copy takes them), is accepted too.
    const text = given.startsWith('docker://') ? given.slice('docker://'.length) : given;
    let reference: ReturnType<typeof parseReference>;
    try {
      reference = parseReference(text);
    } catch (error) {
      throw usage(`--cache-repo ${given}: ${error instanceof Error ? error.message : String(error)}`, 'Give a repository, e.g. --cache-repo registry.example.com/app/cache, or oci:DIR');
    }
    if (reference.digest !== undefined || text.slice(text.lastIndexOf('/')).includes(':')) throw usage(`--cache-repo ${given}: give a repository, without a tag or digest`, 'Each cache entry is tagged with its key, e.g. --cache-repo registry.example.com/app/cache');
    return `${reference.registry}/${reference.repository}`;
  }
  const first = destinations[0];
  if (first === undefined) throw usage('--cache needs a cache repository', 'Give --cache-repo REF (or oci:DIR), or a --destination: its repository + /cache is used.');
  const reference = parseReference(first);
  return `${reference.registry}/${reference.repository}/cache`;
}

function cacheSettings(args: ParsedArgs, context: CommandContext, destinations: readonly string[]): CacheSettings {
  const kinds = new Set<CachedStepKind>([...(args.bool('cache-run-layers') ? ['run' as const] : []), ...(args.bool('cache-copy-layers') ? ['copy' as const, 'add' as const] : [])]);
  const settings: CacheSettings = { lookup: !args.bool('no-cache'), ttlMs: cacheTtlMs(args), explain: args.bool('cache-explain'), kinds };
  const reference = cacheRepository(args, context, destinations);
  if (reference === undefined) {
    if (args.string('cache-repo') !== undefined) context.logger.warn('--cache-repo is ignored without --cache (as in kaniko): only the local cache is used');
    return settings;
  }
  return { ...settings, repository: { reference, push: !args.bool('no-push-cache') } };
}

function outputs(args: ParsedArgs, context: CommandContext, destinations: readonly string[], platforms: readonly Platform[]): BuildOutput[] {
  const list: BuildOutput[] = args.bool('no-push') ? [] : destinations.map((reference) => ({ kind: 'registry', reference }));
  const layout = args.string('oci-layout-path');
  // The layout's image is tagged like the first destination (else latest), so umoci and skopeo find it by name.
  const tag = destinations.length === 0 ? 'latest' : parseReference(destinations[0] as string).tag ?? 'latest';
  if (layout !== undefined) list.push({ kind: 'oci', dir: resolve(context.cwd, layout), tag });
  const tar = args.string('tar-path');
  if (tar !== undefined && platforms.length > 1) {
    throw usage(
      `--tar-path writes a docker-archive, which holds one image, and --platform asks for ${platforms.length} (${platforms.map(formatPlatform).join(', ')})`,
      'Write the index with --oci-layout-path DIR (or push it), or build one platform per --tar-path.',
    );
  }
  if (tar !== undefined) list.push({ kind: 'docker-archive', path: resolve(context.cwd, tar), names: destinations });
  if (list.length === 0 && !args.bool('no-push')) {
    throw usage('nowhere to put the image', 'Give --destination REF (repeatable), --oci-layout-path DIR or --tar-path FILE; or --no-push to only build.');
  }
  return list;
}

/** The build's provenance statement and its bytes (the supply-chain modules load only here). */
async function provenanceOf(facts: ProvenanceFacts, pushed: readonly string[]): Promise<{ readonly statement: Statement; readonly bytes: Buffer }> {
  const [{ provenanceInput, provenanceStatement }, { serializeStatement }] = await Promise.all([import('./build-provenance.js'), import('../supplychain/index.js')]);
  const statement = provenanceStatement({ input: provenanceInput(facts), pushed, digest: facts.result.digest as Digest });
  return { statement, bytes: serializeStatement(statement) };
}

/** Runs the build `args` ask for in `sandbox`, telling `recorder` (when there is one) what it reads, and filing its record once it succeeded. */
export async function runBuild(options: { readonly args: ParsedArgs; readonly context: CommandContext; readonly sandbox: SandboxMode; readonly recorder?: BuildRecorder }): Promise<void> {
  const { args, context, recorder } = options;
  await withContext(args, context, (prepared) => {
    // Unpacked or cloned anew each time: its paths tell nothing of the next build's.
    if (prepared.temporary) recorder?.journal.unrecordable(`the context ${prepared.description} is made anew for each build`);
    return buildIn({ ...options, prepared });
  });
}

async function buildIn(options: { readonly args: ParsedArgs; readonly context: CommandContext; readonly prepared: PreparedContext; readonly sandbox: SandboxMode; readonly recorder?: BuildRecorder }): Promise<void> {
  const { args, context, prepared, sandbox, recorder } = options;
  const journal = recorder?.journal;
  const contextDir = prepared.dir;
  const flag = args.string('dockerfile');
  const absolute = dockerfileLocation({ flag, cwd: context.cwd, contextDir });
  const remote = isDockerfileUrl(absolute);
  const shown = absolute === '-' || remote ? absolute : relative(context.cwd, absolute);
  const dockerfile = await readDockerfile(context, shown.startsWith('..') ? absolute : shown);
  if (journal !== undefined && absolute !== '-' && !remote) {
    journal.file(absolute, dockerfile.text);
    // -f found in the context: because there is none of that name in the working directory.
    if (flag !== undefined && absolute !== resolve(context.cwd, flag)) journal.read(resolve(context.cwd, flag));
  }
  const destinations = args.strings('destination').map((text) => formatReference(parseReference(text)));
  const compression = args.string('compression') as Compression;
  const levelText = args.string('compression-level');
  const compressionLevel = levelText === undefined ? undefined : Number(levelText);
  checkCompressionLevel({ compression, level: compressionLevel });
  const cache = cacheSettings(args, context, destinations);
  const cacheRepo = cache.repository?.reference;
  const pushHosts = [...destinations, ...(cacheRepo === undefined || cacheRepo.startsWith('oci:') ? [] : [cacheRepo])].map((text) => parseReference(text).registry);
  const registry = new RegistrySession(resolveRegistryOptions({ args, context, roles: { pushHosts, pullHosts: [] } }));
  const clamp = clampTime(args, context);
  const provenanceFile = args.string('provenance-file');
  const wantsProvenance = args.bool('provenance') || provenanceFile !== undefined;
  const buildArgs = parseBuildArgs([...args.strings('build-arg'), ...args.rest], context.env);
  const platforms = platformsFlag(args);
  // From standard input or a URL: .dockerignore is the context's own.
  const dockerfileAt = dockerfile.file === '<stdin>' || remote ? resolve(contextDir, 'Dockerfile') : resolve(context.cwd, dockerfile.file);
  const pushed = args.bool('no-push') ? [] : destinations;
  // The supply-chain modules load only for builds that sign or attest: a plain build starts faster.
  const signingModule = args.bool('sign') || args.bool('provenance') ? await import('./build-signing.js') : undefined;
  const signing = await signingModule?.buildSigning({ args, context, pushed });
  const results = await resultsTarget({ args, context, pushed, sign: signing?.sign ?? false, attest: signing?.attest ?? false, provenance: wantsProvenance });
  const startedOn = new Date();
  const started = startedOn.getTime();
  try {
    const result = await buildImage({
      dockerfile: { path: dockerfileAt, text: dockerfile.text, name: dockerfile.file },
      contextDir,
      contextTemporary: prepared.temporary,
      buildArgs,
      secrets: secrets(args, context),
      namedContexts: namedContexts(args, context),
      targets: args.strings('target'),
      platforms,
      labels: pairs('label', args.strings('label')),
      annotations: pairs('annotation', args.strings('annotation')),
      outputs: outputs(args, context, destinations, platforms),
      format: args.string('image-format') as 'oci' | 'docker',
      compression,
      ...(compressionLevel === undefined ? {} : { compressionLevel }),
      ...(clamp === undefined ? {} : { clampTime: clamp }),
      ignorePaths: ignorePaths(args),
      sandbox,
      snapshotMode: args.string('snapshot-mode') as SnapshotMode,
      ...(sandbox === 'container' ? { keepPaths: containerKeepPaths(args, context) } : {}),
      singleSnapshot: args.bool('single-snapshot'),
      cacheDir: cacheDirectory(args, context),
      cache,
      registry,
      logger: context.logger,
      ...(context.signal === undefined ? {} : { signal: context.signal }),
      ...(wantsProvenance ? { digestContext: true } : {}),
      ...(journal === undefined ? {} : { journal }),
    });
    let provenance: Awaited<ReturnType<typeof provenanceOf>> | undefined;
    if (wantsProvenance) {
      provenance = await provenanceOf({ args, context, prepared, dockerfile: { path: remote ? dockerfile.file : dockerfileAt, text: dockerfile.text }, buildArgs, platforms, result, startedOn, finishedOn: new Date() }, pushed);
      if (provenanceFile !== undefined) await writeFile(resolve(context.cwd, provenanceFile), provenance.bytes);
    }
    let signed: SignedBuild = { signatures: [], attestations: [] };
    if (signing !== undefined && signingModule !== undefined) {
      signed = await signingModule.signBuild({ setup: signing, registry, pushed, image: { digest: result.digest as Digest, mediaType: result.mediaType, size: result.size }, statement: provenance?.statement, logger: context.logger });
    }
    await writeDigestOutputs({ args, context, pushed, digest: result.digest, results, signed, ...(provenance === undefined ? {} : { provenance: provenance.bytes }) });
    await recorder?.save({ digest: result.digest, manifests: result.platforms.length === 1 ? [] : result.platforms.map((built) => built.digest) });
    const what = result.platforms.length === 1 ? '' : `an index of ${result.platforms.length} images (${result.platforms.map((built) => `${formatPlatform(built.platform)} ${built.digest}`).join(', ')}), `;
    context.logger.info(
      `built ${result.digest}: ${what}${result.layers} layer(s), ${formatSize(result.imageBytes)}, in ${((Date.now() - started) / 1000).toFixed(2)} s (stages ${result.phases.build.toFixed(2)} s, outputs ${result.phases.write.toFixed(2)} s)`,
    );
    const names = result.outputs.map((output) => output.name);
    context.stdout(names.length === 0 ? `${result.digest}\n` : names.map((name) => `${name}@${result.digest}\n`).join(''));
  } finally {
    await registry.close();
  }
}
