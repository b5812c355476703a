/** ENTRYPOINT ["executable", "arg"] | ENTRYPOINT command arg; `ENTRYPOINT []` clears it. */
import { toCommandLine } from './command-line.js';
import { NO_FLAGS, parseFlags } from './flags.js';
import type { InstructionRequest } from './request.js';
import type { EntrypointInstruction } from './types.js';

export function parseEntrypoint(request: InstructionRequest): EntrypointInstruction {
  parseFlags(request, NO_FLAGS);
  return { kind: 'entrypoint', ...request.base, command: toCommandLine({ args: request.args, json: request.node.json, heredocs: [] }) };
}
