/**
 * `caisson lint [--format text|json] [--strict] [Dockerfile]`: errors and build-check warnings.
 * Exit 0 when clean or only warnings; 1 when there are errors, or warnings with --strict (or a
 * `# check=error=true` directive).
 */
import type { Argv, CommandModule } from 'yargs';
import { lintDockerfile, type LintProblem, type LintReport } from '../../dockerfile/index.js';
import { formatLocation } from '../../errors.js';
import { parseBuildArgs } from '../build-args.js';
import type { CommandContext } from '../context.js';
import { readDockerfile } from '../input.js';

interface LintArgs {
  dockerfile: string | undefined;
  format: 'text' | 'json';
  strict: boolean;
  'build-arg': string[];
}

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

export function lintCommand(context: CommandContext): CommandModule<object, LintArgs> {
  return {
    command: 'lint [dockerfile]',
    describe: 'Check a Dockerfile: syntax errors and BuildKit build-check warnings',
    builder: (yargs: Argv) =>
      yargs
        .positional('dockerfile', { type: 'string', describe: 'path of the Dockerfile, or - for standard input (default: ./Dockerfile)' })
        .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'output format' })
        .option('strict', { type: 'boolean', default: false, describe: 'exit 1 when there are warnings too' })
        .option('build-arg', { type: 'string', array: true, default: [], describe: 'KEY=VALUE for ARGs (repeat)' }) as unknown as Argv<LintArgs>,
    handler: async (args) => {
      const { file, text } = await readDockerfile(context, args.dockerfile);
      const report = lintDockerfile({ text, file, buildArgs: parseBuildArgs(args['build-arg'], context.env) });
      const { errors, warnings } = counts(report);
      const failsOnWarnings = args.strict || report.warningsAreErrors;
      context.exitCode = errors > 0 || (failsOnWarnings && warnings > 0) ? 1 : 0;
      if (args.format === 'json') {
        context.stdout(`${JSON.stringify({ file: report.file, errors, warnings, problems: report.problems }, null, 2)}\n`);
        return;
      }
      context.stdout(report.problems.map(renderProblem).join(''));
      context.stdout(`${file}: ${errors} error(s), ${warnings} warning(s)\n`);
    },
  };
}
