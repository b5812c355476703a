/** ARG: the stage scope already declared it (StageScope.apply); BuildKit writes no history. */
import type { ArgInstruction } from '../../dockerfile/index.js';
import type { Step } from './step.js';

export const argStep: Step<ArgInstruction> = async () => ({});
