/**
 * Entry names made safe: a layer's names are cleaned to a relative path under the target or
 * refused, and OCI whiteout names (`.wh.<name>`, `.wh..wh..opq`) are recognised.
 */
import { CaissonError } from '../errors.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

/**
 * `name` as a relative path without `.` components or slashes at either end ('' for the root).
 * Absolute names are taken relative to the target, as Docker and containerd do; any `..`
 * component is refused, even one that would stay inside.
 */
export function cleanEntryPath(options: { readonly name: string; readonly what: string }): string {
  const { name, what } = options;
  if (name.includes('\0')) throw new CaissonError({ code: 'ERR_LAYER_UNSAFE', message: `${what}: entry name ${JSON.stringify(name)} contains a NUL byte`, hint: 'The layer is hostile or corrupt; caisson extracts nothing from it.' });
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      throw new CaissonError({ code: 'ERR_LAYER_UNSAFE', message: `${what}: entry ${JSON.stringify(name)} climbs out with ".."`, hint: 'Layer entries must stay inside the image root; the layer is hostile or was built wrong.' });
    }
    parts.push(part);
  }
  return parts.join('/');
}

export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}

export type WhiteoutKind = { readonly kind: 'none' } | { readonly kind: 'opaque'; readonly directory: string } | { readonly kind: 'whiteout'; readonly target: string };

/** Whether the cleaned `path` is a whiteout, and of what. */
export function whiteoutOf(options: { readonly path: string; readonly what: string }): WhiteoutKind {
  const base = baseName(options.path);
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  const directory = parentOf(options.path);
  if (base === OPAQUE_WHITEOUT) return { kind: 'opaque', directory };
  const hidden = base.slice(WHITEOUT_PREFIX.length);
  if (hidden === '' || hidden === '.' || hidden === '..' || hidden.startsWith(WHITEOUT_PREFIX)) {
    throw new CaissonError({ code: 'ERR_LAYER_UNSAFE', message: `${options.what}: whiteout ${JSON.stringify(options.path)} names ${hidden === '' ? 'nothing' : JSON.stringify(hidden)}`, hint: 'A whiteout deletes one named entry of its directory; this one would delete a parent or the root. The layer is hostile or corrupt.' });
  }
  return { kind: 'whiteout', target: joinPath(directory, hidden) };
}
