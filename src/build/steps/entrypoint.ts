/** ENTRYPOINT: config Entrypoint; a CMD inherited from the base is cleared (BuildKit, Docker). */
import type { EntrypointInstruction } from '../../dockerfile/index.js';
import { commandArgv } from './command-config.js';
import { quotedList, type Step } from './step.js';

export const entrypointStep: Step<EntrypointInstruction> = async ({ instruction, state }) => {
  const argv = commandArgv({ command: instruction.command, shell: state.shell });
  state.config.Entrypoint = argv;
  if (!state.cmdSet) delete state.config.Cmd;
  return { createdBy: `ENTRYPOINT ${quotedList(argv)}` };
};
