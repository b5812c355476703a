/**
 * Where images are, as `caisson copy` and `inspect` name them (skopeo's transports):
 * `docker://[registry/]repo[:tag][@digest]` (the default when no transport is given),
 * `oci:<dir>[:tag]` and `docker-archive:<file>[:ref]`; and opening them as sources and targets.
 */
import { resolve } from 'node:path';
import { CaissonError } from '../errors.js';
import {
  DockerArchiveReader, DockerArchiveWriter, formatReference, OciLayout, parseReference,
  type Descriptor, type ImageSource, type ImageTarget, type Reference,
} from '../image/index.js';
import type { RegistrySession } from '../registry/index.js';

export type ImageLocation =
  | { readonly kind: 'registry'; readonly reference: Reference }
  | { readonly kind: 'oci'; readonly dir: string; readonly tag?: string }
  | { readonly kind: 'docker-archive'; readonly path: string; readonly name?: string };

/** Splits `path[:suffix]` where the suffix has no slash (so `oci:/a/b:v1` → `/a/b`, `v1`). */
function splitSuffix(text: string): { path: string; suffix?: string } {
  const colon = text.lastIndexOf(':');
  if (colon <= 0 || text.indexOf('/', colon) >= 0) return { path: text };
  return { path: text.slice(0, colon), suffix: text.slice(colon + 1) };
}

export function parseLocation(options: { readonly text: string; readonly cwd: string }): ImageLocation {
  const { text, cwd } = options;
  if (text.startsWith('docker://')) return { kind: 'registry', reference: parseReference(text.slice('docker://'.length)) };
  if (text.startsWith('oci:')) {
    const { path, suffix } = splitSuffix(text.slice('oci:'.length));
    if (path === '') throw new CaissonError({ code: 'ERR_USAGE', message: `"${text}": oci: needs a directory`, hint: 'Write oci:<dir>[:tag], e.g. oci:./out:latest.' });
    return { kind: 'oci', dir: resolve(cwd, path), ...(suffix === undefined || suffix === '' ? {} : { tag: suffix }) };
  }
  if (text.startsWith('docker-archive:')) {
    const rest = text.slice('docker-archive:'.length);
    const colon = rest.indexOf(':');
    const path = colon < 0 ? rest : rest.slice(0, colon);
    const name = colon < 0 ? undefined : rest.slice(colon + 1);
    if (path === '') throw new CaissonError({ code: 'ERR_USAGE', message: `"${text}": docker-archive: needs a file`, hint: 'Write docker-archive:<file>[:name:tag], e.g. docker-archive:app.tar:app:1.0.' });
    return { kind: 'docker-archive', path: resolve(cwd, path), ...(name === undefined || name === '' ? {} : { name }) };
  }
  const transport = /^([a-z][a-z0-9-]*):(?!\d)/.exec(text);
  if (transport !== null && !text.includes('/')) {
    throw new CaissonError({ code: 'ERR_USAGE', message: `"${text}": unknown transport "${transport[1]}:"`, hint: 'Use docker://<ref>, oci:<dir>[:tag] or docker-archive:<file>[:ref].' });
  }
  return { kind: 'registry', reference: parseReference(text) };
}

export function describeLocation(location: ImageLocation): string {
  switch (location.kind) {
    case 'registry':
      return `docker://${formatReference(location.reference)}`;
    case 'oci':
      return `oci:${location.dir}${location.tag === undefined ? '' : `:${location.tag}`}`;
    case 'docker-archive':
      return `docker-archive:${location.path}${location.name === undefined ? '' : `:${location.name}`}`;
  }
}

/** The registry host of a location, for --insecure and TLS flags; undefined for local files. */
export function locationHost(location: ImageLocation): string | undefined {
  return location.kind === 'registry' ? location.reference.registry : undefined;
}

export async function openSource(options: { readonly location: ImageLocation; readonly session: RegistrySession }): Promise<{ source: ImageSource; root: Descriptor }> {
  const { location } = options;
  switch (location.kind) {
    case 'registry': {
      const pulled = await options.session.pull({ reference: location.reference });
      return { source: pulled.repository, root: pulled.root };
    }
    case 'oci': {
      const layout = await OciLayout.open(location.dir);
      return { source: layout, root: await layout.resolve(location.tag) };
    }
    case 'docker-archive': {
      const archive = await DockerArchiveReader.open(location.path);
      return { source: archive, root: await archive.resolve(location.name) };
    }
  }
}

export interface OpenedTarget {
  readonly target: ImageTarget;
  readonly tags: readonly string[];
  /** Drops what an unfinished write left (a half-written archive). */
  readonly abort: () => Promise<void>;
}

export async function openTarget(options: { readonly location: ImageLocation; readonly session: RegistrySession }): Promise<OpenedTarget> {
  const { location } = options;
  const nothing = async (): Promise<void> => undefined;
  switch (location.kind) {
    case 'registry': {
      const { reference } = location;
      if (reference.digest !== undefined && reference.tag === undefined) {
        return { target: options.session.repository(reference), tags: [], abort: nothing };
      }
      return { target: options.session.repository(reference), tags: [reference.tag ?? 'latest'], abort: nothing };
    }
    case 'oci':
      return { target: await OciLayout.openOrCreate(location.dir), tags: location.tag === undefined ? [] : [location.tag], abort: nothing };
    case 'docker-archive': {
      const writer = new DockerArchiveWriter({ path: location.path });
      const tags = location.name === undefined ? [] : [formatReference(parseReference(location.name))];
      return { target: writer, tags, abort: () => writer.abort() };
    }
  }
}
