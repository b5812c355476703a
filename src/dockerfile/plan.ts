/**
 * The stage graph, as BuildKit resolves it before building: built-in platform ARGs and meta
 * ARGs (build args override defaults), FROM base names and `--platform` expanded with them,
 * stage references (FROM an earlier stage; COPY --from a stage name or index, a named context
 * or an image; RUN --mount from=), cycles rejected, targets and the stages they need.
 */
import { CaissonError, type SourceLocation, suggest } from '../errors.js';
import type { Stage, Dockerfile } from './model.js';
import { stageDisplayName } from './model.js';
import { hostPlatform, parsePlatform, platformArgs, type Platform } from './platform.js';
import { emptyEnv, envFromMap, expandWord } from './shell/index.js';

export type DependencySource =
  | { readonly kind: 'stage'; readonly index: number }
  | { readonly kind: 'image'; readonly reference: string }
  | { readonly kind: 'context'; readonly name: string }
  | { readonly kind: 'scratch' };

export interface StageDependency {
  readonly via: 'from' | 'copy' | 'mount';
  readonly source: DependencySource;
  readonly location: SourceLocation;
}

export interface PlannedStage {
  readonly stage: Stage;
  /** The `AS` name or `stage-<index>`. */
  readonly name: string;
  /** The FROM base after meta-ARG expansion. */
  readonly baseName: string;
  readonly base: DependencySource;
  /** FROM --platform after expansion; undefined means the target platform. */
  readonly platform: Platform | undefined;
  /** FROM first, then COPY --from and RUN --mount from=, in order. */
  readonly dependencies: readonly StageDependency[];
  /** Variables FROM (name or --platform) used that are not defined (UndefinedArgInFrom). */
  readonly undefinedFromArgs: readonly string[];
}

export interface BuildPlan {
  readonly dockerfile: Dockerfile;
  /** Built-in platform ARGs and meta ARGs with their values. */
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly targetPlatform: Platform;
  readonly buildPlatform: Platform;
  readonly stages: readonly PlannedStage[];
  /** Indexes of the stages asked for (default: the last). */
  readonly targets: readonly number[];
  /** Every stage the targets need, in the order they are built (definition order). */
  readonly order: readonly number[];
}

export interface PlanOptions {
  readonly dockerfile: Dockerfile;
  readonly buildArgs?: ReadonlyMap<string, string>;
  readonly targetPlatform?: Platform;
  readonly buildPlatform?: Platform;
  /** Stage names to build (kaniko's repeatable --target); default: the last stage. */
  readonly targets?: readonly string[];
  /** Names given with --build-context: they replace images and stages of the same name. */
  readonly namedContexts?: ReadonlySet<string>;
}

function stageError(message: string, location: SourceLocation, hint?: string): CaissonError {
  return new CaissonError({ code: 'ERR_DOCKERFILE_STAGE', message, location, ...(hint === undefined ? {} : { hint }) });
}

/** Expands a word with the global args; errors get the instruction's location. */
function expandGlobal(word: string, args: ReadonlyMap<string, string>, dockerfile: Dockerfile, location: SourceLocation) {
  try {
    return expandWord(word, envFromMap(args), { escapeToken: dockerfile.escapeToken });
  } catch (error) {
    if (!(error instanceof CaissonError)) throw error;
    throw new CaissonError({ code: error.code, message: error.message, location, cause: error, ...(error.hint === undefined ? {} : { hint: error.hint }) });
  }
}

/** Built-in platform ARGs overridden by build args, then the meta ARGs in order. */
function resolveGlobalArgs(options: PlanOptions, target: Platform, build: Platform, targetStage: string): Map<string, string> {
  const buildArgs = options.buildArgs ?? new Map<string, string>();
  const args = new Map<string, string>();
  for (const [key, value] of platformArgs({ target, build, targetStage })) args.set(key, buildArgs.get(key) ?? value);
  for (const instruction of options.dockerfile.metaArgs) {
    for (const definition of instruction.args) {
      const given = buildArgs.get(definition.key);
      const value =
        given ?? (definition.value === undefined ? undefined : expandGlobal(definition.value, args, options.dockerfile, instruction.location).result);
      if (value !== undefined) args.set(definition.key, value);
    }
  }
  return args;
}

function findStageByName(stages: readonly Stage[], name: string): Stage | undefined {
  const lower = name.toLowerCase();
  return stages.find((stage) => stage.name === lower);
}

/** COPY --from / RUN --mount from= target: a stage (by name, or by index for COPY), a context, an image. */
function resolveSource(options: PlanOptions, name: string, allowIndex: boolean, location: SourceLocation): DependencySource {
  const stages = options.dockerfile.stages;
  if (allowIndex && /^[+-]?\d+$/.test(name)) {
    const index = Number(name);
    if (index < 0 || index >= stages.length) {
      throw stageError(`invalid stage index ${index}`, location, `stages are numbered 0 to ${stages.length - 1}`);
    }
    return { kind: 'stage', index };
  }
  if (options.namedContexts?.has(name)) return { kind: 'context', name };
  const stage = findStageByName(stages, name);
  if (stage !== undefined) return { kind: 'stage', index: stage.index };
  if (name === 'scratch') return { kind: 'scratch' };
  return { kind: 'image', reference: name };
}

function instructionDependencies(options: PlanOptions, stage: Stage): StageDependency[] {
  const dependencies: StageDependency[] = [];
  for (const instruction of stage.instructions) {
    if (instruction.kind === 'copy' && instruction.from !== undefined) {
      if (expandWord(instruction.from, emptyEnv, { escapeToken: options.dockerfile.escapeToken }).result !== instruction.from) {
        throw stageError(
          'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround',
          instruction.location,
          'ARG SRC=image\nFROM ${SRC} AS src\n... COPY --from=src',
        );
      }
      dependencies.push({ via: 'copy', source: resolveSource(options, instruction.from, true, instruction.location), location: instruction.location });
    }
    if (instruction.kind === 'run') {
      for (const mount of instruction.mounts) {
        if (mount.from === undefined || mount.from === '') continue;
        dependencies.push({ via: 'mount', source: resolveSource(options, mount.from, false, instruction.location), location: instruction.location });
      }
    }
  }
  return dependencies;
}

function planStage(options: PlanOptions, stage: Stage, globalArgs: ReadonlyMap<string, string>): PlannedStage {
  const { dockerfile } = options;
  const from = stage.from;
  const undefinedFromArgs = new Set<string>();
  const nameResult = expandGlobal(from.image, globalArgs, dockerfile, from.location);
  for (const name of nameResult.unmatched) undefinedFromArgs.add(name);
  const baseName = nameResult.result;
  if (baseName === '') {
    throw stageError(`base name (${from.image}) should not be blank`, from.location, 'give the ARG it uses a default, or pass --build-arg');
  }
  let platform: Platform | undefined;
  if (from.platform !== undefined) {
    const result = expandGlobal(from.platform, globalArgs, dockerfile, from.location);
    for (const name of result.unmatched) undefinedFromArgs.add(name);
    if (result.result === '') {
      throw stageError(`empty platform value from expression ${from.platform}`, from.location, 'use --platform=$BUILDPLATFORM or a value like linux/amd64');
    }
    const parsed = parsePlatform(result.result);
    if ('error' in parsed) throw stageError(`failed to parse platform ${from.platform}: ${parsed.error}`, from.location, 'write os/arch[/variant], e.g. linux/arm64');
    platform = parsed;
  }
  let base: DependencySource;
  const earlier = options.dockerfile.stages.slice(0, stage.index).find((candidate) => candidate.name === baseName);
  // As BuildKit: a named context overrides a stage of the same name (`--build-context build=DIR`
  // stands in for a `build` stage), for FROM as for COPY --from.
  if (options.namedContexts?.has(baseName)) base = { kind: 'context', name: baseName };
  else if (earlier !== undefined) base = { kind: 'stage', index: earlier.index };
  else if (baseName === 'scratch') base = { kind: 'scratch' };
  else base = { kind: 'image', reference: baseName };
  return {
    stage,
    name: stageDisplayName(stage),
    baseName,
    base,
    platform,
    dependencies: [{ via: 'from', source: base, location: from.location }, ...instructionDependencies(options, stage)],
    undefinedFromArgs: [...undefinedFromArgs],
  };
}

function stageEdges(planned: PlannedStage): { index: number; location: SourceLocation }[] {
  return planned.dependencies.flatMap((dependency) =>
    dependency.source.kind === 'stage' ? [{ index: dependency.source.index, location: dependency.location }] : [],
  );
}

function rejectCycles(stages: readonly PlannedStage[]): void {
  const done = new Set<number>();
  const onPath = new Set<number>();
  const visit = (index: number): SourceLocation | undefined => {
    if (done.has(index)) return undefined;
    done.add(index);
    onPath.add(index);
    for (const edge of stageEdges(stages[index] as PlannedStage)) {
      if (onPath.has(edge.index)) return edge.location;
      const found = visit(edge.index);
      if (found !== undefined) return found;
    }
    onPath.delete(index);
    return undefined;
  };
  for (const planned of stages) {
    const location = visit(planned.stage.index);
    if (location !== undefined) {
      throw stageError(`circular dependency detected on stage: ${planned.name}`, location, 'a stage cannot COPY --from or mount from itself or a stage that depends on it');
    }
  }
}

function resolveTargets(options: PlanOptions): number[] {
  const stages = options.dockerfile.stages;
  const names = options.targets ?? [];
  if (names.length === 0) return [stages.length - 1];
  return names.map((name) => {
    const stage = findStageByName(stages, name);
    if (stage !== undefined) return stage.index;
    const candidates = stages.flatMap((s) => (s.name === undefined ? [] : [s.name]));
    const close = suggest({ value: name, candidates, caseSensitive: true });
    throw new CaissonError({
      code: 'ERR_DOCKERFILE_STAGE',
      message: `target stage "${name}" could not be found in ${options.dockerfile.file}`,
      hint: close !== undefined ? `did you mean ${close}?` : candidates.length > 0 ? `stages: ${candidates.join(', ')}` : 'the Dockerfile has no named stages',
    });
  });
}

/** Resolves the stage graph for one platform. Throws CaissonError (ERR_DOCKERFILE_STAGE, …). */
export function planBuild(options: PlanOptions): BuildPlan {
  const { dockerfile } = options;
  const targetPlatform = options.targetPlatform ?? hostPlatform();
  const buildPlatform = options.buildPlatform ?? hostPlatform();
  const targets = resolveTargets(options);
  const firstTarget = dockerfile.stages[targets[0] as number] as Stage;
  const globalArgs = resolveGlobalArgs(options, targetPlatform, buildPlatform, firstTarget.name ?? 'default');
  const stages = dockerfile.stages.map((stage) => planStage(options, stage, globalArgs));
  rejectCycles(stages);

  const needed = new Set<number>();
  const collect = (index: number): void => {
    if (needed.has(index)) return;
    needed.add(index);
    for (const edge of stageEdges(stages[index] as PlannedStage)) collect(edge.index);
  };
  for (const target of targets) collect(target);
  const order = [...needed].sort((a, b) => a - b);
  for (const index of order) {
    const planned = stages[index] as PlannedStage;
    for (const edge of stageEdges(planned)) {
      if (edge.index > index) {
        const source = stages[edge.index] as PlannedStage;
        throw stageError(
          `cannot copy from stage "${source.name}", it needs to be defined before current stage "${planned.name}"`,
          edge.location,
          `move stage "${source.name}" above stage "${planned.name}"`,
        );
      }
    }
  }
  return { dockerfile, globalArgs, targetPlatform, buildPlatform, stages, targets, order };
}
