/**
 * `caisson warm -i REF... | -d Dockerfile`: kaniko's warmer. Pulls base images (given with
 * --image, or every stage's FROM image of a Dockerfile) for the platform into the layer store of
 * the cache directory — blobs, and each layer extracted once — so a later `caisson build
 * --cache-dir DIR` neither downloads nor extracts them. Prints `REF@DIGEST` per image; an image
 * warmed within --cache-ttl is not fetched again unless --force (a tag is still resolved: it may
 * have moved). As kaniko's warmer, an image that cannot be warmed is warned about (naming it, and
 * its FROM line) and the others are still warmed; the command fails only when none was.
 */
import { basePlatformMismatch, warmImage, type WarmedImage, type WarmImageOptions } from '../../build/index.js';
import { loadDockerfile, planBuild } from '../../dockerfile/index.js';
import { CaissonError, formatLocation, type SourceLocation } from '../../errors.js';
import { LayerStore } from '../../fs/index.js';
import { formatPlatform, parseReference, type Platform } from '../../image/index.js';
import { RegistrySession } from '../../registry/index.js';
import { parseBuildArgs } from '../build-args.js';
import { cacheDirectory } from '../cache-directory.js';
import { DEFAULT_MAX_AGE } from '../command-specs.js';
import type { CommandContext } from '../context.js';
import { readDockerfile } from '../input.js';
import { resolveRegistryOptions } from '../registry-settings.js';
import type { ParsedArgs } from '../spec.js';
import { formatSize, parseDuration } from '../units.js';
import { platformFlag } from './inspect.js';

interface WarmTarget {
  readonly reference: string;
  readonly platform: Platform;
  readonly location?: SourceLocation;
}

/** Every stage's FROM image (not stages, scratch or named contexts), with the stage's platform. */
async function dockerfileImages(options: { readonly args: ParsedArgs; readonly context: CommandContext; readonly path: string; readonly platform: Platform }): Promise<WarmTarget[]> {
  const { file, text } = await readDockerfile(options.context, options.path);
  const plan = planBuild({
    dockerfile: loadDockerfile({ text, file }),
    buildArgs: parseBuildArgs(options.args.strings('build-arg'), options.context.env),
    targetPlatform: options.platform,
  });
  return plan.stages.flatMap((planned) =>
    planned.base.kind === 'image' ? [{ reference: planned.base.reference, platform: planned.platform ?? plan.targetPlatform, location: planned.stage.from.location }] : [],
  );
}

/** One line per image: what was fetched, or that it was already warm; and a warning when it is for another platform. */
function logWarmed(options: { readonly context: CommandContext; readonly target: WarmTarget; readonly warmed: WarmedImage; readonly ttlText: string }): void {
  const { context, target, warmed } = options;
  // A single image of another platform: warmed as it is, a build on it warns the same.
  const mismatch = basePlatformMismatch({ image: warmed.pinned, wanted: target.platform, found: warmed.platform });
  if (mismatch !== undefined) context.logger.warn(`${target.location === undefined ? '' : `${formatLocation(target.location)}: `}${mismatch} (InvalidBaseImagePlatform): warmed as it is`);
  const what = `${warmed.pinned} (${formatPlatform(warmed.platform)}${warmed.image === warmed.digest ? '' : `, image ${warmed.image}`})`;
  if (warmed.fresh) {
    const age = Math.round((Date.now() - (warmed.warmedAt ?? Date.now())) / 1000);
    context.logger.info(`${what}: already warm (warmed ${age} s ago, within --cache-ttl ${options.ttlText}): nothing fetched`);
    return;
  }
  const { fetched, present, extracted } = warmed.layers;
  const moved = warmed.moved === undefined ? '' : `the tag moved (it named ${warmed.moved} when last warmed); `;
  context.logger.info(
    `warmed ${what}: ${moved}layers: ${fetched} fetched, ${present} already present, ${extracted} extracted, ${formatSize(warmed.bytes)} in ${(warmed.milliseconds / 1000).toFixed(1)} s`,
  );
}

/** The image warmed, or the CaissonError that stopped it; anything else is a bug, thrown. */
async function tryWarm(options: WarmImageOptions): Promise<WarmedImage | CaissonError> {
  try {
    return await warmImage(options);
  } catch (error) {
    if (error instanceof CaissonError) return error;
    throw error;
  }
}

/** What the command fails with when no image was warmed: a lone image's error, or the first of `count` counted. */
function noneWarmed(options: { readonly first: CaissonError; readonly count: number }): CaissonError {
  const { first } = options;
  if (options.count === 1) return first;
  return new CaissonError({
    code: first.code,
    message: `none of the ${options.count} images could be warmed (each is warned above); the first: ${first.detail}`,
    cause: first,
    ...(first.hint === undefined ? {} : { hint: first.hint }),
  });
}

export async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const dockerfile = args.string('dockerfile');
  if (args.strings('image').length === 0 && dockerfile === undefined) {
    throw new CaissonError({ code: 'ERR_USAGE', message: 'caisson warm needs images: give --image REF (repeatable) or --dockerfile PATH', hint: 'e.g. caisson warm --image alpine:3.20 --cache-dir /cache' });
  }
  const platform = platformFlag(args.string('custom-platform'));
  const ttlText = args.string('cache-ttl') ?? DEFAULT_MAX_AGE;
  const ttlMs = parseDuration({ flag: '--cache-ttl', text: ttlText });
  const store = new LayerStore({ root: cacheDirectory(args, context) });
  const given: WarmTarget[] = [
    ...args.strings('image').map((reference) => ({ reference, platform })),
    ...(dockerfile === undefined ? [] : await dockerfileImages({ args, context, path: dockerfile, platform })),
  ];
  const seen = new Set<string>();
  const targets = given.filter((target) => {
    const key = `${target.reference} ${formatPlatform(target.platform)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (targets.length === 0) context.logger.warn(`${dockerfile}: no stage is FROM an image (only scratch and other stages): nothing to warm`);
  const pullHosts = targets.flatMap((target) => {
    try {
      return [parseReference(target.reference).registry];
    } catch {
      return []; // warmImage reports it, naming the reference.
    }
  });
  const registry = new RegistrySession(resolveRegistryOptions({ args, context, roles: { pushHosts: [], pullHosts } }));
  const failures: CaissonError[] = [];
  try {
    for (const target of targets) {
      const warmed = await tryWarm({ store, registry, ...target, force: args.bool('force'), ttlMs });
      if (warmed instanceof CaissonError) {
        failures.push(warmed);
        // A lone image's failure is the command's error, printed once below.
        if (targets.length > 1) context.logger.warn(`${warmed.detail} [${warmed.code}]: not warmed, skipped`, { code: warmed.code, reference: target.reference });
        continue;
      }
      logWarmed({ context, target, warmed, ttlText });
      context.stdout(`${warmed.pinned}\n`);
    }
  } finally {
    await registry.close();
  }
  const [first] = failures;
  if (first !== undefined && failures.length === targets.length) throw noneWarmed({ first, count: failures.length });
}
