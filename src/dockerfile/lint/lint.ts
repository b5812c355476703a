/**
 * `caisson lint`: every problem in a Dockerfile as data. Errors (syntax, bad instructions, a
 * broken stage graph) and BuildKit's build-check warnings, each with its rule, message, location
 * and documentation link. Offline: the base images are not pulled, so variables an image's
 * config may define are reported with a hint saying so.
 */
import { CaissonError, suggest } from '../../errors.js';
import type { DockerfileAst } from '../ast.js';
import { parseInstruction } from '../instructions/parse.js';
import type { Instruction } from '../instructions/types.js';
import { toDockerfile, type Dockerfile } from '../model.js';
import { parseDockerfile } from '../parser.js';
import { planBuild, type BuildPlan, type PlannedStage } from '../plan.js';
import { parsePlatform, type Platform } from '../platform.js';
import { StageScope } from '../scope.js';
import { envFromMap, expandWord } from '../shell/index.js';
import { parseCheckConfig } from './config.js';
import { RULES } from './rules.js';
import { ProblemSink, type LintProblem } from './sink.js';
import { checkDefinitionDescription, checkFrom, checkInstruction, type StageCheckState } from './instruction-rules.js';

export type { LintProblem } from './sink.js';

export interface LintReport {
  readonly file: string;
  readonly problems: readonly LintProblem[];
  /** `# check=error=true`: warnings count as failures. */
  readonly warningsAreErrors: boolean;
}

export interface LintOptions {
  readonly text: string;
  readonly file?: string;
  readonly buildArgs?: ReadonlyMap<string, string>;
  readonly targetPlatform?: Platform;
}

const RESERVED_STAGE_NAMES = new Set(['context', 'scratch']);
const IMAGE_REFERENCE =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$/;

function checkDirectives(ast: DockerfileAst, sink: ProblemSink): void {
  for (const directive of ast.directives) {
    const location = { file: ast.file, line: directive.line };
    if (directive.name === 'check') {
      try {
        sink.config = parseCheckConfig(directive.value);
      } catch (error) {
        sink.error(new CaissonError({ code: 'ERR_DOCKERFILE_SYNTAX', message: `failed to parse check options: ${(error as Error).message}`, location, hint: 'write # check=skip=<rule>,<rule>;error=true' }));
      }
    }
    if (directive.name === 'syntax') {
      const image = directive.value.split(' ')[0] ?? '';
      const repository = image.split('@')[0]?.split(':')[0]?.replace(/^docker\.io\//, '');
      if (repository !== 'docker/dockerfile' && repository !== 'docker/dockerfile-upstream') {
        sink.warn(RULES.SyntaxFrontendIgnored, `the syntax directive names the frontend "${image}"; caisson parses the file with its built-in Dockerfile frontend instead`, location, {
          hint: 'use # syntax=docker/dockerfile:1, or remove the directive',
        });
      }
    }
  }
}

function checkCasing(dockerfile: Dockerfile, sink: ProblemSink): void {
  const all: Instruction[] = dockerfile.stages.flatMap((stage) => [stage.from, ...stage.instructions]);
  const consistent = all.filter((i) => i.keyword === i.keyword.toLowerCase() || i.keyword === i.keyword.toUpperCase());
  const lower = consistent.filter((i) => i.keyword === i.keyword.toLowerCase()).length;
  const majorityLower = lower > consistent.length - lower;
  for (const instruction of all) {
    const wrong = majorityLower ? instruction.keyword !== instruction.keyword.toLowerCase() : instruction.keyword !== instruction.keyword.toUpperCase();
    if (wrong) {
      sink.warn(
        RULES.ConsistentInstructionCasing,
        `Command '${instruction.keyword}' should match the case of the command majority (${majorityLower ? 'lowercase' : 'uppercase'})`,
        instruction.location,
        { comments: instruction.comments },
      );
    }
  }
}

function checkDescriptions(dockerfile: Dockerfile, sink: ProblemSink): void {
  const all: Instruction[] = [...dockerfile.metaArgs, ...dockerfile.stages.flatMap((stage) => [stage.from, ...stage.instructions])];
  for (const instruction of all) {
    if (instruction.kind === 'from' && instruction.stageName !== undefined) checkDefinitionDescription(instruction, [instruction.stageName], sink);
    if (instruction.kind === 'arg') checkDefinitionDescription(instruction, instruction.args.map((d) => d.key), sink);
  }
}

function checkStageNames(dockerfile: Dockerfile, sink: ProblemSink): void {
  const seen = new Set<string>();
  for (const { name, from } of dockerfile.stages) {
    if (name === undefined) continue;
    if (RESERVED_STAGE_NAMES.has(name)) {
      sink.warn(RULES.ReservedStageName, `Stage name should not use the same name as reserved stage "${name}"`, from.location);
    }
    if (seen.has(name)) {
      sink.warn(RULES.DuplicateStageName, `Duplicate stage name "${name}", stage names should be unique`, from.location, { hint: 'COPY --from and FROM refer to the first stage of that name' });
    }
    seen.add(name);
  }
}

function checkFromLines(plan: BuildPlan, options: LintOptions, sink: ProblemSink): void {
  const declared = new Set([...plan.globalArgs.keys(), ...plan.dockerfile.metaArgs.flatMap((arg) => arg.args.map((d) => d.key))]);
  // Base names as they would be with no --build-arg, only defaults.
  const defaults = planBuild({ dockerfile: plan.dockerfile, ...(options.targetPlatform === undefined ? {} : { targetPlatform: options.targetPlatform }) });
  for (const planned of plan.stages) {
    const from = planned.stage.from;
    for (const name of planned.undefinedFromArgs) {
      if (declared.has(name)) continue;
      const close = suggest({ value: name, candidates: declared, caseSensitive: true });
      sink.warn(RULES.UndefinedArgInFrom, `FROM argument '${name}' is not declared${close === undefined ? '' : ` (did you mean ${close}?)`}`, from.location, {
        hint: `declare it before the first FROM: ARG ${name}=<default>`,
      });
    }
    const defaultName = (defaults.stages[planned.stage.index] as PlannedStage).baseName;
    if (from.image.includes('$') && defaultName !== 'scratch' && !IMAGE_REFERENCE.test(defaultName)) {
      sink.warn(RULES.InvalidDefaultArgInFrom, `Default value for ARG ${from.image} results in empty or invalid base image name`, from.location);
    }
    if (from.platform !== undefined) checkFromPlatform(plan, planned, sink);
  }
}

function checkFromPlatform(plan: BuildPlan, planned: PlannedStage, sink: ProblemSink): void {
  const from = planned.stage.from;
  const platformText = from.platform as string;
  const result = expandWord(platformText, envFromMap(plan.globalArgs), { escapeToken: plan.dockerfile.escapeToken });
  if (result.matched.size === 1 && result.unmatched.size === 0 && result.matched.has('TARGETPLATFORM') && result.result === plan.globalArgs.get('TARGETPLATFORM')) {
    sink.warn(RULES.RedundantTargetPlatform, `Setting platform to predefined ${platformText} in FROM is redundant as this is the default behavior`, from.location);
  }
  if (result.matched.size > 0 || result.unmatched.size > 0) return;
  const parsed = parsePlatform(result.result);
  if ('error' in parsed) return;
  const name = planned.stage.name ?? '';
  if (name.includes(parsed.os) || name.includes(parsed.architecture)) return;
  sink.warn(RULES.FromPlatformFlagConstDisallowed, `FROM --platform flag should not use constant value "${result.result}"`, from.location, {
    hint: 'use --platform=$BUILDPLATFORM, or name the stage after the platform',
  });
}

/** Walks each stage in build order with a variable scope, reporting undefined variables. */
function checkStages(plan: BuildPlan, options: LintOptions, sink: ProblemSink): void {
  const scopes = new Map<number, StageScope>();
  const states = new Map<number, StageCheckState>();
  for (const planned of plan.stages) {
    const index = planned.stage.index;
    const base = planned.base;
    const imageHint = base.kind === 'image' ? `unless the base image ${base.reference} sets it` : undefined;
    const onUndefined = (name: string, instruction: Instruction, known: readonly string[]): void => {
      const close = suggest({ value: name, candidates: known, caseSensitive: true });
      sink.warn(RULES.UndefinedVar, `Usage of undefined variable '$${name}'${close === undefined ? '' : ` (did you mean $${close}?)`}`, instruction.location, {
        comments: instruction.comments,
        ...(imageHint === undefined ? {} : { hint: imageHint }),
      });
    };
    const parent = base.kind === 'stage' ? scopes.get(base.index) : undefined;
    const scope =
      parent?.child({ onUndefined }) ??
      new StageScope({
        escapeToken: plan.dockerfile.escapeToken,
        buildArgs: options.buildArgs ?? new Map(),
        globalArgs: plan.globalArgs,
        baseEnv: new Map(base.kind === 'scratch' ? [] : [['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']]),
        onUndefined,
      });
    const inherited = base.kind === 'stage' ? states.get(base.index) : undefined;
    const state: StageCheckState = { workdirSet: inherited?.workdirSet ?? false, shellSet: inherited?.shellSet ?? false, seen: new Map() };
    checkFrom(planned.stage.from, sink);
    for (const instruction of planned.stage.instructions) {
      let expanded: Instruction;
      try {
        expanded = scope.apply(instruction);
      } catch (error) {
        if (error instanceof CaissonError) {
          sink.error(error);
          continue;
        }
        throw error;
      }
      checkInstruction(expanded, state, sink);
    }
    scopes.set(index, scope);
    states.set(index, state);
  }
}

/** Parses every instruction on its own so that all instruction errors are reported at once. */
function typeEach(ast: DockerfileAst, sink: ProblemSink): boolean {
  let ok = true;
  for (const node of ast.instructions) {
    try {
      parseInstruction({ node, file: ast.file, escapeToken: ast.escapeToken });
    } catch (error) {
      if (!(error instanceof CaissonError)) throw error;
      sink.error(error);
      ok = false;
    }
  }
  return ok;
}

/** Lints a Dockerfile. Never throws for problems in the Dockerfile: they are in the report. */
export function lintDockerfile(options: LintOptions): LintReport {
  const file = options.file ?? 'Dockerfile';
  const sink = new ProblemSink();
  const report = (): LintReport => ({ file, problems: sink.problems, warningsAreErrors: sink.config.error });
  let ast: DockerfileAst;
  try {
    ast = parseDockerfile({ text: options.text, file });
  } catch (error) {
    if (!(error instanceof CaissonError)) throw error;
    sink.error(error);
    return report();
  }
  checkDirectives(ast, sink);
  for (const warning of ast.warnings) {
    sink.warn(RULES.NoEmptyContinuation, 'Empty continuation line', { file, line: warning.line }, { hint: 'remove the empty line or end the instruction before it' });
  }
  if (!typeEach(ast, sink)) return report();
  try {
    const dockerfile = toDockerfile(ast);
    checkCasing(dockerfile, sink);
    checkStageNames(dockerfile, sink);
    checkDescriptions(dockerfile, sink);
    const plan = planBuild({
      dockerfile,
      ...(options.buildArgs === undefined ? {} : { buildArgs: options.buildArgs }),
      ...(options.targetPlatform === undefined ? {} : { targetPlatform: options.targetPlatform }),
    });
    checkFromLines(plan, options, sink);
    checkStages(plan, options, sink);
  } catch (error) {
    if (!(error instanceof CaissonError)) throw error;
    sink.error(error);
  }
  return report();
}
