/**
 * Sealing what a filesystem step wrote (a step directory from the layer store) as the stage's
 * next layer: an empty directory is no layer at all (BuildKit's `empty_layer`), anything else is
 * written as a deterministic tar, compressed into the store and kept as the next step's lower.
 */
import { readdir } from 'node:fs/promises';
import { commitUpper, writeLayer, writeTar, type WrittenLayer } from '../../fs/index.js';
import type { Compression } from '../../image/index.js';
import { DirectorySink, type LayerSink, type TarSink } from '../layer-sink.js';
import type { BuildSession } from '../build-session.js';
import type { BuildOptions } from '../options.js';
import type { StageLayer } from '../stage-state.js';

export interface StepDirectories {
  readonly upper: string;
  readonly work: string;
  readonly discard: () => Promise<void>;
}

/**
 * `--ignore-path`: each path is removed from the step's layer before it is sealed. Only real
 * directories are followed to it: a parent that is a symlink, a file or a whiteout in this layer
 * means none of the path is here.
 */
function dropIgnored(sink: LayerSink, paths: readonly string[]): void {
  for (const path of paths) {
    const parts = path.split('/').filter((part) => part !== '');
    const inside = parts.slice(0, -1).every((_, index) => sink.kind(parts.slice(0, index + 1).join('/')) === 'directory');
    if (inside) sink.remove(parts.join('/'));
  }
}

/** How this build writes a layer: compression, its level, the media types. */
export function layerEncoding(build: BuildOptions): { readonly compression: Compression; readonly format: 'oci' | 'docker'; readonly level?: number } {
  return { compression: build.compression, format: build.format, ...(build.compressionLevel === undefined ? {} : { level: build.compressionLevel }) };
}

/** --reproducible / SOURCE_DATE_EPOCH as the writers' `clampMtime` option. */
export function mtimeClamp(build: BuildOptions): { readonly clampMtime?: number } {
  return build.clampTime === undefined ? {} : { clampMtime: build.clampTime };
}

/** A layer written into the store's blobs, as the stage keeps it. */
export function storedBlobLayer(written: WrittenLayer): StageLayer {
  return { descriptor: written.descriptor, diffId: written.diffId, blob: { kind: 'file', path: written.path } };
}

/**
 * COPY's layer from its recorded entries: `--ignore-path` dropped, written as a deterministic tar
 * and compressed into the store. The files are not extracted: a later step that needs them
 * extracts the blob (session.extract), once.
 */
export async function sealEntries(options: { readonly session: BuildSession; readonly sink: TarSink }): Promise<StageLayer | 'empty'> {
  const { session, sink } = options;
  const build = session.options;
  dropIgnored(sink, build.ignorePaths ?? []);
  if (sink.size === 0) return 'empty';
  return storedBlobLayer(await writeLayer({ tar: writeTar(sink.entries(mtimeClamp(build))), blobs: session.store.blobs, ...layerEncoding(build) }));
}

export async function sealLayer(options: { readonly session: BuildSession; readonly directories: StepDirectories }): Promise<StageLayer | 'empty'> {
  const { session, directories } = options;
  try {
    dropIgnored(new DirectorySink(directories.upper), session.options.ignorePaths ?? []);
    if ((await readdir(directories.upper)).length === 0) return 'empty';
    const build = session.options;
    const committed = await commitUpper({ upper: directories.upper, store: session.store, ...layerEncoding(build), ...mtimeClamp(build) });
    const layer = storedBlobLayer(committed.layer);
    session.remember(layer, { root: committed.root, opaque: committed.opaque });
    return layer;
  } finally {
    await directories.discard();
  }
}
