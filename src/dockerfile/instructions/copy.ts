/** COPY [--from=<stage|image>] [--chown] [--chmod] [--link] [--parents] [--exclude] <src>... <dest> */
import { FLAG_SPECS, parseFlags } from './flags.js';
import { parseFileTransfer } from './file-transfer.js';
import type { InstructionRequest } from './request.js';
import type { CopyInstruction } from './types.js';

export function parseCopy(request: InstructionRequest): CopyInstruction {
  const flags = parseFlags(request, FLAG_SPECS.COPY);
  const transfer = parseFileTransfer(request, flags);
  const from = flags.string('from');
  return {
    kind: 'copy',
    ...request.base,
    ...transfer,
    ...(from === undefined || from === '' ? {} : { from }),
    parents: flags.bool('parents') ?? false,
  };
}
