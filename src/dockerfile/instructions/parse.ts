/**
 * Syntax node → typed instruction, through a table of one parser per instruction. Unknown
 * instructions fail with a suggestion ("unknown instruction 'RUNN'", hint "did you mean RUN?").
 */
import { suggest } from '../../errors.js';
import type { InstructionNode } from '../ast.js';
import { KNOWN_INSTRUCTIONS } from '../line-parsers.js';
import { parseAdd } from './add.js';
import { parseArg } from './arg.js';
import { parseCmd } from './cmd.js';
import { parseCopy } from './copy.js';
import { parseEntrypoint } from './entrypoint.js';
import { parseEnv } from './env.js';
import { parseExpose } from './expose.js';
import { parseFrom } from './from.js';
import { parseHealthcheck } from './healthcheck.js';
import { parseLabel } from './label.js';
import { parseMaintainer } from './maintainer.js';
import { parseOnbuild } from './onbuild.js';
import { InstructionRequest } from './request.js';
import { parseRun } from './run.js';
import { parseShell } from './shell.js';
import { parseStopsignal } from './stopsignal.js';
import type { Instruction } from './types.js';
import { parseUser } from './user.js';
import { parseVolume } from './volume.js';
import { parseWorkdir } from './workdir.js';

type Parser = (request: InstructionRequest, parseTrigger: (node: InstructionNode) => Instruction) => Instruction;

const PARSERS: ReadonlyMap<string, Parser> = new Map<string, Parser>([
  ['add', parseAdd],
  ['arg', parseArg],
  ['cmd', parseCmd],
  ['copy', parseCopy],
  ['entrypoint', parseEntrypoint],
  ['env', parseEnv],
  ['expose', parseExpose],
  ['from', parseFrom],
  ['healthcheck', parseHealthcheck],
  ['label', parseLabel],
  ['maintainer', parseMaintainer],
  ['onbuild', parseOnbuild],
  ['run', parseRun],
  ['shell', parseShell],
  ['stopsignal', parseStopsignal],
  ['user', parseUser],
  ['volume', parseVolume],
  ['workdir', parseWorkdir],
]);

export interface ParseInstructionOptions {
  readonly node: InstructionNode;
  readonly file: string;
  readonly escapeToken: '\\' | '`';
}

/** Parses one instruction; throws CaissonError (ERR_DOCKERFILE_INSTRUCTION) naming file:line. */
export function parseInstruction(options: ParseInstructionOptions): Instruction {
  const request = new InstructionRequest(options);
  const parser = PARSERS.get(options.node.command.toLowerCase());
  if (parser === undefined) {
    const close = suggest({ value: options.node.command, candidates: KNOWN_INSTRUCTIONS.map((name) => name.toUpperCase()), caseSensitive: false });
    return request.fail(
      `unknown instruction '${options.node.command}'`,
      close === undefined ? 'see https://docs.docker.com/reference/dockerfile/ for the instructions' : `did you mean ${close}?`,
      'ERR_DOCKERFILE_SYNTAX',
    );
  }
  return parser(request, (node) => parseInstruction({ ...options, node }));
}
