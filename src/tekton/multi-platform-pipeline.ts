/**
 * The Pipeline `caisson-multi-platform` (printed by `caisson tekton multi-platform-pipeline`):
 * git-clone, then the Task `caisson` fanned out by a matrix — one TaskRun per platform, each
 * pushing `<image>-<os>-<arch>` — then `caisson manifest create`
 * merging the per-platform images (the build TaskRuns' IMAGES results, `repository@digest`
 * each, aggregated by Tekton into an array) into one index tagged `<image>`.
 *
 * The matrix lists explicit combinations (`include`), because each TaskRun needs its own tag as
 * well as its platform; add an entry per platform. Results of matrixed tasks need Tekton
 * Pipelines 0.53 (TEP-0140) with matrix enabled (`enable-api-fields: beta`).
 */
import { CAISSON_COMMAND, FETCH_SOURCE_TASK, pipelineParam, sourceParams, TASK_VERSION, type TektonResourceOptions } from './task.js';
import type { YamlMap } from './yaml.js';

/** The oldest Tekton Pipelines that aggregates a matrixed task's results (TEP-0140). */
export const MATRIX_RESULTS_MIN_PIPELINES = '0.53.0';

/** The platforms the Pipeline fans out to, each one TaskRun. */
const PLATFORMS: readonly { readonly platform: string; readonly suffix: string }[] = [
  { platform: 'linux/amd64', suffix: 'linux-amd64' },
  { platform: 'linux/arm64', suffix: 'linux-arm64' },
];

export function caissonMultiPlatformPipeline(options: TektonResourceOptions): YamlMap {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'Pipeline',
    metadata: {
      name: 'caisson-multi-platform',
      labels: { 'app.kubernetes.io/version': TASK_VERSION },
      annotations: { 'tekton.dev/pipelines.minVersion': MATRIX_RESULTS_MIN_PIPELINES, 'tekton.dev/platforms': PLATFORMS.map((entry) => entry.platform).join(',') },
    },
    spec: {
      description: [
        'Clone a git repository and build its Dockerfile for several platforms: the Task caisson fanned out by a matrix,',
        'one TaskRun per platform, each pushing <image>-<os>-<arch>; then caisson manifest create merges them into one',
        "index at <image>. A TaskRun's RUN steps for a platform other than its node's need qemu-user binfmt on that node.",
        'Results of matrixed tasks need Tekton Pipelines 0.53 or later (enable-api-fields: beta).',
        '',
      ].join('\n'),
      params: sourceParams(options, pipelineParam('image', 'string', 'where the index goes (registry/repo:tag); each platform is pushed to <image>-<os>-<arch> first')),
      workspaces: [{ name: 'source' }, { name: 'dockerconfig', optional: true }],
      results: [
        { name: 'IMAGE_URL', description: 'the index (registry/repo:tag)', value: '$(tasks.create-index.results.IMAGE_URL)' },
        { name: 'IMAGE_DIGEST', description: "the index's digest", value: '$(tasks.create-index.results.IMAGE_DIGEST)' },
      ],
      tasks: [
        FETCH_SOURCE_TASK,
        {
          name: 'build',
          runAfter: ['fetch-source'],
          taskRef: { name: 'caisson' },
          '#': 'One TaskRun per entry: its platform, and its own tag for the index to list.',
          matrix: {
            include: PLATFORMS.map((entry) => ({
              name: entry.suffix,
              params: [{ name: 'PLATFORMS', value: entry.platform }, { name: 'IMAGE', value: `$(params.image)-${entry.suffix}` }],
            })),
          },
          params: [
            { name: 'BUILD_ARGS', value: ['$(params.build-args[*])'] },
            { name: 'BUILDER_IMAGE', value: '$(params.builder-image)' },
          ],
          workspaces: [{ name: 'source', workspace: 'source' }, { name: 'dockerconfig', workspace: 'dockerconfig' }],
        },
        {
          name: 'create-index',
          runAfter: ['build'],
          params: [
            { name: 'image', value: '$(params.image)' },
            { '#': "Every build TaskRun's IMAGES (repository@digest), aggregated into an array.", name: 'images', value: ['$(tasks.build.results.IMAGES[*])'] },
            { name: 'builder-image', value: '$(params.builder-image)' },
          ],
          workspaces: [{ name: 'dockerconfig', workspace: 'dockerconfig' }],
          taskSpec: {
            params: [{ name: 'image', type: 'string' }, { name: 'images', type: 'array' }, { name: 'builder-image', type: 'string' }],
            workspaces: [{ name: 'dockerconfig', optional: true }],
            results: [
              { name: 'IMAGE_DIGEST', type: 'string', description: "the index's digest" },
              { name: 'IMAGE_URL', type: 'string', description: 'the index (registry/repo:tag)' },
              { name: 'IMAGES', type: 'string', description: 'the index as repository@digest' },
            ],
            steps: [
              {
                name: 'create',
                image: '$(params.builder-image)',
                command: [...CAISSON_COMMAND],
                '#': 'caisson writes IMAGE_DIGEST, IMAGE_URL and IMAGES into /tekton/results itself.',
                args: ['manifest', 'create', '$(IMAGE)', '$(params.images[*])'],
                env: [{ name: 'IMAGE', value: '$(params.image)' }, { name: 'DOCKER_CONFIG', value: '$(workspaces.dockerconfig.path)' }],
                securityContext: { runAsNonRoot: true, runAsUser: 65532, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              },
            ],
          },
        },
      ],
    },
  };
}
