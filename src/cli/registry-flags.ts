/**
 * The registry and TLS flags, kaniko's names and meanings, shared by every command that talks to
 * registries, and their resolution (once per command) into `RegistryOptions`. Certificate files
 * are read here, so a missing one is an error naming the flag and the path.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CaissonError } from '../errors.js';
import { DEFAULT_RETRY, defaultRegistryOptions, dockerConfigCredentials, type RegistryOptions, type TlsSettings } from '../registry/index.js';
import type { CommandContext } from './context.js';
import type { OptionSpec, ParsedArgs } from './spec.js';
import { caissonVersion } from './version.js';

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

function usage(message: string, hint: string): CaissonError {
  return new CaissonError({ code: 'ERR_USAGE', message, hint });
}

function splitPair(flag: string, value: string): [string, string] {
  const equals = value.indexOf('=');
  if (equals <= 0 || equals === value.length - 1) throw usage(`--${flag} "${value}": expected HOST=VALUE`, `e.g. --${flag} registry.example.com:5000=...`);
  return [value.slice(0, equals), value.slice(equals + 1)];
}

function readPem(options: { readonly flag: string; readonly path: string; readonly cwd: string }): string {
  const path = resolve(options.cwd, options.path);
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `--${options.flag}: cannot read ${path}`, hint: 'Give the path of a PEM file readable by caisson.' });
  }
}

function count(flag: string, value: string | undefined): number {
  const parsed = Number(value ?? '3');
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 100) throw usage(`--${flag} "${value}": expected a whole number from 0 to 100`, `e.g. --${flag} 3`);
  return parsed;
}

/** The hosts of the references a command writes to and reads from, for --insecure and friends. */
export interface RegistryRoles {
  readonly pushHosts: readonly string[];
  readonly pullHosts: readonly string[];
}

export function resolveRegistryOptions(options: { readonly args: ParsedArgs; readonly context: CommandContext; readonly roles: RegistryRoles; readonly direction: 'push' | 'pull' | 'both' }): RegistryOptions {
  const { args, context, roles } = options;
  const insecure = new Set(args.strings('insecure-registry'));
  if (args.bool('insecure')) roles.pushHosts.forEach((host) => insecure.add(host));
  if (args.bool('insecure-pull')) roles.pullHosts.forEach((host) => insecure.add(host));
  const tls = new Map<string, { ca: string[]; clientCert?: { cert: string; key: string }; skipVerify: boolean }>();
  const settings = (host: string): { ca: string[]; clientCert?: { cert: string; key: string }; skipVerify: boolean } => {
    let entry = tls.get(host);
    if (entry === undefined) {
      entry = { ca: [], skipVerify: false };
      tls.set(host, entry);
    }
    return entry;
  };
  for (const host of args.strings('skip-tls-verify-registry')) settings(host).skipVerify = true;
  if (args.bool('skip-tls-verify')) roles.pushHosts.forEach((host) => (settings(host).skipVerify = true));
  if (args.bool('skip-tls-verify-pull')) roles.pullHosts.forEach((host) => (settings(host).skipVerify = true));
  for (const value of args.strings('registry-certificate')) {
    const [host, path] = splitPair('registry-certificate', value);
    settings(host).ca.push(readPem({ flag: 'registry-certificate', path, cwd: context.cwd }));
  }
  for (const value of args.strings('registry-client-cert')) {
    const [host, pair] = splitPair('registry-client-cert', value);
    const [cert, key, extra] = pair.split(',');
    if (cert === undefined || key === undefined || cert === '' || key === '' || extra !== undefined) {
      throw usage(`--registry-client-cert "${value}": expected HOST=CERT.pem,KEY.pem`, 'the certificate and its key, comma-separated');
    }
    settings(host).clientCert = { cert: readPem({ flag: 'registry-client-cert', path: cert, cwd: context.cwd }), key: readPem({ flag: 'registry-client-cert', path: key, cwd: context.cwd }) };
  }
  const registryMap = new Map<string, string[]>();
  for (const value of args.strings('registry-map')) {
    const [host, mirrors] = splitPair('registry-map', value);
    registryMap.set(host, [...(registryMap.get(host) ?? []), ...mirrors.split(';').filter((mirror) => mirror !== '')]);
  }
  const pushRetries = count('push-retry', args.string('push-retry'));
  const pullRetries = count('image-download-retry', args.string('image-download-retry'));
  const retries = options.direction === 'push' ? pushRetries : options.direction === 'pull' ? pullRetries : Math.max(pushRetries, pullRetries);
  return {
    ...defaultRegistryOptions({ credentials: dockerConfigCredentials({ env: context.env }), userAgent: `caisson/${caissonVersion()}` }),
    insecure,
    tls: tls as ReadonlyMap<string, TlsSettings>,
    mirrors: args.strings('registry-mirror'),
    registryMap,
    retry: { ...DEFAULT_RETRY, retries },
  };
}
