/**
 * `--single-snapshot` (kaniko's meaning): the layers the build added on top of the base image
 * become one layer. They are merged in overlay form (fs `mergeLayers`) and sealed like any step's
 * layer; every history entry of the build is kept, marked `empty_layer`, and one entry for the
 * merged layer follows them.
 */
import { mergeLayers } from '../fs/index.js';
import type { BuildSession } from './build-session.js';
import type { StageState } from './stage-state.js';
import { sealLayer } from './steps/layer.js';

export async function squashAddedLayers(options: { readonly session: BuildSession; readonly state: StageState }): Promise<void> {
  const { session, state } = options;
  const added = state.layers.slice(state.base.layers);
  if (added.length === 0) return;
  const directories = await session.store.stepDirectories();
  try {
    await mergeLayers({ layers: await session.lowers(added), into: directories.upper });
  } catch (error) {
    await directories.discard();
    throw error;
  }
  const layer = await sealLayer({ session, directories });
  state.layers.splice(state.base.layers, added.length, ...(layer === 'empty' ? [] : [layer]));
  const history = state.history.slice(state.base.history).map((entry) => ({ ...entry, empty_layer: true }));
  state.history.splice(state.base.history, history.length, ...history);
  if (layer !== 'empty') state.history.push({ created: session.created, created_by: `caisson --single-snapshot (${added.length} layers)`, comment: 'caisson' });
  session.options.logger.info(`--single-snapshot: ${added.length} layers merged into ${layer === 'empty' ? 'none' : `${layer.descriptor.digest.slice(0, 19)} (${layer.descriptor.size} bytes)`}`);
}
