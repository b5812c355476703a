/** SHELL: what later shell-form RUN, CMD and ENTRYPOINT run through; also config Shell. */
import type { ShellInstruction } from '../../dockerfile/index.js';
import type { Step } from './step.js';

export const shellStep: Step<ShellInstruction> = async ({ instruction, state }) => {
  state.shell = instruction.shell;
  state.config.Shell = instruction.shell;
  return { createdBy: `SHELL [${instruction.shell.join(' ')}]` };
};
