/**
 * RUN in the chroot and container sandboxes: the stage's root directory (chroot) or the machine's
 * root (container) is brought to the stage's layers, scanned, changed in place by the command,
 * and scanned again; what changed becomes the step's layer (fs `commitWalk`, kaniko's
 * `--snapshot-mode`). Nothing can be mounted there, so RUN --mount and --network=none are refused
 * with the sandboxes that have them.
 */
import { CaissonError } from '../../errors.js';
import type { RunInstruction } from '../../dockerfile/index.js';
import { runDirect } from '../../exec/index.js';
import { commitWalk } from '../../fs/index.js';
import type { StageLayer } from '../stage-state.js';
import { layerEncoding, mtimeClamp, storedBlobLayer } from './layer.js';
import type { RunCommand, RunOutcome } from './run.js';
import type { StepInput } from './step.js';

function refuse(input: StepInput<RunInstruction>, mode: string, what: string): CaissonError {
  return new CaissonError({
    code: 'ERR_SANDBOX',
    message: `${what} needs a mount namespace, which --sandbox ${mode} does not have`,
    location: input.instruction.location,
    hint: 'Build with --sandbox namespaces (root with CAP_SYS_ADMIN) or rootless (user namespaces), or leave it out of the Dockerfile.',
  });
}

export async function runOnDirectory(options: { readonly input: StepInput<RunInstruction>; readonly command: RunCommand; readonly mode: 'chroot' | 'container' }): Promise<RunOutcome> {
  const { input, command, mode } = options;
  const { instruction, session, state } = input;
  const mount = instruction.mounts[0];
  if (mount !== undefined) throw refuse(input, mode, `RUN --mount=type=${mount.type}`);
  if (instruction.network === 'none') throw refuse(input, mode, 'RUN --network=none (a network namespace)');
  const root = await session.directoryRoot(state);
  const build = session.options;
  const snapshotMode = build.snapshotMode ?? 'redo';
  return root.exclusive(async () => {
    await root.sync({ layers: state.layers, open: (layer) => session.openBlob(layer) });
    const before = root.scan(snapshotMode);
    let layer: StageLayer | 'empty';
    try {
      const result = await session.withRunSlot(() => runDirect({
        root: root.path,
        chroot: mode === 'chroot',
        argv: command.argv,
        env: command.env,
        cwd: state.config.WorkingDir ?? '/',
        user: command.user,
        onOutput: (chunk, stream) => command.output.write(chunk, stream),
        ...(build.signal === undefined ? {} : { signal: build.signal }),
      }));
      if (result.exitCode !== 0) {
        root.invalidate();
        return { ...result, seal: () => Promise.resolve('empty' as const), discard: () => Promise.resolve() };
      }
      const committed = await commitWalk({
        root: root.path,
        before,
        mode: snapshotMode,
        ignore: root.ignore,
        blobs: session.store.blobs,
        whiteoutMtime: session.now,
        ...layerEncoding(build),
        ...mtimeClamp(build),
      });
      layer = committed.entries === 0 ? 'empty' : storedBlobLayer(committed.layer);
      root.committed({ layer: layer === 'empty' ? undefined : layer, index: committed.index, mode: snapshotMode });
    } catch (error) {
      root.invalidate();
      throw error;
    }
    return { exitCode: 0, seal: () => Promise.resolve(layer), discard: () => Promise.resolve() };
  });
}
