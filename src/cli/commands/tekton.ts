/**
 * `caisson tekton [task|step-action|pipeline] [--step-action]`: prints caisson's Tekton
 * resources as YAML: the Task `caisson` (the default), the StepAction `caisson-build`, or the
 * Pipeline git-clone → caisson → verify, or the Pipeline caisson-multi-platform (a matrix of
 * per-platform builds merged by caisson manifest create). Each param's description is the describe of the
 * `caisson build` flag it feeds, so what is printed follows the command line; the committed
 * files under tekton/ and catalog/ are this output (a test compares them).
 */
import { CaissonError } from '../../errors.js';
import { caissonMultiPlatformPipeline, caissonPipeline, caissonStepAction, caissonTask, toYaml, type TektonResourceOptions } from '../../tekton/index.js';
import { BUILD_OPTIONS } from '../build-flags.js';
import type { CommandContext } from '../context.js';
import type { ParsedArgs } from '../spec.js';
import { caissonVersion } from '../version.js';

const RENDERERS = { task: caissonTask, 'step-action': caissonStepAction, pipeline: caissonPipeline, 'multi-platform-pipeline': caissonMultiPlatformPipeline } as const;

function isResource(name: string): name is keyof typeof RENDERERS {
  return Object.hasOwn(RENDERERS, name);
}

export async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const given = args.positional ?? 'task';
  if (!isResource(given)) throw new CaissonError({ code: 'ERR_USAGE', message: `caisson tekton: unknown resource "${given}"`, hint: `choose one of: ${Object.keys(RENDERERS).join(', ')}` });
  const resource = args.bool('step-action') ? 'step-action' : given;
  if (args.bool('step-action') && given !== 'task' && given !== 'step-action') throw new CaissonError({ code: 'ERR_USAGE', message: `caisson tekton ${given} --step-action: give one resource`, hint: 'caisson tekton step-action prints the StepAction.' });
  const options: TektonResourceOptions = { version: caissonVersion(), flags: BUILD_OPTIONS };
  context.stdout(toYaml(RENDERERS[resource](options)));
}
