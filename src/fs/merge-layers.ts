/**
 * Several layers in overlay form (whiteouts as 0/0 character devices, opaque directories marked)
 * merged into one directory in the same form, as overlayfs would stack them as uppers: what a
 * later layer deletes or replaces goes, its whiteouts and opaque markers stay (they still act on
 * the layers below the merged ones). Used by `--single-snapshot`.
 *
 * Each layer is copied with `cp -a` (ownership, modes, times, xattrs including overlay's markers,
 * hardlinks within the layer, device nodes), after a pass that removes from the target whatever
 * the layer replaces: every path it holds as a non-directory, every directory it marks opaque,
 * and directories where it has something else.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CaissonError } from '../errors.js';
import { runProgram } from './program.js';

export interface MergeLayer {
  /** The layer's directory, in overlay form. */
  readonly root: string;
  /** Its opaque directories, relative to root. */
  readonly opaque: readonly string[];
}

async function clearReplaced(options: { readonly layer: string; readonly into: string; readonly relative: string; readonly opaque: ReadonlySet<string> }): Promise<void> {
  const { layer, into, opaque } = options;
  for (const name of await readdir(join(layer, options.relative))) {
    const relative = options.relative === '' ? name : `${options.relative}/${name}`;
    const source = await lstat(join(layer, relative));
    const existing = await lstat(join(into, relative)).catch(() => undefined);
    if (source.isDirectory()) {
      if (existing !== undefined && (!existing.isDirectory() || opaque.has(relative))) await rm(join(into, relative), { recursive: true, force: true });
      if (existing?.isDirectory() === true && !opaque.has(relative)) await clearReplaced({ ...options, relative });
    } else if (existing !== undefined) {
      await rm(join(into, relative), { recursive: true, force: true });
    }
  }
}

/** Merges `layers` (bottom first) into the empty directory `into`. */
export async function mergeLayers(options: { readonly layers: readonly MergeLayer[]; readonly into: string }): Promise<void> {
  for (const layer of options.layers) {
    await clearReplaced({ layer: layer.root, into: options.into, relative: '', opaque: new Set(layer.opaque) });
    const copied = await runProgram({ command: 'cp', args: ['-a', `${layer.root}/.`, `${options.into}/`] });
    if (copied.code !== 0) {
      throw new CaissonError({ code: 'ERR_LAYER_INVALID', message: `merging layer ${layer.root} for --single-snapshot failed: ${copied.stderr.trim()}`, hint: 'Check free space in the cache directory; without --single-snapshot each step keeps its own layer.' });
    }
  }
}
