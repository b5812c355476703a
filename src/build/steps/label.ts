/** LABEL: sets config Labels (later values win). */
import type { LabelInstruction } from '../../dockerfile/index.js';
import type { Step } from './step.js';

export const labelStep: Step<LabelInstruction> = async ({ instruction, state }) => {
  const labels = { ...state.config.Labels };
  for (const pair of instruction.labels) labels[pair.key] = pair.value;
  state.config.Labels = labels;
  return { createdBy: `LABEL ${instruction.labels.map((pair) => `${pair.key}=${pair.value}`).join(' ')}` };
};
