/** VOLUME ["/path", ...] | VOLUME /path ... */
import { NO_FLAGS, parseFlags } from './flags.js';
import type { InstructionRequest } from './request.js';
import { trimSpace } from '../text.js';
import type { VolumeInstruction } from './types.js';

export function parseVolume(request: InstructionRequest): VolumeInstruction {
  request.requireArgs();
  parseFlags(request, NO_FLAGS);
  const volumes = request.args.map((volume) => {
    const trimmed = trimSpace(volume);
    if (trimmed === '') request.fail('VOLUME specified can not be an empty string', 'write VOLUME ["/path"]');
    return trimmed;
  });
  return { kind: 'volume', ...request.base, volumes };
}
