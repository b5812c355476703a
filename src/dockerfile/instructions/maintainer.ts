/** MAINTAINER <name> (deprecated: LABEL org.opencontainers.image.authors=...) */
import { NO_FLAGS, parseFlags } from './flags.js';
import type { InstructionRequest } from './request.js';
import type { MaintainerInstruction } from './types.js';

export function parseMaintainer(request: InstructionRequest): MaintainerInstruction {
  const maintainer = request.requireOneArg();
  parseFlags(request, NO_FLAGS);
  return { kind: 'maintainer', ...request.base, maintainer };
}
