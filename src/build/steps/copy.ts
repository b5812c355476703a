/** COPY: files from the context, a stage, an image or a named context into a new layer. */
import type { CopyInstruction } from '../../dockerfile/index.js';
import type { Step } from './step.js';
import { transferFiles } from './transfer.js';

export const copyStep: Step<CopyInstruction> = async (input) => {
  const tree = await input.sourceTree(input.instruction.from);
  return transferFiles({ ...input, tree, parents: input.instruction.parents });
};
