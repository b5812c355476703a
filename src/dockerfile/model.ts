/**
 * Syntax tree → typed Dockerfile: every instruction parsed, grouped into stages (each begins at
 * a FROM), with the meta ARGs that come before the first FROM.
 */
import { CaissonError } from '../errors.js';
import type { Directive, DockerfileAst, ParserWarning } from './ast.js';
import { parseInstruction } from './instructions/parse.js';
import type { ArgInstruction, FromInstruction, StageInstruction } from './instructions/types.js';

export interface Stage {
  /** Position among the stages, from 0 (what `COPY --from=0` names). */
  readonly index: number;
  /** `AS name`, lower-cased; undefined for unnamed stages. */
  readonly name: string | undefined;
  readonly from: FromInstruction;
  readonly instructions: readonly StageInstruction[];
}

export interface Dockerfile {
  readonly file: string;
  readonly escapeToken: '\\' | '`';
  readonly directives: readonly Directive[];
  /** ARGs before the first FROM: usable in FROM lines, and by `ARG name` inside a stage. */
  readonly metaArgs: readonly ArgInstruction[];
  readonly stages: readonly Stage[];
  readonly parserWarnings: readonly ParserWarning[];
}

/** A stage's display name: its `AS` name, or `stage-<index>` as BuildKit names it. */
export function stageDisplayName(stage: Stage): string {
  return stage.name ?? `stage-${stage.index}`;
}

/** Types every instruction and groups them into stages. Throws CaissonError with file:line. */
export function toDockerfile(ast: DockerfileAst): Dockerfile {
  const metaArgs: ArgInstruction[] = [];
  const stages: { index: number; name: string | undefined; from: FromInstruction; instructions: StageInstruction[] }[] = [];
  for (const node of ast.instructions) {
    const instruction = parseInstruction({ node, file: ast.file, escapeToken: ast.escapeToken });
    if (instruction.kind === 'from') {
      stages.push({ index: stages.length, name: instruction.stageName, from: instruction, instructions: [] });
      continue;
    }
    const current = stages.at(-1);
    if (current !== undefined) {
      current.instructions.push(instruction);
    } else if (instruction.kind === 'arg') {
      metaArgs.push(instruction);
    } else {
      throw new CaissonError({
        code: 'ERR_DOCKERFILE_STAGE',
        message: `${instruction.keyword.toUpperCase()} before the first FROM: no build stage in current context`,
        hint: 'only ARG may come before the first FROM; start the stage with FROM <image>',
        location: instruction.location,
      });
    }
  }
  if (stages.length === 0) {
    throw new CaissonError({
      code: 'ERR_DOCKERFILE_STAGE',
      message: 'dockerfile contains no stages to build',
      hint: 'add a FROM instruction',
      location: { file: ast.file, line: ast.instructions.at(-1)?.range.end ?? 1 },
    });
  }
  return {
    file: ast.file,
    escapeToken: ast.escapeToken,
    directives: ast.directives,
    metaArgs,
    stages,
    parserWarnings: ast.warnings,
  };
}
