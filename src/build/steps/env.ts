/** ENV: the scope already holds the values (they reach RUN and the config's Env). */
import type { EnvInstruction } from '../../dockerfile/index.js';
import type { Step } from './step.js';

export const envStep: Step<EnvInstruction> = async ({ instruction }) => ({
  createdBy: `ENV ${instruction.env.map((pair) => `${pair.key}=${pair.value}`).join(' ')}`,
});
