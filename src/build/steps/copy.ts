/** COPY: files from the context, a stage, an image or a named context into a new layer. */
import type { CopyInstruction } from '../../dockerfile/index.js';
import { cachedStep } from '../step-cache.js';
import type { Step } from './step.js';
import { transferFiles, transferInputs } from './transfer.js';

export const copyStep: Step<CopyInstruction> = async (input) => {
  const { instruction } = input;
  const read = () => transferInputs(input, { from: instruction.from, sources: instruction.sources });
  const { inputs: sources, changed } = await read();
  return cachedStep(input, {
    extra: { sources },
    changed,
    recheck: async () => ({ sources: (await read()).inputs }),
    build: async () => transferFiles({ ...input, tree: await input.sourceTree(instruction.from), parents: instruction.parents }),
  });
};
