/**
 * The registry and TLS flags, kaniko's names and meanings, shared by every command that talks to
 * registries (declarations only; registry-settings.ts resolves them).
 */
import type { OptionSpec } from './spec.js';

export const REGISTRY_OPTIONS: readonly OptionSpec[] = [
  { name: 'insecure', type: 'boolean', describe: 'push to (write) registries over plain HTTP when HTTPS fails' },
  { name: 'insecure-pull', type: 'boolean', describe: 'pull from (read) registries over plain HTTP when HTTPS fails' },
  { name: 'insecure-registry', type: 'string', multiple: true, placeholder: 'HOST', describe: 'a registry that may use plain HTTP' },
  { name: 'skip-tls-verify', type: 'boolean', describe: 'do not verify TLS certificates when pushing (testing only)' },
  { name: 'skip-tls-verify-pull', type: 'boolean', describe: 'do not verify TLS certificates when pulling (testing only)' },
  { name: 'skip-tls-verify-registry', type: 'string', multiple: true, placeholder: 'HOST', describe: 'a registry whose TLS certificate is not verified' },
  { name: 'registry-certificate', type: 'string', multiple: true, placeholder: 'HOST=CA.pem', describe: 'trust this CA certificate for a registry' },
  { name: 'registry-client-cert', type: 'string', multiple: true, placeholder: 'HOST=CERT,KEY', describe: 'a client certificate and key for a registry' },
  { name: 'registry-mirror', type: 'string', multiple: true, placeholder: 'HOST[/PREFIX]', describe: 'pull Docker Hub images through this mirror first' },
  { name: 'registry-map', type: 'string', multiple: true, placeholder: 'HOST=MIRROR[;MIRROR]', describe: "pull a registry's images through these mirrors first" },
  { name: 'push-retry', type: 'string', default: '3', placeholder: 'N', describe: 'retries of a failed push request (429, 5xx, dropped connection)' },
  { name: 'image-download-retry', type: 'string', default: '3', placeholder: 'N', describe: 'retries of a failed pull request' },
];
