/**
 * Image references `[registry[:port]/]repository[:tag][@digest]`, parsed as the Docker CLI and
 * distribution's reference package do: a first component with a dot, a colon or named localhost
 * is a registry; otherwise the image is on Docker Hub (`docker.io`), one-component names under
 * `library/`. With neither tag nor digest the tag is `latest`.
 */
import { CaissonError } from '../errors.js';
import { isDigest, type Digest } from './digest.js';

export interface Reference {
  /** Registry host with optional port: `docker.io`, `ghcr.io`, `127.0.0.1:5000`. */
  readonly registry: string;
  /** Repository path: `library/alpine`, `org/team/app`. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

export const DOCKER_HUB = 'docker.io';

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_NAME_LENGTH = 255;

function invalidReference(text: string, problem: string, hint: string): CaissonError {
  return new CaissonError({ code: 'ERR_IMAGE_REFERENCE', message: `invalid image reference "${text}": ${problem}`, hint });
}

/** Parses an image reference; throws ERR_IMAGE_REFERENCE naming the text and the problem. */
export function parseReference(text: string): Reference {
  const hint = 'Write it as [registry[:port]/]repository[:tag][@sha256:digest], e.g. ghcr.io/org/app:1.0.';
  if (text === '') throw invalidReference(text, 'it is empty', hint);
  let rest = text;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const digestText = rest.slice(at + 1);
    if (!isDigest(digestText)) throw invalidReference(text, `"${digestText}" is not a valid digest`, 'A digest is sha256: followed by 64 lowercase hex digits.');
    digest = digestText;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalidReference(text, `"${tag}" is not a valid tag`, 'A tag is up to 128 letters, digits, _, . and -, not starting with . or -.');
  }
  const components = rest.split('/');
  let registry = DOCKER_HUB;
  const first = components[0] ?? '';
  if (components.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    if (!DOMAIN.test(first)) throw invalidReference(text, `"${first}" is not a valid registry host`, hint);
    registry = first;
    components.shift();
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && components.length === 1) components.unshift('library');
  for (const component of components) {
    if (!PATH_COMPONENT.test(component)) {
      const problem = component === '' ? 'the repository has an empty path component' : component !== component.toLowerCase() ? `"${component}" has upper-case letters` : `"${component}" is not a valid repository name component`;
      throw invalidReference(text, problem, 'Repository names are lower-case letters, digits and separators (., _, __, -) between /.');
    }
  }
  const repository = components.join('/');
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) throw invalidReference(text, `the name is longer than ${MAX_NAME_LENGTH} characters`, hint);
  return {
    registry,
    repository,
    ...(tag !== undefined ? { tag } : digest === undefined ? { tag: 'latest' } : {}),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** `registry/repository` */
export function repositoryName(reference: Pick<Reference, 'registry' | 'repository'>): string {
  return `${reference.registry}/${reference.repository}`;
}

/** The full form: `registry/repository[:tag][@digest]`. */
export function formatReference(reference: Reference): string {
  return `${repositoryName(reference)}${reference.tag === undefined ? '' : `:${reference.tag}`}${reference.digest === undefined ? '' : `@${reference.digest}`}`;
}

/** What a registry API call addresses: the digest when known, else the tag. */
export function referenceIdentifier(reference: Reference): string {
  return reference.digest ?? reference.tag ?? 'latest';
}

/** The same repository pinned to a digest (tag dropped). */
export function withDigest(reference: Reference, digest: Digest): Reference {
  return { registry: reference.registry, repository: reference.repository, digest };
}
