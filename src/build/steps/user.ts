/** USER: config User, resolved (name → ids through the rootfs's /etc/passwd) when a RUN needs it. */
import type { UserInstruction } from '../../dockerfile/index.js';
import type { Step } from './step.js';

export const userStep: Step<UserInstruction> = async ({ instruction, state }) => {
  state.config.User = instruction.user;
  return { createdBy: `USER ${instruction.user}` };
};
