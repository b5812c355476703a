/**
 * tekton/k8s: submitting a build to a cluster (`caisson submit`) with @kubernetes/client-node:
 * kubeconfig discovery, the TaskRun of the Task caisson (or, without Tekton, a plain Pod running
 * its step), log streaming and status. Imported only
 * by that command, so no other command loads the Kubernetes client.
 *
 * May import errors, log and tekton.
 */
export { findKubeConfig, SERVICE_ACCOUNT_DIR, type FoundKubeConfig, type KubeConfigSources } from './kubeconfig.js';
export { clusterError } from './api.js';
export { podManifest, SOURCE_PATH, workspacePath, type PodOptions } from './pod.js';
export { STEP_CONTAINER, submitBuild, TASK_NAME, type LocalContext, type SubmitOptions, type SubmitOutcome } from './submit.js';
export { sourceVolume, taskRunManifest, taskRunParams, workspaceVolumes, type SubmitParams, type SubmitWorkspaces, type WorkspaceVolume, type TaskParam, type SubmitSource, type TaskRunOptions } from './taskrun.js';
