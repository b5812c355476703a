/**
 * Finding the cluster: the kubeconfig file kubectl would use, else the pod's service account.
 * The CLI passes in what it read from the environment; nothing here reads process.env.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { CaissonError } from '../../errors.js';

/** Where a pod's service account credentials are mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConfigSources {
  /** --kubeconfig: this file and no other. */
  readonly explicit?: string;
  /** $KUBECONFIG: a path list (`:`-separated); its existing files are merged as kubectl merges them. */
  readonly kubeconfigEnv?: string;
  /** The home directory: ~/.kube/config. */
  readonly home?: string;
  /** $KUBERNETES_SERVICE_HOST and $KUBERNETES_SERVICE_PORT, set in every pod. */
  readonly serviceHost?: string;
  readonly servicePort?: string;
  /** The service account directory (tests point it elsewhere). */
  readonly serviceAccountDir?: string;
}

/** The cluster found and where it came from (named in messages). */
export interface FoundKubeConfig {
  readonly config: KubeConfig;
  readonly source: string;
  /** The current context's namespace, if it names one. */
  readonly namespace?: string;
  readonly server: string;
}

/**
 * The kubeconfig, looked up as kubectl does: --kubeconfig, else the existing files of
 * $KUBECONFIG merged (see {@link mergeKubeConfigs}), else ~/.kube/config, else the in-cluster
 * service account.
 */
export function findKubeConfig(sources: KubeConfigSources): FoundKubeConfig {
  const files = kubeconfigFiles(sources);
  let config = new KubeConfig();
  let source: string;
  if (files.length > 0) {
    config = mergeKubeConfigs(files.map(loadFile));
    source = files.join(':');
  } else if (sources.serviceHost !== undefined && sources.serviceHost !== '') {
    const dir = sources.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    const port = sources.servicePort ?? '443';
    const host = sources.serviceHost.includes(':') ? `[${sources.serviceHost}]` : sources.serviceHost;
    config.loadFromClusterAndUser(
      { name: 'in-cluster', server: `https://${host}:${port}`, caFile: join(dir, 'ca.crt'), skipTLSVerify: false },
      { name: 'service-account', authProvider: { name: 'tokenFile', config: { tokenFile: join(dir, 'token') } } },
    );
    source = `the service account in ${dir}`;
  } else {
    throw new CaissonError({
      code: 'ERR_INPUT_NOT_FOUND',
      message: 'no Kubernetes cluster configured: no --kubeconfig, no $KUBECONFIG file, no ~/.kube/config, and not in a pod',
      hint: 'Point --kubeconfig (or $KUBECONFIG) at the kubeconfig kubectl uses for the cluster.',
    });
  }
  const cluster = config.getCurrentCluster();
  if (cluster === null) throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `the kubeconfig ${source} has no current cluster`, hint: 'Set current-context (kubectl config use-context NAME).' });
  const namespace = config.getContextObject(config.getCurrentContext())?.namespace;
  return { config, source, server: cluster.server, ...(namespace === undefined || namespace === '' ? {} : { namespace }) };
}

/**
 * Several kubeconfigs as one, by kubectl's rules: clusters, users and contexts merged by name,
 * the first file to define a name winning; current-context from the first file that sets it.
 * Relative paths in each file were already made absolute against that file's directory.
 */
export function mergeKubeConfigs(configs: readonly KubeConfig[]): KubeConfig {
  const firstByName = <T extends { readonly name: string }>(lists: readonly (readonly T[])[]): T[] => {
    const kept = new Map<string, T>();
    for (const item of lists.flat()) if (!kept.has(item.name)) kept.set(item.name, item);
    return [...kept.values()];
  };
  const merged = new KubeConfig();
  merged.loadFromOptions({
    clusters: firstByName(configs.map((config) => config.clusters)),
    users: firstByName(configs.map((config) => config.users)),
    contexts: firstByName(configs.map((config) => config.contexts)),
    currentContext: configs.map((config) => config.currentContext).find((name) => typeof name === 'string' && name !== '') ?? '',
  });
  return merged;
}

function loadFile(file: string): KubeConfig {
  const config = new KubeConfig();
  try {
    config.loadFromFile(file);
  } catch (error) {
    throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `cannot read the kubeconfig ${file}: ${(error as Error).message}`, hint: 'Give a valid file with --kubeconfig or $KUBECONFIG.' });
  }
  return config;
}

/** --kubeconfig alone, else $KUBECONFIG's existing files (missing ones skipped, as kubectl does), else ~/.kube/config. */
function kubeconfigFiles(sources: KubeConfigSources): string[] {
  if (sources.explicit !== undefined) return [sources.explicit];
  const listed = (sources.kubeconfigEnv ?? '').split(':').filter((path) => path !== '');
  const existing = [...new Set(listed)].filter((path) => existsSync(path));
  if (existing.length > 0) return existing;
  if (sources.home === undefined) return [];
  const home = join(sources.home, '.kube', 'config');
  return existsSync(home) ? [home] : [];
}
