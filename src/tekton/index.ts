/**
 * tekton: caisson in Tekton. The results writer (`/tekton/results` or --results-dir: the image
 * digest and URL, IMAGES, the Chains object result, signature/attestation references, the
 * provenance digest, kept within the termination message's 4,096 bytes), and the Task,
 * StepAction and Pipelines (build-verify, and the multi-platform matrix fan-out) as plain data with a small deterministic YAML emitter.
 *
 * May import errors and log only: the CLI passes in its flag descriptions.
 */
export {
  checkResultsFit,
  RESULT_NAMES,
  resultsSize,
  TEKTON_RESERVED_BYTES,
  tektonResults,
  TERMINATION_MESSAGE_LIMIT,
  worstCaseResults,
  writeTektonResults,
  type BuildOutcome,
  type PushedImage,
  type ResultName,
  type TektonResult,
} from './results.js';
export {
  BUILDER_REPOSITORY,
  CAISSON_COMMAND,
  caissonPipeline,
  caissonStepAction,
  caissonTask,
  STEP_ACTION_MIN_PIPELINES,
  TASK_MIN_PIPELINES,
  TASK_VERSION,
  type FlagDescription,
  type TektonResourceOptions,
} from './task.js';
export { caissonMultiPlatformPipeline, MATRIX_RESULTS_MIN_PIPELINES } from './multi-platform-pipeline.js';
export { toYaml, type YamlMap, type YamlValue } from './yaml.js';
