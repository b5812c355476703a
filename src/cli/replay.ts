/**
 * The front door of `caisson build`: asks the build record (build-record.ts) before the CLI is
 * loaded. bin/caisson.js imports this first for a command line that names build; the bundle makes
 * it one file (scripts/bundle.mjs, dist/bundle/replay), a fifth of the CLI that loads for a
 * build, so that a no-change rebuild answered from its record loads only what answering needs.
 * Whatever this cannot settle (another command, --help, a usage error, a failure while answering)
 * it leaves to runCli, which reports it as always.
 */
import { parseCommandLine } from './argv.js';
import { BUILD_COMMAND } from './command-specs.js';
import { commandContext, type CliIo } from './context.js';
import { BuildRecorder } from './build-record.js';
import { GLOBAL_OPTIONS } from './global-options.js';

/**
 * What the front door did with a command line: answered it from the build record (nothing more to
 * do, exit 0); checked the record, which does not answer it (the build runs, without reading it
 * again); or left it unchecked (runCli does all).
 */
export type ReplayOutcome = 'answered' | 'checked' | 'unchecked';

/** Answers `argv` (without node and script) from its build record when it is a build that has one and nothing it read changed. */
export async function replayBuild(argv: readonly string[], io: CliIo): Promise<ReplayOutcome> {
  try {
    const invocation = parseCommandLine({ argv, commands: [BUILD_COMMAND], global: GLOBAL_OPTIONS });
    if (invocation.kind !== 'run') return 'unchecked';
    const context = commandContext({ io, global: invocation.global, sources: new Map() });
    const recorder = BuildRecorder.open({ args: invocation.args, context });
    if (recorder === undefined) return 'unchecked';
    return (await recorder.replay()) ? 'answered' : 'checked';
  } catch {
    return 'unchecked';
  }
}
