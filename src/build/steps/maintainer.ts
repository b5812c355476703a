/** MAINTAINER: the config's author (deprecated; lint says so). */
import type { MaintainerInstruction } from '../../dockerfile/index.js';
import type { Step } from './step.js';

export const maintainerStep: Step<MaintainerInstruction> = async ({ instruction, state }) => {
  state.author = instruction.maintainer;
  return { createdBy: `MAINTAINER ${instruction.maintainer}` };
};
