/**
 * Manifest calls of the distribution API: GET/HEAD with an Accept header for every manifest type,
 * PUT, DELETE. Bodies are capped at 4 MiB and checked against the requested digest and the
 * registry's Docker-Content-Digest.
 */
import { CaissonError } from '../errors.js';
import { digestAlgorithm, digestMismatch, digestOf, isDigest, MANIFEST_MEDIA_TYPES, MAX_MANIFEST_BYTES, parseManifest, sha256, type Descriptor, type Digest, type ParsedManifest } from '../image/index.js';
import { header, type RegistryClient } from './client.js';

export interface RepositoryTarget {
  readonly client: RegistryClient;
  readonly repository: string;
}

export const pullScope = (repository: string): string => `repository:${repository}:pull`;
export const pushScope = (repository: string): string => `repository:${repository}:pull,push`;

const ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

function mediaTypeOf(value: string | undefined): string | undefined {
  const type = value?.split(';')[0]?.trim();
  return type === undefined || type === '' ? undefined : type;
}

function describe(target: RepositoryTarget, reference: string): string {
  return `${target.client.registry}/${target.repository}${isDigest(reference) ? '@' : ':'}${reference}`;
}

function tooBig(what: string, size: number | string): CaissonError {
  return new CaissonError({ code: 'ERR_IMAGE_INVALID', message: `${what}: manifest is ${size} bytes, over the 4 MiB limit`, hint: 'Registries and caisson refuse manifests over 4 MiB; this is not a usable image.' });
}

export async function getManifest(target: RepositoryTarget & { readonly reference: string }): Promise<{ descriptor: Descriptor; parsed: ParsedManifest }> {
  const what = describe(target, target.reference);
  const response = await target.client.send({
    method: 'GET',
    path: `/v2/${target.repository}/manifests/${target.reference}`,
    headers: { accept: ACCEPT },
    scopes: [pullScope(target.repository)],
    what,
    action: 'GET manifest',
    accept: [],
  });
  const declared = Number(header(response.headers, 'content-length') ?? 0);
  if (declared > MAX_MANIFEST_BYTES) {
    response.body.destroy();
    throw tooBig(what, declared);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_MANIFEST_BYTES) {
      response.body.destroy();
      throw tooBig(what, `over ${MAX_MANIFEST_BYTES}`);
    }
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  const digest = isDigest(target.reference) ? digestOf(bytes, digestAlgorithm(target.reference)) : sha256(bytes);
  if (isDigest(target.reference) && digest !== target.reference) throw digestMismatch({ what, expected: target.reference, actual: digest });
  const served = header(response.headers, 'docker-content-digest');
  if (served !== undefined && isDigest(served) && served.startsWith('sha256:') && served !== digest) {
    throw digestMismatch({ what, expected: served, actual: digest });
  }
  const mediaType = mediaTypeOf(header(response.headers, 'content-type'));
  const parsed = parseManifest({ bytes, what, ...(mediaType === undefined ? {} : { mediaType }) });
  return { descriptor: { mediaType: parsed.mediaType, digest, size: bytes.length }, parsed };
}

/** HEAD: the descriptor of a tag or digest, or undefined when the registry has no such manifest. */
export async function headManifest(target: RepositoryTarget & { readonly reference: string }): Promise<Descriptor | undefined> {
  const what = describe(target, target.reference);
  const response = await target.client.send({
    method: 'HEAD',
    path: `/v2/${target.repository}/manifests/${target.reference}`,
    headers: { accept: ACCEPT },
    scopes: [pullScope(target.repository)],
    what,
    action: 'HEAD manifest',
    accept: [404],
  });
  await response.body.dump();
  if (response.status === 404) return undefined;
  const digest = header(response.headers, 'docker-content-digest');
  const mediaType = mediaTypeOf(header(response.headers, 'content-type'));
  const size = Number(header(response.headers, 'content-length'));
  if (digest === undefined || !isDigest(digest) || mediaType === undefined || !Number.isSafeInteger(size)) {
    // Not every registry sends the digest on HEAD; GET tells for sure.
    return (await getManifest(target)).descriptor;
  }
  return { mediaType, digest, size };
}

export async function putManifest(target: RepositoryTarget & { readonly reference: string; readonly bytes: Buffer; readonly mediaType: string }): Promise<{ readonly digest: Digest; readonly subjectProcessed: boolean }> {
  const what = describe(target, target.reference);
  const digest = sha256(target.bytes);
  const response = await target.client.send({
    method: 'PUT',
    path: `/v2/${target.repository}/manifests/${target.reference}`,
    headers: { 'content-type': target.mediaType },
    body: target.bytes,
    scopes: [pushScope(target.repository)],
    what,
    action: 'PUT manifest',
    accept: [],
  });
  await response.body.dump();
  const served = header(response.headers, 'docker-content-digest');
  if (served !== undefined && isDigest(served) && served !== digest) throw digestMismatch({ what: `${what} (as stored by the registry)`, expected: digest, actual: served });
  return { digest, subjectProcessed: header(response.headers, 'oci-subject') !== undefined };
}

export async function deleteManifest(target: RepositoryTarget & { readonly reference: string }): Promise<void> {
  const response = await target.client.send({
    method: 'DELETE',
    path: `/v2/${target.repository}/manifests/${target.reference}`,
    scopes: [pushScope(target.repository)],
    what: describe(target, target.reference),
    action: 'DELETE manifest',
    accept: [],
  });
  await response.body.dump();
}
