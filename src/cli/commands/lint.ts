/**
 * `caisson lint [--format text|json] [--strict] [Dockerfile]`: errors and build-check warnings.
 * Exit 0 when clean or only warnings; 1 when there are errors, or warnings with --strict (or a
 * `# check=error=true` directive).
 */
import { lintDockerfile, type LintProblem, type LintReport } from '../../dockerfile/index.js';
import { formatLocation } from '../../errors.js';
import { parseBuildArgs } from '../build-args.js';
import type { CommandContext } from '../context.js';
import { readDockerfile } from '../input.js';
import type { ParsedArgs } from '../spec.js';

function renderProblem(problem: LintProblem): string {
  const where = problem.location === undefined ? '' : `${formatLocation(problem.location)}: `;
  let out = `${where}${problem.level} ${problem.rule}: ${problem.message}\n`;
  if (problem.hint !== undefined) out += `    hint: ${problem.hint.replaceAll('\n', '\n          ')}\n`;
  if (problem.url !== undefined) out += `    see ${problem.url}\n`;
  return out;
}

function counts(report: LintReport): { errors: number; warnings: number } {
  const errors = report.problems.filter((p) => p.level === 'error').length;
  return { errors, warnings: report.problems.length - errors };
}

export async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const { file, text } = await readDockerfile(context, args.positional);
  const report = lintDockerfile({ text, file, buildArgs: parseBuildArgs(args.strings('build-arg'), context.env) });
  const { errors, warnings } = counts(report);
  const failsOnWarnings = args.bool('strict') || report.warningsAreErrors;
  context.exitCode = errors > 0 || (failsOnWarnings && warnings > 0) ? 1 : 0;
  if (args.string('format') === 'json') {
    context.stdout(`${JSON.stringify({ file: report.file, errors, warnings, problems: report.problems }, null, 2)}\n`);
    return;
  }
  context.stdout(report.problems.map(renderProblem).join(''));
  context.stdout(`${file}: ${errors} error(s), ${warnings} warning(s)\n`);
}
