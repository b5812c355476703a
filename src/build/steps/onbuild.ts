/** ONBUILD: the trigger is stored in config OnBuild, run by builds that use this image as a base. */
import type { OnbuildInstruction } from '../../dockerfile/index.js';
import type { Step } from './step.js';

export const onbuildStep: Step<OnbuildInstruction> = async ({ instruction, state }) => {
  state.config.OnBuild = [...(state.config.OnBuild ?? []), instruction.expression];
  return { createdBy: `ONBUILD ${instruction.expression}` };
};
