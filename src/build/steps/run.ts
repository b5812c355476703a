/**
 * RUN: the command runs in exec's sandbox on an overlay of the stage's layers (each extracted
 * once in the store) with a fresh upperdir, which becomes the step's layer. Shell form goes
 * through SHELL; the environment is the stage's variables (ENV and declared ARGs, with BuildKit's
 * default PATH); USER and WORKDIR apply. A non-zero exit fails the build with the command's
 * own status, the instruction's file:line and its last lines of output.
 */
import { rm } from 'node:fs/promises';
import { CaissonError, formatLocation } from '../../errors.js';
import type { CommandLine, RunInstruction } from '../../dockerfile/index.js';
import { runInSandbox } from '../../exec/index.js';
import { initialNamespaceRoot } from '../../fs/index.js';
import { LayerView } from '../layer-view.js';
import { DEFAULT_PATH, type StageState } from '../stage-state.js';
import { stageUser } from './identity.js';
import { sealLayer } from './layer.js';
import { cachedStep } from '../step-cache.js';
import { mountInputs, runMounts } from './run-mounts.js';
import { RunOutput } from './run-output.js';
import type { Step, StepInput } from './step.js';

/** The argv: exec form as written; shell form through SHELL, heredocs handed to the shell. */
export function runArgv(options: { readonly command: CommandLine; readonly shell: readonly string[] }): string[] {
  const { command, shell } = options;
  if (command.form === 'exec') return [...command.args];
  const text = command.args[0] ?? '';
  const only = command.files.length === 1 && /^<<-?\s*["']?[A-Za-z0-9_]+["']?\s*$/.test(text.trim()) ? command.files[0] : undefined;
  // `RUN <<EOF` alone: the heredoc is the script. Otherwise the shell reads the heredocs itself.
  if (only !== undefined) return [...shell, only.content];
  const script = command.files.length === 0 ? text : `${text}\n${command.files.map((file) => `${file.content}${file.name}\n`).join('')}`;
  return [...shell, script];
}

/** The command's environment: every stage variable, and BuildKit's PATH when none is set. */
export function runEnvironment(state: StageState): string[] {
  const variables = new Map(state.scope.variables);
  if (!variables.has('PATH')) variables.set('PATH', DEFAULT_PATH);
  return [...variables].map(([key, value]) => `${key}=${value}`);
}

/** BuildKit's history text: `RUN |2 A=1 B=2 /bin/sh -c cmd # buildkit`. */
function createdBy(state: StageState, argv: readonly string[]): string {
  const args = [...state.scope.declaredArgs].flatMap((name) => {
    const value = state.scope.variables.get(name);
    return value === undefined ? [] : [`${name}=${value}`];
  });
  const prefix = args.length === 0 ? '' : `|${args.length} ${args.join(' ')} `;
  return `RUN ${prefix}${argv.join(' ')} # buildkit`;
}

export const runStep: Step<RunInstruction> = async (input) => {
  const mounts = await mountInputs(input);
  return cachedStep(input, { extra: { mounts }, build: () => runCommand(input) });
};

async function runCommand(input: StepInput<RunInstruction>): ReturnType<Step<RunInstruction>> {
  const { instruction, state, session } = input;
  const lowers = await session.lowers(state.layers);
  const view = new LayerView({ layers: lowers });
  const user = stageUser({ user: state.config.User, view, location: instruction.location });
  const argv = runArgv({ command: instruction.command, shell: state.shell });
  const directories = await session.store.stepDirectories();
  const output = new RunOutput({ logger: session.options.logger });
  let exitCode: number;
  let signal: string | undefined;
  try {
    const scratch = await session.scratch('run');
    const { mounts, secretEnv, release } = await runMounts({ ...input, scratch });
    const result = await session.withRunSlot(() => runInSandbox({
      rootfs: { kind: 'overlay', lowers: lowers.map((layer) => layer.root), upper: directories.upper, work: directories.work },
      argv,
      env: runEnvironment(state),
      ...(secretEnv.size === 0 ? {} : { secretEnv }),
      cwd: state.config.WorkingDir ?? '/',
      user,
      network: instruction.network,
      rootless: !initialNamespaceRoot(),
      mounts,
      scratch,
      onOutput: (chunk, stream) => output.write(chunk, stream),
      ...(session.options.signal === undefined ? {} : { signal: session.options.signal }),
    })).finally(async () => {
      // Secret files and private bind copies go as soon as the command is done.
      await Promise.all([release(), rm(scratch, { recursive: true, force: true })]);
    });
    exitCode = result.exitCode;
    signal = result.signal;
  } catch (error) {
    await directories.discard();
    throw error;
  }
  const tail = output.finish();
  if (exitCode !== 0) {
    await directories.discard();
    const status = signal === undefined ? `exit status ${exitCode}` : `signal ${signal}`;
    throw new CaissonError({
      code: 'ERR_RUN_FAILED',
      message: `RUN ${instruction.command.form === 'exec' ? JSON.stringify(instruction.command.args) : instruction.command.args[0] ?? ''} failed with ${status}`,
      location: instruction.location,
      hint: tail.length === 0 ? `The command printed nothing; see ${formatLocation(instruction.location)}.` : `Its last lines of output:\n${tail.map((line) => `  ${line}`).join('\n')}`,
      exitStatus: exitCode === 0 ? 1 : exitCode,
    });
  }
  return { createdBy: createdBy(state, argv), layer: await sealLayer({ session, directories }) };
}
