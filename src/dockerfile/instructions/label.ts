/** LABEL <key>=<value> ... */
import { NO_FLAGS, parseFlags } from './flags.js';
import { toKeyValues } from './key-values.js';
import type { InstructionRequest } from './request.js';
import type { LabelInstruction } from './types.js';

export function parseLabel(request: InstructionRequest): LabelInstruction {
  parseFlags(request, NO_FLAGS);
  return { kind: 'label', ...request.base, labels: toKeyValues(request) };
}
