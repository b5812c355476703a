/** USER <user>[:<group>] */
import { NO_FLAGS, parseFlags } from './flags.js';
import type { InstructionRequest } from './request.js';
import type { UserInstruction } from './types.js';

export function parseUser(request: InstructionRequest): UserInstruction {
  const user = request.requireOneArg();
  parseFlags(request, NO_FLAGS);
  return { kind: 'user', ...request.base, user };
}
