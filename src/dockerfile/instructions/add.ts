/**
 * ADD [--chown] [--chmod] [--link] [--checksum] [--keep-git-dir] [--unpack] [--exclude]
 *     <src>... <dest>  (context paths, URLs, git repositories, local archives)
 */
import { FLAG_SPECS, parseFlags } from './flags.js';
import { parseFileTransfer } from './file-transfer.js';
import type { InstructionRequest } from './request.js';
import type { AddInstruction } from './types.js';

export function parseAdd(request: InstructionRequest): AddInstruction {
  const flags = parseFlags(request, FLAG_SPECS.ADD);
  const transfer = parseFileTransfer(request, flags);
  const checksum = flags.string('checksum');
  const keepGitDir = flags.bool('keep-git-dir');
  const unpack = flags.bool('unpack');
  return {
    kind: 'add',
    ...request.base,
    ...transfer,
    ...(checksum === undefined || checksum === '' ? {} : { checksum }),
    ...(keepGitDir === undefined ? {} : { keepGitDir }),
    ...(unpack === undefined ? {} : { unpack }),
  };
}
