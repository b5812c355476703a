/** ONBUILD <instruction>: stored in the image, run by builds that use it as a base. */
import type { InstructionNode } from '../ast.js';
import { NO_FLAGS, parseFlags } from './flags.js';
import type { InstructionRequest } from './request.js';
import type { Instruction, OnbuildInstruction } from './types.js';

export function parseOnbuild(request: InstructionRequest, parseTrigger: (node: InstructionNode) => Instruction): OnbuildInstruction {
  request.requireArgs();
  parseFlags(request, NO_FLAGS);
  const node = request.node.trigger as InstructionNode; // present whenever there are arguments
  const keyword = node.command.toUpperCase();
  if (keyword === 'ONBUILD') request.fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (keyword === 'MAINTAINER' || keyword === 'FROM') request.fail(`${keyword} isn't allowed as an ONBUILD trigger`);
  let expression = request.node.original.replace(/^\p{White_Space}*ONBUILD\p{White_Space}*/iu, '');
  for (const heredoc of request.node.heredocs) expression += `\n${heredoc.content}${heredoc.name}`;
  const trigger = parseTrigger({ ...node, heredocs: request.node.heredocs, comments: [] });
  return { kind: 'onbuild', ...request.base, expression, trigger };
}
