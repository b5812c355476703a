/** CMD: config Cmd. */
import type { CmdInstruction } from '../../dockerfile/index.js';
import { commandArgv } from './command-config.js';
import { quotedList, type Step } from './step.js';

export const cmdStep: Step<CmdInstruction> = async ({ instruction, state }) => {
  const argv = commandArgv({ command: instruction.command, shell: state.shell });
  state.config.Cmd = argv;
  state.cmdSet = true;
  return { createdBy: `CMD ${quotedList(argv)}` };
};
