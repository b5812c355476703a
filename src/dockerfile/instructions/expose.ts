/** EXPOSE <port>[/<protocol>] ... */
import { NO_FLAGS, parseFlags } from './flags.js';
import type { InstructionRequest } from './request.js';
import type { ExposeInstruction } from './types.js';

export function parseExpose(request: InstructionRequest): ExposeInstruction {
  request.requireArgs();
  parseFlags(request, NO_FLAGS);
  return { kind: 'expose', ...request.base, ports: [...request.args].sort() };
}
