/**
 * RUN: the command runs in exec's sandbox on an overlay of the stage's layers (each extracted
 * once in the store) with a fresh upperdir, which becomes the step's layer; in the chroot and
 * container sandboxes, on a directory root the walk snapshotter compares (run-directory.ts). Shell form goes
 * through SHELL; the environment is the stage's variables (ENV and declared ARGs, with BuildKit's
 * default PATH); USER and WORKDIR apply. A non-zero exit fails the build with the command's
 * own status, the instruction's file:line and its last lines of output.
 */
import { rm } from 'node:fs/promises';
import { CaissonError, formatLocation } from '../../errors.js';
import type { CommandLine, RunInstruction } from '../../dockerfile/index.js';
import { runInSandbox, type SandboxUser } from '../../exec/index.js';
import { distinctLowers, initialNamespaceRoot, type StoredLayer } from '../../fs/index.js';
import { LayerView } from '../layer-view.js';
import { DEFAULT_PATH, type StageLayer, type StageState } from '../stage-state.js';
import { stageUser } from './identity.js';
import { sealLayer } from './layer.js';
import { cachedStep } from '../step-cache.js';
import { mountInputs, runMounts } from './run-mounts.js';
import { runOnDirectory } from './run-directory.js';
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
  const { inputs: mounts, changed } = await mountInputs(input);
  return cachedStep(input, { extra: { mounts }, changed, build: () => runCommand(input), ...(mounts.length === 0 ? {} : { recheck: async () => ({ mounts: (await mountInputs(input)).inputs }) }) });
};

/** How a command ended and what its changes become (sealed only when it succeeded). */
export interface RunOutcome {
  readonly exitCode: number;
  readonly signal?: string;
  readonly seal: () => Promise<StageLayer | 'empty'>;
  readonly discard: () => Promise<void>;
}

/** What both sandboxes' paths are given. */
export interface RunCommand {
  readonly argv: readonly string[];
  readonly env: readonly string[];
  readonly user: SandboxUser;
  readonly output: RunOutput;
}

/** The namespace sandboxes: an overlay of the stage's layers with a fresh upperdir, sealed as the layer. */
async function runOnOverlay(input: StepInput<RunInstruction>, command: RunCommand, lowers: readonly StoredLayer[]): Promise<RunOutcome> {
  const { instruction, session } = input;
  const directories = await session.store.stepDirectories();
  try {
    const scratch = await session.scratch('run');
    const { mounts, secretEnv, release } = await runMounts({ ...input, scratch });
    const result = await session.withRunSlot(() => runInSandbox({
      rootfs: { kind: 'overlay', lowers: distinctLowers(lowers.map((layer) => layer.root)), upper: directories.upper, work: directories.work },
      argv: command.argv,
      env: command.env,
      ...(secretEnv.size === 0 ? {} : { secretEnv }),
      cwd: input.state.config.WorkingDir ?? '/',
      user: command.user,
      network: instruction.network,
      rootless: session.options.sandbox === undefined ? !initialNamespaceRoot() : session.options.sandbox === 'rootless',
      mounts,
      scratch,
      onOutput: (chunk, stream) => command.output.write(chunk, stream),
      ...(session.options.signal === undefined ? {} : { signal: session.options.signal }),
    })).finally(async () => {
      // Secret files and private bind copies go as soon as the command is done.
      await Promise.all([release(), rm(scratch, { recursive: true, force: true })]);
    });
    return { ...result, seal: () => sealLayer({ session, directories }), discard: directories.discard };
  } catch (error) {
    await directories.discard();
    throw error;
  }
}

async function runCommand(input: StepInput<RunInstruction>): ReturnType<Step<RunInstruction>> {
  const { instruction, state, session } = input;
  // Only a step that runs needs the platform's programs to run here (a cache hit needs no qemu).
  await session.checkRunnable(state.platform);
  const lowers = await session.lowers(state.layers);
  const view = new LayerView({ layers: lowers });
  const user = stageUser({ user: state.config.User, view, location: instruction.location });
  const argv = runArgv({ command: instruction.command, shell: state.shell });
  const output = new RunOutput({ logger: session.options.logger });
  const command = { argv, env: runEnvironment(state), user, output };
  const sandbox = session.options.sandbox;
  const outcome = sandbox === 'chroot' || sandbox === 'container' ? await runOnDirectory({ input, command, mode: sandbox }) : await runOnOverlay(input, command, lowers);
  const tail = output.finish();
  if (outcome.exitCode !== 0) {
    await outcome.discard();
    const status = outcome.signal === undefined ? `exit status ${outcome.exitCode}` : `signal ${outcome.signal}`;
    throw new CaissonError({
      code: 'ERR_RUN_FAILED',
      message: `RUN ${instruction.command.form === 'exec' ? JSON.stringify(instruction.command.args) : instruction.command.args[0] ?? ''} failed with ${status}`,
      location: instruction.location,
      hint: tail.length === 0 ? `The command printed nothing; see ${formatLocation(instruction.location)}.` : `Its last lines of output:\n${tail.map((line) => `  ${line}`).join('\n')}`,
      exitStatus: outcome.exitCode === 0 ? 1 : outcome.exitCode,
    });
  }
  return { createdBy: createdBy(state, argv), layer: await outcome.seal() };
}
