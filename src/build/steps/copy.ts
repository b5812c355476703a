/** COPY: files from the context, a stage, an image or a named context into a new layer. */
import type { CopyInstruction } from '../../dockerfile/index.js';
import { sourceInputs } from '../source-digest.js';
import { cachedStep } from '../step-cache.js';
import type { Step } from './step.js';
import { excludeMatcher, transferFiles } from './transfer.js';

export const copyStep: Step<CopyInstruction> = async (input) => {
  const { instruction, session } = input;
  const read = async () =>
    sourceInputs({
      identity: await input.sourceIdentity(instruction.from),
      sources: instruction.sources,
      location: instruction.location,
      exclude: excludeMatcher(instruction),
      fileDigests: (directory) => session.cache.fileDigests(directory),
    });
  const { inputs: sources, changed } = await read();
  return cachedStep(input, {
    extra: { sources },
    changed,
    recheck: async () => ({ sources: (await read()).inputs }),
    build: async () => transferFiles({ ...input, tree: await input.sourceTree(instruction.from), parents: instruction.parents }),
  });
};
