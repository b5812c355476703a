/**
 * cli: the command line. The only place that reads argv and the environment, writes stdout and
 * decides the exit code. `runCli` runs one invocation with injected I/O (tests call it
 * in-process); bin/caisson.js calls it with the real process. Commands are declared once as
 * `CommandSpec`s (command-specs.ts), which drive parsing, validation and --help; each command's code
 * (one file each under commands/) is imported only when it runs.
 *
 * May import every other folder.
 */
import { CaissonError, EXIT_CODES } from '../errors.js';
import { parseCommandLine } from './argv.js';
import { COMMANDS } from './command-specs.js';
import { commandContext, type CliIo } from './context.js';
import { GLOBAL_OPTIONS } from './global-options.js';
import { renderHelp } from './help.js';
import { renderError } from './render-error.js';
import { caissonVersion } from './version.js';

export { caissonVersion } from './version.js';

export type { CliIo } from './context.js';

export { COMMANDS } from './command-specs.js';

/** Runs caisson with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const sources = new Map<string, string>();
  try {
    const invocation = parseCommandLine({ argv, commands: COMMANDS, global: GLOBAL_OPTIONS });
    switch (invocation.kind) {
      case 'help':
        io.stdout(renderHelp({ commands: COMMANDS, global: GLOBAL_OPTIONS, ...(invocation.command === undefined ? {} : { command: invocation.command }) }));
        return 0;
      case 'version':
        io.stdout(`${caissonVersion()}\n`);
        return 0;
      case 'run': {
        const context = commandContext({ io, global: invocation.global, sources });
        const command = await invocation.command.load();
        await command.run(invocation.args, context);
        return context.exitCode;
      }
    }
  } catch (error) {
    io.stderr(renderError(error, sources));
    if (error instanceof CaissonError && error.code === 'ERR_USAGE') {
      // The command's own help when the command line names one.
      const command = argv.find((word) => COMMANDS.some((spec) => spec.name === word));
      io.stderr(`Run "caisson ${command === undefined ? '' : `${command} `}--help" for usage.\n`);
    }
    return error instanceof CaissonError ? error.exitCode : EXIT_CODES.ERR_INTERNAL;
  }
}
