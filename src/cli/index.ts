/**
 * cli: the command line. The only place that reads argv and the environment, writes stdout and
 * decides the exit code. `runCli` runs one invocation with injected I/O (tests call it
 * in-process); bin/caisson.js calls it with the real process.
 *
 * May import every other folder.
 */
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { CaissonError, EXIT_CODES } from '../errors.js';
import { createLogger, LOG_LEVELS, type LogFormat, type LogLevel } from '../log.js';
import { lintCommand } from './commands/lint.js';
import { parseCommand } from './commands/parse.js';
import type { CliIo, CommandContext } from './context.js';
import { renderError } from './render-error.js';

export type { CliIo } from './context.js';

/** caisson's version, from package.json. */
export function caissonVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function option<T extends string>(argv: readonly string[], name: string, allowed: readonly T[], fallback: T): T {
  const index = argv.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  if (index < 0) return fallback;
  const arg = argv[index] as string;
  const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[index + 1];
  return allowed.includes(value as T) ? (value as T) : fallback;
}

/** Runs caisson with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const context: CommandContext = {
    ...io,
    logger: createLogger({
      write: io.stderr,
      format: option<LogFormat>(argv, 'log-format', ['text', 'color', 'json'], 'text'),
      level: option<LogLevel>(argv, 'verbosity', LOG_LEVELS, 'info'),
    }),
    sources: new Map(),
    exitCode: 0,
  };
  let usageError: string | undefined;
  const parser = yargs([...argv])
    .scriptName('caisson')
    .usage('caisson: build OCI images from Dockerfiles without a daemon or privileges\n\nUsage: caisson <command> [options]')
    .command(parseCommand(context))
    .command(lintCommand(context))
    .option('verbosity', { alias: 'v', choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'log level', global: true })
    .option('log-format', { choices: ['text', 'color', 'json'] as const, default: 'text' as LogFormat, describe: 'log format on stderr', global: true })
    .demandCommand(1, 'give a command; see caisson --help')
    .strict()
    .recommendCommands()
    .version(caissonVersion())
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new CaissonError({ code: 'ERR_USAGE', message });
    });
  let output = '';
  try {
    await parser.parseAsync([...argv], {}, (_error, _parsed, text) => {
      output = text;
    });
  } catch (error) {
    if (error instanceof CaissonError && error.code === 'ERR_USAGE') {
      usageError = error.message + (error.hint === undefined ? '' : `\nhint: ${error.hint}`);
    } else {
      io.stderr(renderError(error, context.sources));
      return error instanceof CaissonError ? error.exitCode : EXIT_CODES.ERR_INTERNAL;
    }
  }
  if (usageError !== undefined) {
    io.stderr(`error: ${usageError}\nRun "caisson --help" for usage.\n`);
    return EXIT_CODES.ERR_USAGE;
  }
  if (output !== '') io.stdout(`${output}\n`);
  return context.exitCode;
}
