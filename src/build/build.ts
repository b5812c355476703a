/**
 * One build: the Dockerfile planned for the platform and targets, the needed stages built (each
 * once, independent ones concurrently, each waiting only for the stages it reads), the target
 * assembled into an image with the --label flags applied, and the image written to every output.
 */
import { CaissonError } from '../errors.js';
import { loadDockerfile, planBuild, type BuildPlan } from '../dockerfile/index.js';
import { copyImage, DockerArchiveWriter, formatReference, OciLayout, parseReference, type Digest, type ImageTarget } from '../image/index.js';
import { BuildSession } from './build-session.js';
import { BuiltImage } from './built-image.js';
import { ContextTree, readContextIgnore } from './context-tree.js';
import type { BuildOptions, BuildOutput, BuildResult, BuiltOutput } from './options.js';
import { squashAddedLayers } from './single-snapshot.js';
import { contextSourceDigest } from './source-digest.js';
import { runStage } from './stage-runner.js';
import type { StageState } from './stage-state.js';

async function openOutput(options: { readonly output: BuildOutput; readonly build: BuildOptions }): Promise<{ target: ImageTarget; tags: string[]; name: string; abort: () => Promise<void> }> {
  const { output } = options;
  const nothing = async (): Promise<void> => undefined;
  switch (output.kind) {
    case 'registry': {
      const reference = parseReference(output.reference);
      return { target: options.build.registry.repository(reference), tags: reference.tag === undefined && reference.digest !== undefined ? [] : [reference.tag ?? 'latest'], name: formatReference(reference), abort: nothing };
    }
    case 'oci':
      return { target: await OciLayout.openOrCreate(output.dir), tags: output.tag === undefined ? [] : [output.tag], name: `oci:${output.dir}${output.tag === undefined ? '' : `:${output.tag}`}`, abort: nothing };
    case 'docker-archive': {
      const writer = new DockerArchiveWriter({ path: output.path });
      return { target: writer, tags: output.names.map((name) => formatReference(parseReference(name))), name: `docker-archive:${output.path}`, abort: () => writer.abort() };
    }
  }
}

function buildStages(options: { readonly session: BuildSession; readonly plan: BuildPlan }): (index: number) => Promise<StageState> {
  const started = new Map<number, Promise<StageState>>();
  const stages = (index: number): Promise<StageState> => {
    let stage = started.get(index);
    if (stage === undefined) {
      stage = runStage({ ...options, index, stages });
      started.set(index, stage);
    }
    return stage;
  };
  return stages;
}

/** The context as COPY . would see it (.dockerignore applied), as one digest: provenance's record of the source. */
async function digestWholeContext(options: { readonly session: BuildSession; readonly plan: BuildPlan }): Promise<Digest> {
  const { session } = options;
  const digests = await session.cache.fileDigests(session.context.root);
  const input = contextSourceDigest({ tree: session.context, source: '.', location: { file: options.plan.dockerfile.file, line: 1 }, exclude: undefined, digests });
  return input.slice(input.lastIndexOf(' ') + 1) as Digest;
}

export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  const dockerfile = loadDockerfile({ text: options.dockerfile.text, file: options.dockerfile.path });
  const plan = planBuild({ dockerfile, buildArgs: options.buildArgs, targetPlatform: options.platform, targets: options.targets, namedContexts: new Set(options.namedContexts.keys()) });
  const context = new ContextTree({ root: options.contextDir, ignore: await readContextIgnore({ dockerfile: options.dockerfile.path, contextDir: options.contextDir }) });
  const session = new BuildSession({ build: options, context });
  const logger = options.logger;
  try {
    const stages = buildStages({ session, plan });
    const buildStarted = Date.now();
    const targets = await Promise.all(plan.targets.map((index) => stages(index)));
    const buildSeconds = (Date.now() - buildStarted) / 1000;
    const writeStarted = Date.now();
    const state = targets.at(-1) as StageState;
    if (options.singleSnapshot === true) await squashAddedLayers({ session, state });
    if (options.labels.size > 0) state.config.Labels = { ...state.config.Labels, ...Object.fromEntries(options.labels) };
    const image = new BuiltImage({ name: 'the built image', state, format: options.format, created: session.created, annotations: options.annotations });
    const outputs: BuiltOutput[] = [];
    for (const output of options.outputs) {
      if (options.signal?.aborted === true) throw new CaissonError({ code: 'ERR_BUILD_INTERRUPTED', message: 'build interrupted before writing its outputs', hint: 'Outputs already written are complete; run the build again for the rest.' });
      const started = Date.now();
      const opened = await openOutput({ output, build: options });
      try {
        const copied = await copyImage({ source: image, target: opened.target, root: image.manifest, tags: opened.tags, concurrency: options.registry.options.concurrency });
        const { blobs } = copied;
        logger.info(`wrote ${opened.name}@${image.manifest.digest} in ${((Date.now() - started) / 1000).toFixed(2)} s (${blobs.written} blobs written, ${blobs.mounted} mounted, ${blobs.exists} already there)`);
      } catch (error) {
        await opened.abort();
        throw error;
      }
      outputs.push({ output, name: opened.name });
    }
    const imageBytes = image.config.size + state.layers.reduce((sum, layer) => sum + layer.descriptor.size, 0);
    const contextDigest = options.digestContext === true ? await digestWholeContext({ session, plan }) : undefined;
    return {
      digest: image.manifest.digest,
      mediaType: image.manifest.mediaType,
      size: image.manifest.size,
      imageBytes,
      layers: state.layers.length,
      phases: { build: buildSeconds, write: (Date.now() - writeStarted) / 1000 },
      outputs,
      config: image.configBytes,
      manifest: image.manifestBytes,
      images: await session.readImages(),
      ...(contextDigest === undefined ? {} : { contextDigest }),
    };
  } finally {
    await session.close();
  }
}
