/**
 * dockerfile: the Dockerfile frontend, pure (no I/O). Text → syntax tree (BuildKit's lexing,
 * directives, heredocs; `dumpDockerfile` prints BuildKit's s-expression form) → typed
 * instructions grouped into stages → a build plan (meta ARGs, platform ARGs, stage graph,
 * targets) → per-stage variable scopes that expand instructions exactly where BuildKit does.
 * Lint checks are data (`lintDockerfile`).
 *
 * May import: ../errors.js, ../log.js, ../image/index.js (platforms only).
 */
import type { Dockerfile } from './model.js';
import { toDockerfile } from './model.js';
import { parseDockerfile, type ParseDockerfileOptions } from './parser.js';

export type { DockerfileAst, Directive, Heredoc, InstructionNode, LineRange, ParserWarning } from './ast.js';
export { parseDockerfile, type ParseDockerfileOptions } from './parser.js';
export { dumpDockerfile } from './dump.js';
export type * from './instructions/types.js';
export { parseChmod, applyChmod, type ChmodSpec } from './instructions/chmod.js';
export { toDockerfile, stageDisplayName, type Dockerfile, type Stage } from './model.js';
export { planBuild, type BuildPlan, type PlannedStage, type PlanOptions, type StageDependency, type DependencySource } from './plan.js';
export { StageScope, type StageScopeOptions } from './scope.js';
export { expandInstruction, type ExpandOptions } from './expand.js';
export { formatPlatform, hostPlatform, parsePlatform, platformArgs, type Platform } from './platform.js';
export { lintDockerfile, type LintOptions, type LintProblem, type LintReport } from './lint/lint.js';
export { RULES as LINT_RULES, type LintRule } from './lint/rules.js';
export { expandWord, expandWords, envFromList, envFromMap, emptyEnv, type EnvLookup, type ExpandResult, type ShellLexOptions } from './shell/index.js';

/** Parses and types a Dockerfile in one call. Throws CaissonError naming file:line. */
export function loadDockerfile(options: ParseDockerfileOptions): Dockerfile {
  return toDockerfile(parseDockerfile(options));
}
