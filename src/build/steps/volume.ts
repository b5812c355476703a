/** VOLUME: config Volumes. */
import type { VolumeInstruction } from '../../dockerfile/index.js';
import type { Step } from './step.js';

export const volumeStep: Step<VolumeInstruction> = async ({ instruction, state }) => {
  const volumes: Record<string, object> = { ...state.config.Volumes };
  for (const volume of instruction.volumes) volumes[volume] = {};
  state.config.Volumes = volumes;
  return { createdBy: `VOLUME [${instruction.volumes.join(' ')}]` };
};
