/**
 * WORKDIR: config WorkingDir (relative paths join the current one), and the directory is made
 * when the stage lacks it, owned by the current USER (as BuildKit does). An existing directory
 * makes no layer.
 */
import { posix } from 'node:path';
import type { WorkdirInstruction } from '../../dockerfile/index.js';
import { makeParents, settleDirectories } from '../copy-files.js';
import { DirectorySink } from '../layer-sink.js';
import { stageUser } from './identity.js';
import { sealLayer } from './layer.js';
import { cachedStep } from '../step-cache.js';
import type { Step, StepInput } from './step.js';

export const workdirStep: Step<WorkdirInstruction> = async (input) => {
  const { instruction, state } = input;
  const path = posix.resolve(state.config.WorkingDir ?? '/', instruction.path);
  state.config.WorkingDir = path;
  return cachedStep(input, { extra: {}, build: () => makeWorkdir(input, path) });
};

/** The directory, when the stage lacks it: a layer with it and any missing parents. */
async function makeWorkdir({ instruction, state, session }: StepInput<WorkdirInstruction>, path: string): ReturnType<Step<WorkdirInstruction>> {
  const createdBy = `WORKDIR ${path}`;
  const view = await session.view(state.layers);
  const relative = view.resolve({ path, followFinal: true });
  if (relative === '' || view.isDirectory(relative)) return { createdBy, layer: 'empty' };
  const user = state.config.User === undefined || state.config.User === '' ? undefined : stageUser({ user: state.config.User, view, location: instruction.location });
  const directories = await session.store.stepDirectories();
  const created: string[] = [];
  const sink = new DirectorySink(directories.upper);
  const write = { sink, view, owner: user, chmod: undefined, now: session.now };
  makeParents({ ...write, path: relative, created });
  settleDirectories({ sink, view, created, times: new Map(), now: session.now });
  return { createdBy: `${createdBy} # buildkit`, layer: await sealLayer({ session, directories }) };
}
