/**
 * A registry session: one client per registry host (connection pool, scheme, tokens), created on
 * first use with the options resolved once, and pull sources that try mirrors first
 * (`--registry-mirror` for Docker Hub, `--registry-map` for any registry), then the registry itself.
 */
import { CaissonError } from '../errors.js';
import { formatReference, referenceIdentifier, type Descriptor, type Reference } from '../image/index.js';
import { RegistryClient } from './client.js';
import type { RegistryOptions } from './options.js';
import { RegistryRepository } from './repository.js';

export interface PullSource {
  readonly repository: RegistryRepository;
  readonly root: Descriptor;
  /** Where it came from when a mirror answered. */
  readonly mirror?: string;
}

/** `host[/prefix]` of a mirror applied to a repository. */
function mirrored(mirror: string, repository: string): { registry: string; repository: string } {
  const cleaned = mirror.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  const slash = cleaned.indexOf('/');
  return slash < 0 ? { registry: cleaned, repository } : { registry: cleaned.slice(0, slash), repository: `${cleaned.slice(slash + 1)}/${repository}` };
}

export class RegistrySession {
  readonly options: RegistryOptions;
  readonly #clients = new Map<string, RegistryClient>();

  constructor(options: RegistryOptions) {
    this.options = options;
  }

  client(registry: string): RegistryClient {
    let client = this.#clients.get(registry);
    if (client === undefined) {
      client = new RegistryClient({ registry, options: this.options });
      this.#clients.set(registry, client);
    }
    return client;
  }

  repository(reference: Pick<Reference, 'registry' | 'repository'>): RegistryRepository {
    return new RegistryRepository({
      client: this.client(reference.registry),
      repository: reference.repository,
      chunkedUploadThreshold: this.options.chunkedUploadThreshold,
      chunkSize: this.options.chunkSize,
    });
  }

  /** Where a pull of `reference` may come from, in the order to try. */
  pullCandidates(reference: Reference): { registry: string; repository: string; mirror?: string }[] {
    const mirrors = reference.registry === 'docker.io' ? this.options.mirrors : [];
    const mapped = this.options.registryMap.get(reference.registry) ?? [];
    return [
      ...[...mapped, ...mirrors].map((mirror) => ({ ...mirrored(mirror, reference.repository), mirror })),
      { registry: reference.registry, repository: reference.repository },
    ];
  }

  /** Resolves `reference` for a pull, through mirrors first; the last failure is thrown. */
  pull(options: { readonly reference: Reference; readonly onMirrorFailure?: (mirror: string, error: unknown) => void }): Promise<PullSource> {
    return this.#throughCandidates({ ...options, ask: async (repository, identifier) => ({ repository, root: await repository.resolve(identifier) }) });
  }

  /**
   * The descriptor `reference` names now, asked as a pull would (mirrors first) but with a HEAD
   * (a GET only where the registry does not send the digest): whether a tag moved, without reading
   * the manifest. Undefined when the registry itself holds no such manifest.
   */
  async head(options: { readonly reference: Reference }): Promise<Descriptor | undefined> {
    const found = await this.#throughCandidates({
      ...options,
      ask: async (repository, identifier, mirror) => {
        const root = await repository.head(identifier);
        if (root === undefined && mirror !== undefined) throw new CaissonError({ code: 'ERR_MANIFEST_UNKNOWN', message: `${mirror}: mirror holds no ${formatReference(options.reference)}` });
        return { root };
      },
    });
    return found.root;
  }

  /** `ask` of each place a pull of `reference` may come from, in order, until one answers; the last failure is thrown. */
  async #throughCandidates<T extends object>(options: {
    readonly reference: Reference;
    readonly onMirrorFailure?: (mirror: string, error: unknown) => void;
    readonly ask: (repository: RegistryRepository, identifier: string, mirror: string | undefined) => Promise<T>;
  }): Promise<T & { readonly mirror?: string }> {
    let lastError: unknown;
    for (const candidate of this.pullCandidates(options.reference)) {
      try {
        const answer = await options.ask(this.repository(candidate), referenceIdentifier(options.reference), candidate.mirror);
        return { ...answer, ...(candidate.mirror === undefined ? {} : { mirror: candidate.mirror }) };
      } catch (error) {
        if (candidate.mirror === undefined) throw error;
        options.onMirrorFailure?.(candidate.mirror, error);
        lastError = error;
      }
    }
    throw lastError instanceof Error ? lastError : new CaissonError({ code: 'ERR_INTERNAL', message: `${formatReference(options.reference)}: no pull candidates` });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((client) => client.close()));
    this.#clients.clear();
  }
}
