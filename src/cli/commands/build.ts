/**
 * `caisson build [context]`: kaniko's executor. A rebuild whose build record shows that nothing
 * it read changed is answered from the record (build-record.ts), before anything else is asked:
 * it runs nothing, so needs no sandbox. bin/caisson.js asks the record first, before it loads the
 * CLI (replay.ts); what it found not to answer, this does not ask again. Any other build decides
 * its sandbox (re-running itself in a user namespace when that is rootless outside one), runs
 * (build-run.ts, which loads the build engine only then), and files a record of what it read.
 */
import { BuildRecorder } from '../build-record.js';
import type { CommandContext } from '../context.js';
import type { ParsedArgs } from '../spec.js';

export async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const recorder = BuildRecorder.open({ args, context });
  if (recorder !== undefined && context.buildRecordChecked !== true && (await recorder.replay())) return;
  const { sandboxDecision } = await import('../sandbox.js');
  const sandbox = sandboxDecision(args);
  if (sandbox.reexec && context.reexecInUserNamespace !== undefined) await context.reexecInUserNamespace();
  context.logger.info(`sandbox: ${sandbox.mode} (${sandbox.reason})`);
  const { runBuild } = await import('../build-run.js');
  await runBuild({ args, context, sandbox: sandbox.mode, ...(recorder === undefined ? {} : { recorder }) });
}
