/**
 * What a command needs from the outside world, injected so commands can run in-process in
 * tests: output streams, environment, working directory, and the exit code it sets.
 */
import { createLogger, type LogFormat, type LogLevel, type Logger } from '../log.js';
import type { ParsedArgs } from './spec.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Reads standard input to the end (for `-` as a file name). */
  readonly readStdin: () => Promise<string>;
  /** Reads standard input to the end as bytes (for `tar://stdin`); absent where input is text only. */
  readonly readStdinBytes?: () => Promise<Buffer>;
  /**
   * Tekton's results directory when caisson runs in a Tekton step (bin/caisson.js gives
   * `/tekton/results` when it exists): `caisson build` writes its results there.
   */
  readonly tektonResultsDir?: string;
  /** Aborted on SIGINT/SIGTERM: long commands stop, clean up and fail. */
  readonly signal?: AbortSignal;
  /**
   * Runs this caisson command again in a new user namespace where the caller is root (bin/caisson.js,
   * with util-linux unshare), for a build whose --sandbox resolves to rootless outside one; the
   * process then exits with the re-run's status, so this never resolves. Absent in the re-run, and
   * where commands run in-process.
   */
  readonly reexecInUserNamespace?: () => Promise<never>;
  /**
   * The build record of this command line was read already and does not answer it (bin/caisson.js
   * asks it first, replay.ts): `caisson build` does not read it again.
   */
  readonly buildRecordChecked?: boolean;
}

export interface CommandContext extends CliIo {
  readonly logger: Logger;
  /** Source texts read by the command, by file name, for error excerpts. */
  readonly sources: Map<string, string>;
  exitCode: number;
}

/** The context of a command run with `io`, logging as the global options `global` say. */
export function commandContext(options: { readonly io: CliIo; readonly global: ParsedArgs; readonly sources: Map<string, string> }): CommandContext {
  const { io, global } = options;
  const logger = createLogger({ write: io.stderr, format: global.string('log-format') as LogFormat, level: global.string('verbosity') as LogLevel });
  return { ...io, logger, sources: options.sources, exitCode: 0 };
}
