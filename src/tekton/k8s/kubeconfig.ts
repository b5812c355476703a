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
  /** $KUBECONFIG: a path list (`:`-separated); the first file that exists is used. */
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
 * The kubeconfig, looked up as kubectl does: --kubeconfig, else the first existing file of
 * $KUBECONFIG, else ~/.kube/config, else the in-cluster service account. Files are not merged
 * (kubectl merges a $KUBECONFIG list; caisson takes its first file).
 */
export function findKubeConfig(sources: KubeConfigSources): FoundKubeConfig {
  const file = kubeconfigFile(sources);
  const config = new KubeConfig();
  let source: string;
  if (file !== undefined) {
    try {
      config.loadFromFile(file);
    } catch (error) {
      throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `cannot read the kubeconfig ${file}: ${(error as Error).message}`, hint: 'Give a valid file with --kubeconfig or $KUBECONFIG.' });
    }
    source = file;
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

function kubeconfigFile(sources: KubeConfigSources): string | undefined {
  if (sources.explicit !== undefined) return sources.explicit;
  const listed = (sources.kubeconfigEnv ?? '').split(':').filter((path) => path !== '');
  const existing = listed.find((path) => existsSync(path));
  if (existing !== undefined) return existing;
  if (sources.home === undefined) return undefined;
  const home = join(sources.home, '.kube', 'config');
  return existsSync(home) ? home : undefined;
}
