/**
 * The registry and TLS flags (registry-flags.ts) resolved, once per command, into
 * `RegistryOptions`. Certificate files are read here, so a missing one is an error naming the
 * flag and the path.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CaissonError } from '../errors.js';
import { DEFAULT_RETRY, defaultRegistryOptions, dockerConfigCredentials, type RegistryOptions, type TlsSettings } from '../registry/index.js';
import type { CommandContext } from './context.js';
import type { ParsedArgs } from './spec.js';
import { caissonVersion } from './version.js';

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

export function resolveRegistryOptions(options: { readonly args: ParsedArgs; readonly context: CommandContext; readonly roles: RegistryRoles }): RegistryOptions {
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
  return {
    ...defaultRegistryOptions({ credentials: dockerConfigCredentials({ env: context.env }), userAgent: `caisson/${caissonVersion()}` }),
    insecure,
    tls: tls as ReadonlyMap<string, TlsSettings>,
    mirrors: args.strings('registry-mirror'),
    registryMap,
    retry: { ...DEFAULT_RETRY, retries: count('image-download-retry', args.string('image-download-retry')) },
    pushRetry: { ...DEFAULT_RETRY, retries: count('push-retry', args.string('push-retry')) },
  };
}
