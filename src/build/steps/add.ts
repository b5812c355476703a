/**
 * ADD: COPY's rules for local sources. Remote sources (URLs, git) are refused with a clear
 * error until they are supported.
 */
import { CaissonError } from '../../errors.js';
import type { AddInstruction } from '../../dockerfile/index.js';
import type { Step } from './step.js';
import { transferFiles } from './transfer.js';

function isRemote(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || source.startsWith('git@');
}

export const addStep: Step<AddInstruction> = async (input) => {
  const remote = input.instruction.sources.find(isRemote);
  if (remote !== undefined) {
    throw new CaissonError({
      code: 'ERR_BUILD_STEP',
      message: `ADD ${remote}: remote sources are not supported by this version of caisson`,
      location: input.instruction.location,
      hint: 'Download the file in an earlier stage (RUN wget/curl) and COPY --from it, or add it to the context.',
    });
  }
  const tree = await input.sourceTree(undefined);
  return transferFiles({ ...input, tree, parents: false });
};
