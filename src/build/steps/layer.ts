/**
 * Sealing what a filesystem step wrote (a step directory from the layer store) as the stage's
 * next layer: an empty directory is no layer at all (BuildKit's `empty_layer`), anything else is
 * written as a deterministic tar, compressed into the store and kept as the next step's lower.
 */
import { readdir } from 'node:fs/promises';
import { commitUpper } from '../../fs/index.js';
import type { BuildSession } from '../build-session.js';
import type { StageLayer } from '../stage-state.js';

export interface StepDirectories {
  readonly upper: string;
  readonly work: string;
  readonly discard: () => Promise<void>;
}

export async function sealLayer(options: { readonly session: BuildSession; readonly directories: StepDirectories }): Promise<StageLayer | 'empty'> {
  const { session, directories } = options;
  try {
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
