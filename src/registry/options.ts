/**
 * Everything that shapes how caisson talks to registries, resolved once per command from the
 * flags (kaniko's names): which hosts may use plain HTTP or skip TLS verification, extra CAs and
 * client certificates per host, mirrors, retries, upload sizes, and where credentials come from.
 */
import type { CredentialStore } from './credentials.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';

export interface TlsSettings {
  /** Extra CA certificates (PEM text) trusted for this host, besides the system's. */
  readonly ca: readonly string[];
  readonly clientCert?: { readonly cert: string; readonly key: string };
  readonly skipVerify: boolean;
}

export interface RegistryOptions {
  readonly credentials: CredentialStore;
  /** Hosts that may be reached over plain HTTP (`--insecure-registry`, and `--insecure` / `--insecure-pull` hosts). */
  readonly insecure: ReadonlySet<string>;
  /** TLS per host; hosts not in the map use the system's CAs and verify. */
  readonly tls: ReadonlyMap<string, TlsSettings>;
  /** Skip TLS verification everywhere (`--skip-tls-verify` / `--skip-tls-verify-pull`). */
  readonly skipTlsVerifyAll: boolean;
  /** Pull-through mirrors for Docker Hub, tried in order before it (`--registry-mirror`). */
  readonly mirrors: readonly string[];
  /** Other registries' replacements, tried in order before the original (`--registry-map a=b`). */
  readonly registryMap: ReadonlyMap<string, readonly string[]>;
  /** Retries of reads (GET, HEAD: kaniko's --image-download-retry), and of writes when `pushRetry` is absent. */
  readonly retry: RetryPolicy;
  /** Retries of writes (POST, PUT, PATCH, DELETE and whole blob uploads: kaniko's --push-retry). */
  readonly pushRetry?: RetryPolicy;
  /** Blobs at least this big are uploaded in PATCH chunks of `chunkSize` bytes. */
  readonly chunkedUploadThreshold: number;
  readonly chunkSize: number;
  /** Blob transfers in flight at once. */
  readonly concurrency: number;
  readonly userAgent: string;
}

export function defaultRegistryOptions(options: { readonly credentials: CredentialStore; readonly userAgent: string }): RegistryOptions {
  return {
    credentials: options.credentials,
    insecure: new Set(),
    tls: new Map(),
    skipTlsVerifyAll: false,
    mirrors: [],
    registryMap: new Map(),
    retry: DEFAULT_RETRY,
    chunkedUploadThreshold: 512 * 1024 * 1024,
    chunkSize: 64 * 1024 * 1024,
    concurrency: 4,
    userAgent: options.userAgent,
  };
}

/** Loopback registries may use plain HTTP without being marked insecure, as Docker allows. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name) || name.endsWith('.localhost');
}

/** The API host of a registry name: Docker Hub's images live at registry-1.docker.io. */
export function apiHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}
