/**
 * The syntax tree in BuildKit's s-expression form, byte for byte what its
 * `parser/testfiles/<case>/result` files hold (`(from "alpine")`, `(copy ["--from=a"] "x" "/")`).
 */
import type { DockerfileAst, InstructionNode } from './ast.js';
import { goQuote } from './shell/index.js';
import { trimSpace } from './text.js';

function dumpNode(node: InstructionNode): string {
  let text = node.command.toLowerCase();
  if (node.flags.length > 0) text += ` [${node.flags.map(goQuote).join(' ')}]`;
  if (node.trigger !== undefined) text += ` (${dumpNode(node.trigger)})`;
  for (const arg of node.args) text += ` ${goQuote(arg)}`;
  return trimSpace(text);
}

/** One `(instruction ...)` line per instruction, newline-terminated. */
export function dumpDockerfile(ast: DockerfileAst): string {
  return ast.instructions.map((node) => `(${dumpNode(node)})\n`).join('');
}
