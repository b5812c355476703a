/** SHELL ["executable", "arg"] (JSON form only) */
import { NO_FLAGS, parseFlags } from './flags.js';
import type { InstructionRequest } from './request.js';
import type { ShellInstruction } from './types.js';

export function parseShell(request: InstructionRequest): ShellInstruction {
  parseFlags(request, NO_FLAGS);
  request.requireArgs();
  if (!request.node.json) {
    request.fail('SHELL requires the arguments to be in JSON form', 'write SHELL ["/bin/bash", "-c"]');
  }
  return { kind: 'shell', ...request.base, shell: [...request.args] };
}
