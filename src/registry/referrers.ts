/**
 * Referrers (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers):
 * the API `GET /v2/<name>/referrers/<digest>` when the registry has it, else the fallback tag
 * scheme, an index tagged `sha256-<hex>` that lists the artifacts whose `subject` is that digest.
 */
import { digestAlgorithm, digestHex, MediaType, parseManifest, type Descriptor, type Digest, type ImageIndex } from '../image/index.js';
import { getManifest, putManifest, type RepositoryTarget } from './manifests.js';
import { pullScope } from './manifests.js';

/** The fallback tag for a subject digest: `sha256-<hex>`. */
export function referrersTag(subject: Digest): string {
  return `${digestAlgorithm(subject)}-${digestHex(subject)}`;
}

async function fallbackIndex(target: RepositoryTarget & { readonly subject: Digest }): Promise<ImageIndex | undefined> {
  try {
    const { parsed } = await getManifest({ ...target, reference: referrersTag(target.subject) });
    return parsed.kind === 'index' ? parsed.index : undefined;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MANIFEST_UNKNOWN') return undefined;
    throw error;
  }
}

export async function listReferrers(target: RepositoryTarget & { readonly subject: Digest; readonly artifactType?: string }): Promise<readonly Descriptor[]> {
  const what = `${target.client.registry}/${target.repository}@${target.subject}`;
  const query = target.artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(target.artifactType)}`;
  const response = await target.client.send({
    method: 'GET',
    path: `/v2/${target.repository}/referrers/${target.subject}${query}`,
    headers: { accept: MediaType.ociIndex },
    scopes: [pullScope(target.repository)],
    what,
    action: 'GET referrers',
    accept: [404, 400, 405],
  });
  let manifests: readonly Descriptor[];
  const type = response.headers['content-type'];
  if (response.status === 200 && typeof type === 'string' && type.startsWith(MediaType.ociIndex)) {
    const parsed = parseManifest({ bytes: Buffer.from(await response.body.arrayBuffer()), mediaType: MediaType.ociIndex, what: `${what} referrers` });
    manifests = parsed.kind === 'index' ? parsed.index.manifests : [];
  } else {
    await response.body.dump();
    manifests = (await fallbackIndex(target))?.manifests ?? [];
  }
  return target.artifactType === undefined ? manifests : manifests.filter((entry) => entry.artifactType === target.artifactType);
}

/**
 * Records `referrer` (a manifest just pushed with a `subject`) in the fallback tag index, for
 * registries that did not process the subject themselves (no `OCI-Subject` header on the PUT).
 */
export async function addToFallbackIndex(target: RepositoryTarget & { readonly subject: Digest; readonly referrer: Descriptor }): Promise<void> {
  const existing = await fallbackIndex(target);
  const manifests = existing?.manifests ?? [];
  if (manifests.some((entry) => entry.digest === target.referrer.digest)) return;
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...manifests, target.referrer] };
  await putManifest({ ...target, reference: referrersTag(target.subject), bytes: Buffer.from(JSON.stringify(index)), mediaType: MediaType.ociIndex });
}
