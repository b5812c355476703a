/** ENV <key>=<value> ... (or the legacy ENV <key> <value>) */
import { NO_FLAGS, parseFlags } from './flags.js';
import { toKeyValues } from './key-values.js';
import type { InstructionRequest } from './request.js';
import type { EnvInstruction } from './types.js';

export function parseEnv(request: InstructionRequest): EnvInstruction {
  parseFlags(request, NO_FLAGS);
  return { kind: 'env', ...request.base, env: toKeyValues(request) };
}
