/** ARG <name>[=<default>] ... */
import { NO_FLAGS, parseFlags } from './flags.js';
import type { InstructionRequest } from './request.js';
import type { ArgDefinition, ArgInstruction } from './types.js';

export function parseArg(request: InstructionRequest): ArgInstruction {
  request.requireArgs();
  parseFlags(request, NO_FLAGS);
  const args = request.args.map((word): ArgDefinition => {
    const equals = word.indexOf('=');
    if (equals < 0) return { key: word };
    if (equals === 0) request.fail('ARG names can not be blank', 'write ARG <name>[=<default>]');
    return { key: word.slice(0, equals), value: word.slice(equals + 1) };
  });
  return { kind: 'arg', ...request.base, args };
}
