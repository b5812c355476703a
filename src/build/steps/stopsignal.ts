/** STOPSIGNAL: config StopSignal. */
import type { StopsignalInstruction } from '../../dockerfile/index.js';
import type { Step } from './step.js';

export const stopsignalStep: Step<StopsignalInstruction> = async ({ instruction, state }) => {
  state.config.StopSignal = instruction.signal;
  return { createdBy: `STOPSIGNAL ${instruction.signal}` };
};
