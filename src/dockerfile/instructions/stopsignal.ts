/** STOPSIGNAL <signal> (SIGTERM, 15, ...) */
import { NO_FLAGS, parseFlags } from './flags.js';
import type { InstructionRequest } from './request.js';
import type { StopsignalInstruction } from './types.js';

export function parseStopsignal(request: InstructionRequest): StopsignalInstruction {
  const signal = request.requireOneArg();
  parseFlags(request, NO_FLAGS);
  return { kind: 'stopsignal', ...request.base, signal };
}
