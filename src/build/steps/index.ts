/** The step for each instruction kind: one file per instruction, looked up by `kind`. */
import type { StageInstruction } from '../../dockerfile/index.js';
import { addStep } from './add.js';
import { argStep } from './arg.js';
import { cmdStep } from './cmd.js';
import { copyStep } from './copy.js';
import { entrypointStep } from './entrypoint.js';
import { envStep } from './env.js';
import { exposeStep } from './expose.js';
import { healthcheckStep } from './healthcheck.js';
import { labelStep } from './label.js';
import { maintainerStep } from './maintainer.js';
import { onbuildStep } from './onbuild.js';
import { runStep } from './run.js';
import { shellStep } from './shell.js';
import type { Step } from './step.js';
import { stopsignalStep } from './stopsignal.js';
import { userStep } from './user.js';
import { volumeStep } from './volume.js';
import { workdirStep } from './workdir.js';

export const STEPS: { readonly [K in StageInstruction['kind']]: Step<Extract<StageInstruction, { kind: K }>> } = {
  add: addStep,
  arg: argStep,
  cmd: cmdStep,
  copy: copyStep,
  entrypoint: entrypointStep,
  env: envStep,
  expose: exposeStep,
  healthcheck: healthcheckStep,
  label: labelStep,
  maintainer: maintainerStep,
  onbuild: onbuildStep,
  run: runStep,
  shell: shellStep,
  stopsignal: stopsignalStep,
  user: userStep,
  volume: volumeStep,
  workdir: workdirStep,
};
