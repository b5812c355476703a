/**
 * One build: the Dockerfile planned for each platform and the targets, the needed stages built
 * (each once, independent ones concurrently, each waiting only for the stages it reads; a stage
 * whose inputs are the same for several platforms once for all of them), each platform's target
 * assembled into an image with the --label flags applied, and the image — or, for several
 * platforms, the index of their images — written to every output.
 */
import { CaissonError } from '../errors.js';
import { loadDockerfile, planBuild, type BuildPlan, type PlannedStage } from '../dockerfile/index.js';
import {
  buildImageIndex, copyImage, DockerArchiveWriter, formatPlatform, formatReference, IndexSource, OciLayout, parseReference, sha256,
  type Descriptor, type Digest, type ImageSource, type ImageTarget, type Platform,
} from '../image/index.js';
import type { RegistryRepository } from '../registry/index.js';
import { BuildSession } from './build-session.js';
import { BuiltImage } from './built-image.js';
import { CacheRepairs } from './cache-repairs.js';
import { ContextTree, readContextIgnore } from './context-tree.js';
import type { BuildOptions, BuildOutput, BuildResult, BuiltOutput } from './options.js';
import { squashAddedLayers } from './single-snapshot.js';
import { contextSourceDigest } from './source-digest.js';
import { runStage } from './stage-runner.js';
import { forkState, type StageState } from './stage-state.js';

/**
 * Each registry destination's repository, asked at once (while the stages build) for the image
 * its tag names now: a rebuild shares most blobs with it, and those need no request at push time.
 */
function prepareDestinations(build: BuildOptions): Map<BuildOutput, Promise<RegistryRepository>> {
  const prepared = new Map<BuildOutput, Promise<RegistryRepository>>();
  for (const output of build.outputs) {
    if (output.kind !== 'registry') continue;
    const reference = parseReference(output.reference);
    const repository = build.registry.repository(reference);
    prepared.set(output, reference.tag === undefined ? Promise.resolve(repository) : repository.present(reference.tag).then(() => repository));
  }
  return prepared;
}

async function openOutput(options: { readonly output: BuildOutput; readonly build: BuildOptions; readonly destinations: Map<BuildOutput, Promise<RegistryRepository>> }): Promise<{ target: ImageTarget; tags: string[]; name: string; abort: () => Promise<void> }> {
  const { output } = options;
  const nothing = async (): Promise<void> => undefined;
  switch (output.kind) {
    case 'registry': {
      const reference = parseReference(output.reference);
      const target = (await options.destinations.get(output)) ?? options.build.registry.repository(reference);
      return { target, tags: reference.tag === undefined && reference.digest !== undefined ? [] : [reference.tag ?? 'latest'], name: formatReference(reference), abort: nothing };
    }
    case 'oci':
      return { target: await OciLayout.openOrCreate(output.dir), tags: output.tag === undefined ? [] : [output.tag], name: `oci:${output.dir}${output.tag === undefined ? '' : `:${output.tag}`}`, abort: nothing };
    case 'docker-archive': {
      const writer = new DockerArchiveWriter({ path: output.path });
      return { target: writer, tags: output.names.map((name) => formatReference(parseReference(name))), name: `docker-archive:${output.path}`, abort: () => writer.abort() };
    }
  }
}

/**
 * What a stage's result depends on beyond the Dockerfile, the context and the build args (the
 * same for every platform): its platform, its base's name, the global ARG values its text names
 * (TARGETARCH, a meta ARG, …), and the identities of the stages it reads. Two platforms' plans
 * giving a stage the same identity build it once (a `FROM --platform=$BUILDPLATFORM` stage that
 * does not use TARGET* ARGs); otherwise each platform builds its own.
 */
function stageIdentity(options: { readonly plan: BuildPlan; readonly index: number; readonly known: Map<number, string> }): string {
  const { plan, index, known } = options;
  const found = known.get(index);
  if (found !== undefined) return found;
  const planned = plan.stages[index] as PlannedStage;
  const text = [planned.stage.from.image, planned.stage.from.platform ?? '', ...planned.stage.instructions.map((instruction) => instruction.source)].join('\n');
  const args = [...plan.globalArgs].filter(([name]) => text.includes(name));
  const reads = planned.dependencies.flatMap((dependency) => (dependency.source.kind === 'stage' ? [stageIdentity({ plan, index: dependency.source.index, known })] : []));
  const identity = sha256(JSON.stringify({ index, platform: formatPlatform(planned.platform ?? plan.targetPlatform), base: planned.baseName, args, reads }));
  known.set(index, identity);
  return identity;
}

/**
 * Before anything is built: each stage with RUN must be able to run its platform's programs here
 * (the step checks again against the base image's own platform). A foreign platform without qemu
 * fails now, not after the other platforms were built.
 */
async function checkRunSteps(options: { readonly session: BuildSession; readonly plans: readonly BuildPlan[] }): Promise<void> {
  for (const plan of options.plans) {
    for (const index of plan.order) {
      const planned = plan.stages[index] as PlannedStage;
      const run = planned.stage.instructions.find((instruction) => instruction.kind === 'run');
      if (run === undefined) continue;
      try {
        await options.session.checkRunnable(planned.platform ?? plan.targetPlatform);
      } catch (error) {
        if (!(error instanceof CaissonError)) throw error;
        throw new CaissonError({ code: error.code, message: error.message, location: run.location, cause: error, ...(error.hint === undefined ? {} : { hint: error.hint }) });
      }
    }
  }
}

/** A plan's stage lookup; stages with an identity already built (or building) for another platform are shared. */
function buildStages(options: { readonly session: BuildSession; readonly plan: BuildPlan; readonly shared: Map<string, Promise<StageState>> }): (index: number) => Promise<StageState> {
  const { session, plan, shared } = options;
  const identities = new Map<number, string>();
  const stages = (index: number): Promise<StageState> => {
    const identity = stageIdentity({ plan, index, known: identities });
    let stage = shared.get(identity);
    if (stage === undefined) {
      stage = runStage({ session, plan, index, stages });
      shared.set(identity, stage);
    }
    return stage;
  };
  return stages;
}

/** The image a plan's target becomes: its own copy of the state (a stage may be shared), --single-snapshot and --label applied. */
async function targetImage(options: { readonly session: BuildSession; readonly plan: BuildPlan; readonly target: StageState }): Promise<BuiltImage> {
  const { session } = options;
  const build = session.options;
  const state = forkState({ parent: options.target, scope: options.target.scope });
  if (build.singleSnapshot === true) await squashAddedLayers({ session, state });
  if (build.labels.size > 0) state.config.Labels = { ...state.config.Labels, ...Object.fromEntries(build.labels) };
  const name = build.platforms.length === 1 ? 'the built image' : `the image built for ${formatPlatform(options.plan.targetPlatform)}`;
  return new BuiltImage({ name, state, format: build.format, created: imageCreated({ session, state }), annotations: build.annotations });
}

/**
 * The config's `created`, as BuildKit dates it: the last dated history entry, so that a rebuild
 * from the cache gives the same image (and digest) as the build it repeats; the build's own
 * time when nothing is dated, or the clamp (SOURCE_DATE_EPOCH, --reproducible) when there is one.
 */
function imageCreated(options: { readonly session: BuildSession; readonly state: StageState }): string {
  const { session } = options;
  if (session.options.clampTime !== undefined) return session.created;
  return options.state.history.findLast((entry) => entry.created !== undefined)?.created ?? session.created;
}

/** What the outputs get: the one image, or the index of every platform's image. */
function rootOf(options: { readonly images: readonly BuiltImage[]; readonly format: 'oci' | 'docker' }): { readonly source: ImageSource; readonly descriptor: Descriptor; readonly bytes: Buffer } {
  const { images } = options;
  const only = images[0] as BuiltImage;
  if (images.length === 1) return { source: only, descriptor: only.manifest, bytes: only.manifestBytes };
  const index = buildImageIndex({ entries: images.map((image) => ({ descriptor: image.manifest, platform: image.platform, name: image.name })), format: options.format });
  const source = new IndexSource({ name: 'the built index', index, images: images.map((image) => ({ descriptor: image.manifest, manifest: image.manifestDocument, source: image })) });
  return { source, descriptor: index.descriptor, bytes: index.bytes };
}

/** The context as COPY . would see it (.dockerignore applied), as one digest: provenance's record of the source. */
async function digestWholeContext(options: { readonly session: BuildSession; readonly plan: BuildPlan }): Promise<Digest> {
  const { session } = options;
  const digests = await session.cache.fileDigests(session.context.root);
  const input = contextSourceDigest({ tree: session.context, source: '.', location: { file: options.plan.dockerfile.file, line: 1 }, exclude: undefined, digests });
  return input.slice(input.lastIndexOf(' ') + 1) as Digest;
}

const MAX_RESTARTS = 5;

/**
 * Builds. A build that fails after it found something corrupt in its caches and evicted it (a
 * stored blob, a cache-repository entry whose layer is gone) starts again: what it evicted is then
 * fetched or built anew, and what it did before comes from the cache.
 */
export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  const repairs = new CacheRepairs({ logger: options.logger });
  for (let restarts = 0; ; restarts += 1) {
    const evictions = repairs.evictions;
    try {
      return await buildOnce(options, repairs);
    } catch (error) {
      // Each eviction is of something else, so this ends; the bound is for a disk that corrupts what it is given.
      if (repairs.evictions === evictions || restarts === MAX_RESTARTS || options.signal?.aborted === true) throw error;
      options.logger.warn(`the build failed on what was evicted from the cache (${error instanceof Error ? error.message : String(error)}); it starts again`);
    }
  }
}

async function buildOnce(options: BuildOptions, repairs: CacheRepairs): Promise<BuildResult> {
  // First of all: the destination's registry answers (its version check and current image) while the rest gets ready.
  const destinations = prepareDestinations(options);
  const dockerfile = loadDockerfile({ text: options.dockerfile.text, file: options.dockerfile.name ?? options.dockerfile.path });
  if (options.platforms.length === 0) throw new CaissonError({ code: 'ERR_INTERNAL', message: 'a build needs at least one platform' });
  const plans = options.platforms.map((platform) => planBuild({ dockerfile, buildArgs: options.buildArgs, targetPlatform: platform, targets: options.targets, namedContexts: new Set(options.namedContexts.keys()) }));
  const journal = options.journal === undefined ? {} : { journal: options.journal };
  const context = new ContextTree({ root: options.contextDir, ignore: await readContextIgnore({ dockerfile: options.dockerfile.path, contextDir: options.contextDir, ...journal }), ...journal });
  const session = new BuildSession({ build: options, context, repairs });
  const logger = options.logger;
  try {
    // One platform: each RUN checks its stage's actual platform (a base's config may say another).
    if (plans.length > 1) await checkRunSteps({ session, plans });
    const shared = new Map<string, Promise<StageState>>();
    const buildStarted = Date.now();
    // Every platform at once: independent stages run concurrently, RUN steps bounded by the cores.
    // A failing platform fails the build once the others have stopped (the session is then closed).
    const settled = await Promise.allSettled(plans.map(async (plan) => {
      const stages = buildStages({ session, plan, shared });
      const built = await Promise.all(plan.targets.map((index) => stages(index)));
      return { plan, target: built.at(-1) as StageState };
    }));
    const failed = settled.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const targets = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const buildSeconds = (Date.now() - buildStarted) / 1000;
    const writeStarted = Date.now();
    const images: BuiltImage[] = [];
    for (const { plan, target } of targets) images.push(await targetImage({ session, plan, target }));
    const root = rootOf({ images, format: options.format });
    const outputs: BuiltOutput[] = [];
    for (const output of options.outputs) {
      if (options.signal?.aborted === true) throw new CaissonError({ code: 'ERR_BUILD_INTERRUPTED', message: 'build interrupted before writing its outputs', hint: 'Outputs already written are complete; run the build again for the rest.' });
      const started = Date.now();
      const opened = await openOutput({ output, build: options, destinations });
      try {
        const copied = await copyImage({ source: root.source, target: opened.target, root: root.descriptor, tags: opened.tags, concurrency: options.registry.options.concurrency });
        const { blobs } = copied;
        logger.info(`wrote ${opened.name}@${root.descriptor.digest} in ${((Date.now() - started) / 1000).toFixed(2)} s (${blobs.written} blobs written, ${blobs.mounted} mounted, ${blobs.exists} already there)`);
      } catch (error) {
        await opened.abort();
        throw error;
      }
      outputs.push({ output, name: opened.name });
    }
    const blobs = new Map<string, number>();
    for (const image of images) for (const blob of [image.config, ...image.manifestDocument.layers]) blobs.set(blob.digest, blob.size);
    const contextDigest = options.digestContext === true ? await digestWholeContext({ session, plan: plans[0] as BuildPlan }) : undefined;
    return {
      digest: root.descriptor.digest,
      mediaType: root.descriptor.mediaType,
      size: root.descriptor.size,
      imageBytes: [...blobs.values()].reduce((sum, size) => sum + size, 0),
      layers: images.reduce((sum, image) => sum + image.manifestDocument.layers.length, 0),
      phases: { build: buildSeconds, write: (Date.now() - writeStarted) / 1000 },
      outputs,
      manifest: root.bytes,
      platforms: images.map((image, i) => ({ platform: options.platforms[i] as Platform, digest: image.manifest.digest, layers: image.manifestDocument.layers.length })),
      images: await session.readImages(),
      ...(contextDigest === undefined ? {} : { contextDigest }),
    };
  } finally {
    await session.close();
  }
}
