/**
 * Sealing what a filesystem step wrote (a step directory from the layer store) as the stage's
 * next layer: an empty directory is no layer at all (BuildKit's `empty_layer`), anything else is
 * written as a deterministic tar, compressed into the store and kept as the next step's lower.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { commitUpper, writeLayer, writeTar } from '../../fs/index.js';
import type { TarSink } from '../layer-sink.js';
import type { BuildSession } from '../build-session.js';
import type { StageLayer } from '../stage-state.js';

export interface StepDirectories {
  readonly upper: string;
  readonly work: string;
  readonly discard: () => Promise<void>;
}

/**
 * `--ignore-path`: each path is removed from the step's directory before it is sealed. Only real
 * directories are followed to it: a parent that is a symlink, a file or a whiteout in this layer
 * means none of the path is here.
 */
async function dropIgnored(upper: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const parts = path.split('/').filter((part) => part !== '');
    let parent = upper;
    let inside = true;
    for (const part of parts.slice(0, -1)) {
      parent = join(parent, part);
      if ((await lstat(parent).catch(() => undefined))?.isDirectory() !== true) {
        inside = false;
        break;
      }
    }
    if (inside) await rm(join(parent, parts[parts.length - 1] as string), { recursive: true, force: true });
  }
}

/**
 * COPY's layer from its recorded entries: `--ignore-path` dropped, written as a deterministic tar
 * and compressed into the store. The files are not extracted: a later step that needs them
 * extracts the blob (session.extract), once.
 */
export async function sealEntries(options: { readonly session: BuildSession; readonly sink: TarSink }): Promise<StageLayer | 'empty'> {
  const { session, sink } = options;
  const build = session.options;
  for (const path of build.ignorePaths ?? []) {
    const parts = path.split('/').filter((part) => part !== '');
    const parentsAreDirectories = parts.slice(0, -1).every((_, index) => sink.kind(parts.slice(0, index + 1).join('/')) === 'directory');
    if (parentsAreDirectories) sink.remove(parts.join('/'));
  }
  if (sink.size === 0) return 'empty';
  const layer = await writeLayer({
    tar: writeTar(sink.entries(build.clampTime === undefined ? {} : { clampMtime: build.clampTime })),
    compression: build.compression,
    format: build.format,
    blobs: session.store.blobs,
    ...(build.compressionLevel === undefined ? {} : { level: build.compressionLevel }),
  });
  return { descriptor: layer.descriptor, diffId: layer.diffId, blob: { kind: 'file', path: layer.path } };
}

export async function sealLayer(options: { readonly session: BuildSession; readonly directories: StepDirectories }): Promise<StageLayer | 'empty'> {
  const { session, directories } = options;
  try {
    await dropIgnored(directories.upper, session.options.ignorePaths ?? []);
    if ((await readdir(directories.upper)).length === 0) return 'empty';
    const build = session.options;
    const committed = await commitUpper({
      upper: directories.upper,
      store: session.store,
      compression: build.compression,
      format: build.format,
      ...(build.compressionLevel === undefined ? {} : { level: build.compressionLevel }),
      ...(build.clampTime === undefined ? {} : { clampMtime: build.clampTime }),
    });
    const layer: StageLayer = { descriptor: committed.layer.descriptor, diffId: committed.layer.diffId, blob: { kind: 'file', path: committed.layer.path } };
    session.remember(layer, { root: committed.root, opaque: committed.opaque });
    return layer;
  } finally {
    await directories.discard();
  }
}
