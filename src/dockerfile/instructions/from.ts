/** FROM [--platform=<platform>] <image> [AS <name>] */
import { FLAG_SPECS, parseFlags } from './flags.js';
import type { InstructionRequest } from './request.js';
import type { FromInstruction } from './types.js';

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

export function parseFrom(request: InstructionRequest): FromInstruction {
  const [image, asKeyword, name] = request.args;
  if (image === undefined || !(request.args.length === 1 || (request.args.length === 3 && asKeyword?.toLowerCase() === 'as'))) {
    request.fail('FROM requires either one or three arguments', 'write FROM <image> or FROM <image> AS <name>');
  }
  let stageName: string | undefined;
  if (name !== undefined) {
    stageName = name.toLowerCase();
    if (!STAGE_NAME.test(stageName)) {
      request.fail(
        `invalid name for build stage: "${name}", name can't start with a number or contain symbols`,
        'stage names start with a letter and contain only letters, digits, "-", "_" and "."',
      );
    }
  }
  const platform = parseFlags(request, FLAG_SPECS.FROM).string('platform');
  return {
    kind: 'from',
    ...request.base,
    image,
    ...(stageName === undefined ? {} : { stageName, asKeyword, stageNameAsWritten: name }),
    ...(platform === undefined ? {} : { platform }),
  };
}
