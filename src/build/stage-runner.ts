/**
 * Building one stage: its starting state from the base (scratch, an image, or an earlier stage),
 * then each instruction expanded in the stage's scope and handed to its step, with a history
 * entry per instruction and progress on the logger.
 */
import { CaissonError, formatLocation } from '../errors.js';
import { StageScope, type BuildPlan, type PlannedStage, type StageInstruction } from '../dockerfile/index.js';
import type { BuildSession } from './build-session.js';
import { viewTree, type SourceTree } from './context-tree.js';
import { DEFAULT_PATH, DEFAULT_SHELL, forkState, type MutableConfig, type StageState } from './stage-state.js';
import { STEPS } from './steps/index.js';
import type { StageLookup, StepInput, StepResult } from './steps/step.js';

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

async function initialState(options: StageRunOptions, planned: PlannedStage): Promise<StageState> {
  const { session, plan } = options;
  const platform = planned.platform ?? plan.targetPlatform;
  const scopeOptions = { escapeToken: plan.dockerfile.escapeToken, buildArgs: session.options.buildArgs, globalArgs: plan.globalArgs };
  const base = planned.base;
  switch (base.kind) {
    case 'scratch':
      return { platform, layers: [], config: {}, history: [], scope: new StageScope({ ...scopeOptions, baseEnv: new Map([['PATH', DEFAULT_PATH]]) }), shell: DEFAULT_SHELL, cmdSet: false };
    case 'stage': {
      const parent = await options.stages(base.index);
      return forkState({ parent, scope: parent.scope.child() });
    }
    case 'image': {
      const image = await session.baseImage({ reference: base.reference, platform, location: planned.stage.from.location });
      const { Env: baseEnv, OnBuild: triggers, ...kept }: MutableConfig = structuredClone(image.config.config ?? {});
      const env = envMap(baseEnv);
      if (triggers !== undefined && triggers !== null && triggers.length > 0) {
        throw new CaissonError({
          code: 'ERR_BUILD_STEP',
          message: `${image.name} has ONBUILD triggers, which this version of caisson does not run`,
          location: planned.stage.from.location,
          hint: 'Write the triggers as instructions after FROM instead.',
        });
      }
      const imagePlatform = { os: image.config.os, architecture: image.config.architecture, ...(image.config.variant === undefined ? {} : { variant: image.config.variant }) };
      return {
        platform: imagePlatform,
        layers: [...image.layers],
        config: kept,
        history: [...(image.config.history ?? [])],
        scope: new StageScope({ ...scopeOptions, baseEnv: env }),
        shell: kept.Shell ?? DEFAULT_SHELL,
        cmdSet: false,
        ...(image.config.author === undefined ? {} : { author: image.config.author }),
      };
    }
    case 'context':
      throw new CaissonError({
        code: 'ERR_BUILD_STEP',
        message: `FROM ${base.name}: named build contexts as a base are not supported yet`,
        location: planned.stage.from.location,
        hint: 'Use an image reference or an earlier stage.',
      });
  }
}

/** COPY --from / RUN --mount from=: a stage (by name or index), or an image. */
function sourceTrees(options: StageRunOptions, platform: StageState['platform']): (from: string | undefined) => Promise<SourceTree> {
  const { session, plan } = options;
  return async (from) => {
    if (from === undefined) return session.context;
    const byIndex = /^\d+$/.test(from) ? plan.stages[Number(from)] : undefined;
    const planned = byIndex ?? plan.stages.find((candidate) => candidate.stage.name === from.toLowerCase());
    if (planned !== undefined) {
      const state = await options.stages(planned.stage.index);
      return viewTree({ view: await session.view(state.layers), what: `stage "${planned.name}"` });
    }
    const image = await session.baseImage({ reference: from, platform, location: { file: plan.dockerfile.file, line: 1 } });
    return viewTree({ view: await session.view(image.layers), what: `image ${image.name}` });
  };
}

function describe(instruction: StageInstruction): string {
  const text = instruction.source.replace(/\s+/g, ' ');
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

export async function runStage(options: StageRunOptions): Promise<StageState> {
  const { session, plan, index } = options;
  const planned = plan.stages[index] as PlannedStage;
  const logger = session.options.logger;
  const total = planned.stage.instructions.length + 1;
  const label = `[${planned.name} 1/${total}]`;
  logger.info(`${label} FROM ${planned.baseName}`);
  const state = await initialState(options, planned);
  const sourceTree = sourceTrees(options, state.platform);
  for (const [position, instruction] of planned.stage.instructions.entries()) {
    const stepLabel = `[${planned.name} ${position + 2}/${total}]`;
    const started = Date.now();
    logger.info(`${stepLabel} ${describe(instruction)}`);
    const expanded = state.scope.apply(instruction);
    const input: StepInput<StageInstruction> = { instruction: expanded, state, session, stages: options.stages, sourceTree, label: stepLabel };
    let result: StepResult;
    try {
      result = await (STEPS[expanded.kind] as (input: StepInput<StageInstruction>) => Promise<StepResult>)(input);
    } catch (error) {
      if (error instanceof CaissonError && error.location === undefined) {
        throw new CaissonError({ code: error.code, message: error.message, location: instruction.location, cause: error, ...(error.hint === undefined ? {} : { hint: error.hint }) });
      }
      throw error;
    }
    if (result.createdBy !== undefined) {
      const layer = result.layer !== undefined && result.layer !== 'empty' ? result.layer : undefined;
      state.history.push({ created: session.created, created_by: result.createdBy, comment: 'buildkit.dockerfile.v0', ...(layer === undefined ? { empty_layer: true } : {}) });
      if (layer !== undefined) {
        state.layers.push(layer);
        logger.info(`${stepLabel} done in ${((Date.now() - started) / 1000).toFixed(2)} s: layer ${layer.descriptor.digest.slice(0, 19)} (${layer.descriptor.size} bytes)`);
      }
    }
  }
  logger.debug(`stage ${planned.name} (${formatLocation(planned.stage.from.location)}) built: ${state.layers.length} layer(s)`);
  return state;
}
