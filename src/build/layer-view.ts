/**
 * Reading a stage's filesystem without mounting it: lookups across the stage's extracted layers
 * (overlay form, topmost wins), honouring overlay whiteouts (0/0 character devices) and opaque
 * directories, and resolving symlinks as the container would see them (inside the root, `..`
 * stopping at `/`). COPY uses it to resolve destinations and `--from` sources, USER to read
 * /etc/passwd.
 */
import { lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { CaissonError } from '../errors.js';
import { compareBytes, type StoredLayer } from '../fs/index.js';
import { linkTarget, resolveInside } from './resolve-inside.js';

export interface ViewEntry {
  readonly stats: Stats;
  /** The host path of the entry in the layer that provides it. */
  readonly hostPath: string;
}

function isWhiteout(stats: Stats): boolean {
  return stats.isCharacterDevice() && stats.rdev === 0;
}

function ancestors(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

export class LayerView {
  /** Topmost first. */
  readonly #layers: readonly { readonly root: string; readonly opaque: ReadonlySet<string> }[];

  constructor(options: { readonly layers: readonly StoredLayer[] }) {
    this.#layers = [...options.layers].reverse().map((layer) => ({ root: layer.root, opaque: new Set(layer.opaque) }));
  }

  /** Whether layer `index` hides what lower layers have at `path` (an ancestor replaced, deleted or opaque there). */
  #hidesBelow(index: number, path: string): boolean {
    const layer = this.#layers[index];
    if (layer === undefined) return false;
    if (layer.opaque.has(path)) return true;
    for (const ancestor of ancestors(path)) {
      if (layer.opaque.has(ancestor)) return true;
      const stats = lstatSync(join(layer.root, ancestor), { throwIfNoEntry: false });
      if (stats !== undefined && !stats.isDirectory()) return true;
    }
    return false;
  }

  /** The entry at a clean relative path ('' is the root), not following a final symlink. */
  lstat(path: string): ViewEntry | undefined {
    if (path === '') return undefined;
    for (let index = 0; index < this.#layers.length; index += 1) {
      const layer = this.#layers[index] as { readonly root: string };
      const hostPath = join(layer.root, path);
      const stats = lstatSync(hostPath, { throwIfNoEntry: false });
      if (stats !== undefined) return isWhiteout(stats) ? undefined : { stats, hostPath };
      if (this.#hidesBelow(index, path)) return undefined;
    }
    return undefined;
  }

  /** Whether `path` (clean, relative; '' the root) is a directory, after resolving symlinks. */
  isDirectory(path: string): boolean {
    const resolved = this.resolve({ path, followFinal: true });
    return resolved === '' || this.lstat(resolved)?.stats.isDirectory() === true;
  }

  /**
   * `path` with every symlink in it resolved inside the root, as a clean relative path. The final
   * component is followed only when `followFinal`. Missing components are kept as written.
   */
  resolve(options: { readonly path: string; readonly followFinal: boolean }): string {
    return resolveInside({
      ...options,
      readLink: (relative) => linkTarget(this.lstat(relative)),
      loop: () => new CaissonError({ code: 'ERR_BUILD_STEP', message: `/${options.path}: too many levels of symbolic links`, hint: 'A symlink loop in the image; fix the links or use another path.' }),
    });
  }

  /** A file's content, following symlinks; undefined when it is missing or not a file. */
  readFile(path: string): Buffer | undefined {
    const resolved = this.resolve({ path, followFinal: true });
    const entry = this.lstat(resolved);
    if (entry === undefined || !entry.stats.isFile()) return undefined;
    return readFileSync(entry.hostPath);
  }

  /** The names in a directory (clean, resolved path), merged across layers, sorted bytewise. */
  readdir(path: string): string[] {
    const seen = new Map<string, boolean>();
    for (let index = 0; index < this.#layers.length; index += 1) {
      const layer = this.#layers[index] as { readonly root: string; readonly opaque: ReadonlySet<string> };
      const hostPath = path === '' ? layer.root : join(layer.root, path);
      const stats = lstatSync(hostPath, { throwIfNoEntry: false });
      if (stats !== undefined && !stats.isDirectory()) break;
      if (stats !== undefined) {
        for (const child of readdirSync(hostPath, { withFileTypes: true })) {
          if (seen.has(child.name)) continue;
          const deleted = child.isCharacterDevice() && isWhiteout(lstatSync(join(hostPath, child.name)));
          seen.set(child.name, !deleted);
        }
      }
      if (path !== '' && this.#hidesBelow(index, path)) break;
      if (path === '' && layer.opaque.has('')) break;
    }
    return [...seen].filter(([, present]) => present).map(([name]) => name).sort(compareBytes);
  }
}
