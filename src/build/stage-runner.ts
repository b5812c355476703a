/**
 * Building one stage: its starting state from the base (scratch, an image, or an earlier stage),
 * then each instruction expanded in the stage's scope and handed to its step, with a history
 * entry per instruction and progress on the logger.
 */
import { CaissonError, formatLocation, type SourceLocation } from '../errors.js';
import { formatPlatform, sha256, type Platform } from '../image/index.js';
import { loadDockerfile, StageScope, type BuildPlan, type PlannedStage, type StageInstruction } from '../dockerfile/index.js';
import { basePlatformMismatch } from './base-image.js';
import type { BuildSession } from './build-session.js';
import { ContextTree, viewTree, type SourceTree } from './context-tree.js';
import { IgnoreMatcher } from './patterns/index.js';
import { DEFAULT_PATH, DEFAULT_SHELL, forkState, type MutableConfig, type StageLayer, type StageState } from './stage-state.js';
import { STEPS } from './steps/index.js';
import type { SourceIdentity, StageLookup, StepInput, StepResult } from './steps/step.js';

export interface StageRunOptions {
  readonly session: BuildSession;
  readonly plan: BuildPlan;
  readonly index: number;
  readonly stages: StageLookup;
}

function envMap(env: readonly string[] | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of env ?? []) {
    const equals = pair.indexOf('=');
    if (equals > 0) map.set(pair.slice(0, equals), pair.slice(equals + 1));
  }
  return map;
}

interface Start {
  readonly state: StageState;
  /** The base image's ONBUILD triggers, run right after FROM (and not inherited further). */
  readonly triggers: readonly StageInstruction[];
}

/** Parses ONBUILD trigger texts as instructions; their location names the image. */
function parseTriggers(options: { readonly triggers: readonly string[]; readonly image: string; readonly escapeToken: '\\' | '`' }): StageInstruction[] {
  return options.triggers.map((text, index) => {
    const dockerfile = loadDockerfile({ text: `FROM scratch\n${text}\n`, file: `${options.image} ONBUILD[${index}]` });
    const instruction = dockerfile.stages[0]?.instructions[0];
    if (instruction === undefined) throw new CaissonError({ code: 'ERR_IMAGE_INVALID', message: `${options.image}: ONBUILD trigger ${JSON.stringify(text)} is empty` });
    return instruction;
  });
}

async function initialState(options: StageRunOptions, planned: PlannedStage): Promise<Start> {
  const { session, plan } = options;
  const platform = planned.platform ?? plan.targetPlatform;
  const scopeOptions = { escapeToken: plan.dockerfile.escapeToken, buildArgs: session.options.buildArgs, globalArgs: plan.globalArgs };
  const base = planned.base;
  switch (base.kind) {
    case 'scratch':
      return { state: { platform, layers: [], config: {}, history: [], scope: new StageScope({ ...scopeOptions, baseEnv: new Map([['PATH', DEFAULT_PATH]]) }), shell: DEFAULT_SHELL, cmdSet: false, cacheKey: 'scratch', base: { layers: 0, history: 0 } }, triggers: [] };
    case 'stage': {
      const parent = await options.stages(base.index);
      // As BuildKit does: the parent stage's ONBUILD triggers run right after FROM, and are not inherited.
      const state = forkState({ parent, scope: parent.scope.child() });
      const triggers = state.config.OnBuild ?? [];
      delete state.config.OnBuild;
      return { state, triggers: parseTriggers({ triggers, image: `stage "${plan.stages[base.index]?.name ?? base.index}"`, escapeToken: plan.dockerfile.escapeToken }) };
    }
    case 'image': {
      const image = await session.baseImage({ reference: base.reference, platform, location: planned.stage.from.location });
      const { Env: baseEnv, OnBuild: triggers, ...kept }: MutableConfig = structuredClone(image.config.config ?? {});
      const env = envMap(baseEnv);
      const imagePlatform = { os: image.config.os, architecture: image.config.architecture, ...(image.config.variant === undefined ? {} : { variant: image.config.variant }) };
      checkBasePlatform({ session, image: image.name, wanted: platform, found: imagePlatform, location: planned.stage.from.location });
      const state: StageState = {
        platform: imagePlatform,
        layers: [...image.layers],
        config: kept,
        history: [...(image.config.history ?? [])],
        scope: new StageScope({ ...scopeOptions, baseEnv: env }),
        shell: kept.Shell ?? DEFAULT_SHELL,
        cmdSet: false,
        cacheKey: `image ${image.manifest.digest}`,
        base: { layers: image.layers.length, history: image.config.history?.length ?? 0 },
        ...(image.config.author === undefined ? {} : { author: image.config.author }),
      };
      return { state, triggers: parseTriggers({ triggers: triggers ?? [], image: image.name, escapeToken: plan.dockerfile.escapeToken }) };
    }
    case 'context': {
      const named = session.options.namedContexts.get(base.name);
      if (named?.kind === 'image') return initialState(options, { ...planned, base: { kind: 'image', reference: named.reference } });
      return { state: await directoryBase(options, planned, base.name), triggers: [] };
    }
  }
}

/**
 * A base that is a single image of another platform (no index to pick from): BuildKit warns
 * (InvalidBaseImagePlatform) and builds on it; in a multi-platform build that would list the
 * wrong image under the platform, so it is an error there.
 */
function checkBasePlatform(options: { readonly session: BuildSession; readonly image: string; readonly wanted: Platform; readonly found: Platform; readonly location: SourceLocation }): void {
  const { wanted } = options;
  const message = basePlatformMismatch({ image: options.image, wanted, found: options.found });
  if (message === undefined) return;
  if (options.session.options.platforms.length === 1) {
    options.session.options.logger.warn(`${formatLocation(options.location)}: ${message} (InvalidBaseImagePlatform): building on it`);
    return;
  }
  throw new CaissonError({
    code: 'ERR_MANIFEST_UNKNOWN',
    message,
    location: options.location,
    hint: `Build FROM an index that has ${formatPlatform(wanted)} (or pin the stage with FROM --platform=$BUILDPLATFORM), or leave ${formatPlatform(wanted)} out of --platform.`,
  });
}

/**
 * `FROM NAME` where `--build-context NAME=DIR`: as BuildKit, the directory is the stage's root
 * filesystem, with no image config. It becomes one layer, written as `COPY --from=NAME / /`
 * would write it (files owned by root), whose history entry names the context.
 */
async function directoryBase(options: StageRunOptions, planned: PlannedStage, name: string): Promise<StageState> {
  const { session } = options;
  const state = (await initialState(options, { ...planned, base: { kind: 'scratch' } })).state;
  const file = `FROM ${name} (build context)`;
  const copy = loadDockerfile({ text: `FROM scratch\nCOPY --from=${name} / /\n`, file }).stages[0]?.instructions[0];
  if (copy?.kind !== 'copy') throw new Error(`${file}: the synthetic COPY did not parse`);
  const started = Date.now();
  const label = `[${planned.name} 1/${planned.stage.instructions.length + 1}]`;
  const sources = stepSources(options, state.platform);
  const result = await STEPS.copy({ instruction: copy, state, session, stages: options.stages, ...sources, label, slot: `${planned.name} 1` });
  record({ state, result: { ...result, createdBy: `FROM ${name} # build context directory` }, session, label: `[${planned.name}] FROM ${name}`, started });
  return state;
}

/** What COPY --from / RUN --mount from= names: the context or a named directory, or a stage's or image's layers. */
type FromSource =
  | { readonly kind: 'context'; readonly tree: ContextTree }
  | { readonly kind: 'layers'; readonly layers: readonly StageLayer[]; readonly what: string; readonly of: 'stage' | 'image' };

function resolveFrom(options: StageRunOptions, platform: StageState['platform']): (from: string | undefined) => Promise<FromSource> {
  const { session, plan } = options;
  const image = async (reference: string, what: (name: string) => string): Promise<FromSource> => {
    const base = await session.baseImage({ reference, platform, location: { file: plan.dockerfile.file, line: 1 } });
    return { kind: 'layers', layers: base.layers, what: what(base.name), of: 'image' };
  };
  return async (from) => {
    if (from === undefined) return { kind: 'context', tree: session.context };
    const named = session.options.namedContexts.get(from);
    if (named?.kind === 'directory') {
      const journal = session.options.journal;
      return { kind: 'context', tree: new ContextTree({ root: named.dir, ignore: IgnoreMatcher.empty, name: from, ...(journal === undefined ? {} : { journal }) }) };
    }
    if (named?.kind === 'image') return image(named.reference, (name) => `build context "${from}" (${name})`);
    const byIndex = /^\d+$/.test(from) ? plan.stages[Number(from)] : undefined;
    const planned = byIndex ?? plan.stages.find((candidate) => candidate.stage.name === from.toLowerCase());
    if (planned !== undefined) return { kind: 'layers', layers: (await options.stages(planned.stage.index)).layers, what: `stage "${planned.name}"`, of: 'stage' };
    return image(from, (name) => `image ${name}`);
  };
}

/** COPY --from / RUN --mount from=: the files of the context, a named context, a stage or an image. */
function sourceTrees(resolve: (from: string | undefined) => Promise<FromSource>, session: BuildSession): (from: string | undefined) => Promise<SourceTree> {
  return async (from) => {
    const source = await resolve(from);
    return source.kind === 'context' ? source.tree : viewTree({ view: await session.view(source.layers), what: source.what });
  };
}

/** What `sourceTrees` would read, without extracting anything: a context directory, or layers by diffID. */
function sourceIdentities(resolve: (from: string | undefined) => Promise<FromSource>): (from: string | undefined) => Promise<SourceIdentity> {
  return async (from) => {
    const source = await resolve(from);
    if (source.kind === 'context') return source;
    return { kind: 'layers', identity: `${source.of} ${sha256(source.layers.map((layer) => layer.diffId).join('\n'))}` };
  };
}

/** Both views of COPY --from and RUN --mount from= for a stage's steps. */
function stepSources(options: StageRunOptions, platform: StageState['platform']): Pick<StepInput<StageInstruction>, 'sourceTree' | 'sourceIdentity'> {
  const resolve = resolveFrom(options, platform);
  return { sourceTree: sourceTrees(resolve, options.session), sourceIdentity: sourceIdentities(resolve) };
}

/** The instruction for progress lines: one line, credentials in URLs (`//user:token@`) hidden. */
function describe(instruction: StageInstruction): string {
  const text = instruction.source.replace(/\s+/g, ' ').replace(/:\/\/[^/@\s]+@/g, '://***@');
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

/** Appends the step's history entry and layer, and logs the layer. */
function record(options: { readonly state: StageState; readonly result: StepResult; readonly session: BuildSession; readonly label: string; readonly started: number }): void {
  const { state, result, session } = options;
  if (result.createdBy === undefined) return;
  const layer = result.layer !== undefined && result.layer !== 'empty' ? result.layer : undefined;
  // As BuildKit: an entry with a layer is dated when its layer was made (a cached step keeps its
  // date), one without is not dated, unless every date is clamped (SOURCE_DATE_EPOCH, --reproducible).
  const dated = layer !== undefined || session.options.clampTime !== undefined;
  state.history.push({ ...(dated ? { created: result.created ?? session.created } : {}), created_by: result.createdBy, comment: 'buildkit.dockerfile.v0', ...(layer === undefined ? { empty_layer: true } : {}) });
  const logger = session.options.logger;
  if (layer !== undefined) state.layers.push(layer);
  const made = layer === undefined ? 'no layer' : `layer ${layer.descriptor.digest.slice(0, 19)} (${layer.descriptor.size} bytes)`;
  if (result.cachedFrom !== undefined) logger.info(`${options.label} cached (${result.cachedFrom}): ${made}`);
  else if (layer !== undefined) logger.info(`${options.label} done in ${((Date.now() - options.started) / 1000).toFixed(2)} s: ${made}`);
}

export async function runStage(options: StageRunOptions): Promise<StageState> {
  const { session, plan, index } = options;
  const planned = plan.stages[index] as PlannedStage;
  const logger = session.options.logger;
  const { state, triggers } = await initialState(options, planned);
  const sources = stepSources(options, state.platform);
  const steps = [...triggers.map((instruction) => ({ instruction, trigger: true })), ...planned.stage.instructions.map((instruction) => ({ instruction, trigger: false }))];
  const total = steps.length + 1;
  // Several platforms build at once: each line says whose stage it is.
  const prefix = session.options.platforms.length > 1 ? `${formatPlatform(planned.platform ?? plan.targetPlatform)} ` : '';
  logger.info(`[${prefix}${planned.name} 1/${total}] FROM ${planned.baseName}`);
  for (const [position, { instruction, trigger }] of steps.entries()) {
    const stepLabel = `[${prefix}${planned.name} ${position + 2}/${total}]`;
    if (session.options.signal?.aborted === true) {
      throw new CaissonError({ code: 'ERR_BUILD_INTERRUPTED', message: `build interrupted before ${stepLabel}`, location: instruction.location, hint: 'Nothing was pushed; run the build again.' });
    }
    const started = Date.now();
    logger.info(`${stepLabel} ${trigger ? '(ONBUILD) ' : ''}${describe(instruction)}`);
    const expanded = state.scope.apply(instruction);
    const input: StepInput<StageInstruction> = { instruction: expanded, state, session, stages: options.stages, ...sources, label: stepLabel, slot: `${planned.name} ${position + 2}` };
    let result: StepResult;
    try {
      result = await (STEPS[expanded.kind] as (input: StepInput<StageInstruction>) => Promise<StepResult>)(input);
    } catch (error) {
      if (error instanceof CaissonError && error.location === undefined) {
        throw new CaissonError({ code: error.code, message: error.message, location: instruction.location, cause: error, ...(error.hint === undefined ? {} : { hint: error.hint }) });
      }
      throw error;
    }
    record({ state, result, session, label: stepLabel, started });
  }
  logger.debug(`stage ${planned.name} (${formatLocation(planned.stage.from.location)}) built: ${state.layers.length} layer(s)`);
  return state;
}
