/**
 * `caisson build [context]`: kaniko's executor. Resolves the flags once into BuildOptions (the
 * only place that reads the environment and files named by flags), runs the build, writes the
 * digest files, and prints `ref@digest` of the image on stdout.
 */
import { readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { buildImage, type BuildOutput } from '../../build/index.js';
import { CaissonError } from '../../errors.js';
import { checkCompressionLevel, defaultCacheDirectory } from '../../fs/index.js';
import { formatReference, hostPlatform, parsePlatform, parseReference, type Compression, type Platform } from '../../image/index.js';
import { RegistrySession } from '../../registry/index.js';
import { BUILD_OPTIONS } from '../build-flags.js';
import { parseBuildArgs } from '../build-args.js';
import type { CommandContext } from '../context.js';
import { readDockerfile } from '../input.js';
import { resolveRegistryOptions } from '../registry-flags.js';
import type { CommandSpec, ParsedArgs } from '../spec.js';

function usage(message: string, hint: string): CaissonError {
  return new CaissonError({ code: 'ERR_USAGE', message, hint });
}

function pairs(flag: string, values: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const value of values) {
    const equals = value.indexOf('=');
    if (equals <= 0) throw usage(`--${flag} "${value}": expected KEY=VALUE`, `e.g. --${flag} org.opencontainers.image.source=https://example.com/repo`);
    map.set(value.slice(0, equals), value.slice(equals + 1));
  }
  return map;
}

function contextDirectory(args: ParsedArgs, context: CommandContext): string {
  const given = args.string('context') ?? args.positional ?? '.';
  if (/^(tar|git|gs|s3|https?):\/\//.test(given)) {
    throw usage(`--context ${given.replace(/\/\/[^@/]*@/, '//')}: only directory contexts are supported by this version`, 'Give a directory (a path or dir://PATH); unpack archives and clone repositories first.');
  }
  const base = resolve(context.cwd, given.startsWith('dir://') ? given.slice('dir://'.length) : given);
  const directory = resolve(base, args.string('context-sub-path') ?? '.');
  if (statSync(directory, { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `build context ${directory}: not a directory`, hint: 'Give the directory holding the files the Dockerfile copies (-c DIR or the last argument).' });
  }
  return directory;
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

function platformFlag(args: ParsedArgs): Platform {
  const text = args.string('custom-platform');
  if (text === undefined) return hostPlatform();
  const parsed = parsePlatform(text);
  if ('error' in parsed) throw usage(`--custom-platform ${text}: ${parsed.error}`, 'write os/arch[/variant], e.g. linux/arm64');
  return parsed;
}

function clampTime(args: ParsedArgs, context: CommandContext): number | undefined {
  if (args.bool('reproducible')) return 0;
  const epoch = context.env['SOURCE_DATE_EPOCH'];
  if (epoch === undefined || epoch === '') return undefined;
  if (!/^\d+$/.test(epoch)) throw usage(`SOURCE_DATE_EPOCH "${epoch}" is not a number of seconds`, 'e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)');
  return Number(epoch);
}

function outputs(args: ParsedArgs, context: CommandContext, destinations: readonly string[]): BuildOutput[] {
  const list: BuildOutput[] = args.bool('no-push') ? [] : destinations.map((reference) => ({ kind: 'registry', reference }));
  const layout = args.string('oci-layout-path');
  // The layout's image is tagged like the first destination (else latest), so umoci and skopeo find it by name.
  const tag = destinations.length === 0 ? 'latest' : parseReference(destinations[0] as string).tag ?? 'latest';
  if (layout !== undefined) list.push({ kind: 'oci', dir: resolve(context.cwd, layout), tag });
  const tar = args.string('tar-path');
  if (tar !== undefined) list.push({ kind: 'docker-archive', path: resolve(context.cwd, tar), names: destinations });
  if (list.length === 0 && !args.bool('no-push')) {
    throw usage('nowhere to put the image', 'Give --destination REF (repeatable), --oci-layout-path DIR or --tar-path FILE; or --no-push to only build.');
  }
  return list;
}

async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const contextDir = contextDirectory(args, context);
  const dockerfileFlag = args.string('dockerfile');
  const absolute = dockerfileFlag === undefined ? resolve(contextDir, 'Dockerfile') : dockerfileFlag === '-' ? '-' : resolve(context.cwd, dockerfileFlag);
  const shown = absolute === '-' ? '-' : relative(context.cwd, absolute);
  const dockerfile = await readDockerfile(context, shown.startsWith('..') ? absolute : shown);
  const destinations = args.strings('destination').map((text) => formatReference(parseReference(text)));
  const compression = args.string('compression') as Compression;
  const levelText = args.string('compression-level');
  const compressionLevel = levelText === undefined ? undefined : Number(levelText);
  checkCompressionLevel({ compression, level: compressionLevel });
  const pushHosts = destinations.map((text) => parseReference(text).registry);
  const registry = new RegistrySession(resolveRegistryOptions({ args, context, roles: { pushHosts, pullHosts: [] }, direction: 'both' }));
  const clamp = clampTime(args, context);
  const started = Date.now();
  try {
    const result = await buildImage({
      dockerfile: { path: dockerfile.file === '<stdin>' ? resolve(contextDir, 'Dockerfile') : resolve(context.cwd, dockerfile.file), text: dockerfile.text },
      contextDir,
      buildArgs: parseBuildArgs(args.strings('build-arg'), context.env),
      secrets: secrets(args, context),
      targets: args.strings('target'),
      platform: platformFlag(args),
      labels: pairs('label', args.strings('label')),
      annotations: pairs('annotation', args.strings('annotation')),
      outputs: outputs(args, context, destinations),
      format: args.string('image-format') as 'oci' | 'docker',
      compression,
      ...(compressionLevel === undefined ? {} : { compressionLevel }),
      ...(clamp === undefined ? {} : { clampTime: clamp }),
      cacheDir: resolve(context.cwd, args.string('cache-dir') ?? defaultCacheDirectory(context.env)),
      registry,
      logger: context.logger,
      ...(context.signal === undefined ? {} : { signal: context.signal }),
    });
    const digestFile = args.string('digest-file');
    if (digestFile !== undefined) await writeFile(resolve(context.cwd, digestFile), result.digest);
    const pushed = args.bool('no-push') ? [] : destinations;
    const withDigest = args.string('image-name-with-digest-file');
    if (withDigest !== undefined) {
      await writeFile(resolve(context.cwd, withDigest), pushed.map((name) => `${formatReference({ ...parseReference(name), tag: undefined })}@${result.digest}\n`).join(''));
    }
    const tagWithDigest = args.string('image-name-tag-with-digest-file');
    if (tagWithDigest !== undefined) await writeFile(resolve(context.cwd, tagWithDigest), pushed.map((name) => `${name}@${result.digest}\n`).join(''));
    context.logger.info(`built ${result.digest} (${result.size} byte manifest) in ${((Date.now() - started) / 1000).toFixed(2)} s`);
    const names = result.outputs.map((output) => output.name);
    context.stdout(names.length === 0 ? `${result.digest}\n` : names.map((name) => `${name}@${result.digest}\n`).join(''));
  } finally {
    await registry.close();
  }
}

export const BUILD_COMMAND: CommandSpec = {
  name: 'build',
  describe: 'Build an image from a Dockerfile and a context, and push it or write it locally',
  positionals: [{ name: 'context', describe: 'the build context directory (or give -c/--context)' }],
  options: BUILD_OPTIONS,
  run,
};
