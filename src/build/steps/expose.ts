/** EXPOSE: config ExposedPorts, `80` meaning `80/tcp`. */
import type { ExposeInstruction } from '../../dockerfile/index.js';
import type { Step } from './step.js';

export const exposeStep: Step<ExposeInstruction> = async ({ instruction, state }) => {
  const ports: Record<string, object> = { ...state.config.ExposedPorts };
  const added = instruction.ports.map((port) => (port.includes('/') ? port.toLowerCase() : `${port}/tcp`));
  for (const port of added) ports[port] = {};
  state.config.ExposedPorts = ports;
  return { createdBy: `EXPOSE ${added.join(' ')}` };
};
