/** WORKDIR <path> */
import { NO_FLAGS, parseFlags } from './flags.js';
import type { InstructionRequest } from './request.js';
import type { WorkdirInstruction } from './types.js';

export function parseWorkdir(request: InstructionRequest): WorkdirInstruction {
  const path = request.requireOneArg();
  parseFlags(request, NO_FLAGS);
  return { kind: 'workdir', ...request.base, path };
}
