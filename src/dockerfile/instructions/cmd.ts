/** CMD ["executable", "arg"] | CMD command arg */
import { toCommandLine } from './command-line.js';
import { NO_FLAGS, parseFlags } from './flags.js';
import type { InstructionRequest } from './request.js';
import type { CmdInstruction } from './types.js';

export function parseCmd(request: InstructionRequest): CmdInstruction {
  parseFlags(request, NO_FLAGS);
  return { kind: 'cmd', ...request.base, command: toCommandLine({ args: request.args, json: request.node.json, heredocs: [] }) };
}
