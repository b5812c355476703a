/**
 * The root RUN changes in place in the chroot and container sandboxes, where nothing can be
 * mounted: one plain directory the stage's layers are applied to (extracted from their blobs,
 * whiteouts applied), and the walk snapshotter tells what a step changed. chroot: a directory per
 * stage under the build's scratch. container: `/` itself, shared by every stage; before a RUN of
 * another stage it is cleared (all but the kept paths) and rebuilt from that stage's layers, as
 * kaniko does. A root remembers which layers it holds, so consecutive RUN steps of a stage apply
 * only what the steps between them added, and its last scan, so a step scans once.
 */
import { readdir } from 'node:fs/promises';
import { CaissonError } from '../errors.js';
import { extractLayer, removeKeeping, scanTree, type SnapshotMode, type StatIndex } from '../fs/index.js';
import type { Digest } from '../image/index.js';
import type { StageLayer } from './stage-state.js';

export interface DirectoryRootOptions {
  /** The root directory (`/` in container mode). */
  readonly path: string;
  /** Relative paths never written, removed nor snapshotted (container mode: caisson's own, mounts, the cache). */
  readonly keep: readonly string[];
  /** Relative paths left out of snapshots (proc, sys, dev, the generated /etc files, --ignore-path). */
  readonly ignore: readonly string[];
  /** The root may hold anything (`/`): it is cleared before the first layer is applied. */
  readonly startsDirty: boolean;
}

export class DirectoryRoot {
  readonly path: string;
  readonly keep: readonly string[];
  readonly ignore: readonly string[];
  /** The layers the root holds, bottom first (their diffIDs). */
  #applied: Digest[] = [];
  #dirty: boolean;
  /** The scan of the root as it is now, when known. */
  #index: { readonly mode: SnapshotMode; readonly index: StatIndex } | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: DirectoryRootOptions) {
    this.path = options.path;
    this.keep = options.keep;
    this.ignore = [...new Set([...options.keep, ...options.ignore])];
    this.#dirty = options.startsDirty;
  }

  /** Runs `work` alone on this root: container mode's `/` is shared by every stage. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Makes the root hold exactly `layers`: the missing ones applied, or everything cleared and applied. */
  async sync(options: { readonly layers: readonly StageLayer[]; readonly open: (layer: StageLayer) => Promise<AsyncIterable<Buffer>> }): Promise<void> {
    const wanted = options.layers.map((layer) => layer.diffId);
    const prefix = !this.#dirty && this.#applied.every((diffId, index) => wanted[index] === diffId) && this.#applied.length <= wanted.length;
    if (!prefix) {
      this.#index = undefined;
      this.#applied = [];
      // The root directory itself stays (it is `/`, or the stage's directory).
      for (const name of await readdir(this.path)) await removeKeeping({ root: this.path, path: name, keep: this.keep });
      this.#dirty = false;
    }
    for (const layer of options.layers.slice(this.#applied.length)) {
      this.#index = undefined;
      // Until it is whole, the root holds something no layer list describes.
      this.#dirty = true;
      const what = `layer ${layer.descriptor.digest}`;
      await extractLayer({ source: await options.open(layer), target: this.path, what, diffId: layer.diffId, privileged: true, keep: this.keep }).catch((error: unknown) => {
        if (error instanceof CaissonError) throw error;
        throw new CaissonError({ code: 'ERR_LAYER_INVALID', message: `${what}: applying it to the build root ${this.path} failed: ${(error as Error).message}`, hint: 'Check free space where the root lives; the next build starts the root over.', cause: error });
      });
      this.#applied.push(layer.diffId);
      this.#dirty = false;
    }
  }

  /** The scan of the root now: kept from the last step, else walked. */
  scan(mode: SnapshotMode): StatIndex {
    if (this.#index?.mode === mode) return this.#index.index;
    const index = scanTree({ root: this.path, mode, ignore: this.ignore });
    this.#index = { mode, index };
    return index;
  }

  /** After a step: the root holds `layer` on top (none when the step changed nothing); `index` is its scan. */
  committed(options: { readonly layer: StageLayer | undefined; readonly index: StatIndex; readonly mode: SnapshotMode }): void {
    if (options.layer !== undefined) this.#applied.push(options.layer.diffId);
    this.#index = { mode: options.mode, index: options.index };
  }

  /** A step failed half-way: the root holds something no layer list describes; the next sync starts over. */
  invalidate(): void {
    this.#dirty = true;
    this.#index = undefined;
  }
}
