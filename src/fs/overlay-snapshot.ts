/**
 * The overlay snapshotter: a step runs on an overlayfs whose lowers are the stage's layers (from
 * the layer store) and whose upperdir starts empty, so after the step the upperdir *is* the
 * diff — nothing walks or hashes the base. Overlay marks deletions as 0/0 character devices and
 * replaced directories as opaque (`trusted.overlay.opaque=y`); the tree walker turns those into
 * OCI whiteouts. The committed upperdir then joins the store as the next step's lower.
 *
 * The mount options keep the upperdir self-contained: no metacopy (a chmod copies the whole file
 * up), no redirect_dir (renaming a lower directory copies it), no index.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Compression } from '../image/index.js';
import { writeLayer, type WrittenLayer } from './layer-writer.js';
import { runProgram } from './program.js';
import type { LayerStore } from './layer-store.js';
import { isOpaqueMarked } from './overlay-xattrs.js';
import { writeTar, type TarInput } from './tar-writer.js';
import { treeEntries } from './tree.js';
import { readTreeXattrs } from './xattrs.js';

export interface OverlayDirectories {
  /** Lower layers, bottom (the base's first layer) first. */
  readonly lowers: readonly string[];
  readonly upper: string;
  /** overlayfs's work directory: empty, on the same filesystem as `upper`. */
  readonly work: string;
}

/**
 * A stack's lower directories (bottom first) with each only once, where it is topmost. A stack can
 * hold one layer twice (`COPY a`, `RUN rm a`, `COPY a` again makes the first layer anew), and
 * overlayfs refuses a directory given twice; the lower copy changes nothing, as everything it
 * holds the upper one holds too (entries, whiteouts and opaque directories alike), above all that
 * lies between them.
 */
export function distinctLowers(lowers: readonly string[]): string[] {
  return [...new Set([...lowers].reverse())].reverse();
}

/** The `-o` data for `mount -t overlay`. overlayfs lists lowers topmost first. */
export function overlayMountData(directories: OverlayDirectories): string {
  const lowers = distinctLowers(directories.lowers).reverse();
  for (const path of [...lowers, directories.upper, directories.work]) {
    // overlayfs splits its options at commas and lowers at colons, and has no escaping that mount(8) passes through.
    if (/[,:\\]/.test(path)) throw new Error(`overlay directory ${JSON.stringify(path)} contains a comma, colon or backslash`);
  }
  return `lowerdir=${lowers.join(':')},upperdir=${directories.upper},workdir=${directories.work},index=off,metacopy=off,redirect_dir=off`;
}

export type SnapshotterChoice = { readonly kind: 'overlay'; readonly reason: string } | { readonly kind: 'walk'; readonly reason: string };

async function run(command: string, args: readonly string[]): Promise<{ readonly code: number; readonly stderr: string }> {
  try {
    const { code, stderr } = await runProgram({ command, args });
    return { code, stderr: stderr.trim() };
  } catch (error) {
    return { code: 127, stderr: (error as Error).message };
  }
}

/**
 * Which snapshotter a build uses, and why (logged once per build). Overlay needs uid 0 (the
 * layer store keeps whiteouts as device nodes and trusted xattrs) and a kernel that mounts it
 * here: that is tried once, in a throwaway mount namespace under `scratch`.
 */
export async function chooseSnapshotter(options: { readonly scratch: string; readonly requested?: 'auto' | 'overlay' | 'walk' }): Promise<SnapshotterChoice> {
  const requested = options.requested ?? 'auto';
  if (requested === 'walk') return { kind: 'walk', reason: 'requested' };
  if (process.getuid?.() !== 0) return { kind: 'walk', reason: 'overlay snapshots need uid 0; running as a regular user' };
  await mkdir(options.scratch, { recursive: true });
  const probe = await mkdtemp(join(options.scratch, 'overlay-probe-'));
  try {
    const directories = { lowers: [join(probe, 'lower')], upper: join(probe, 'upper'), work: join(probe, 'work') };
    for (const path of [...directories.lowers, directories.upper, directories.work, join(probe, 'merged')]) await mkdir(path);
    const result = await run('unshare', ['--mount', '--propagation', 'private', 'mount', '-t', 'overlay', 'overlay', '-o', overlayMountData(directories), join(probe, 'merged')]);
    if (result.code === 0) return { kind: 'overlay', reason: 'overlayfs mounts here (uid 0, mount namespace)' };
    return { kind: 'walk', reason: `overlayfs cannot be mounted here: ${result.stderr || `exit ${result.code}`}` };
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

export interface CommitUpperOptions {
  /** The step's upperdir (from `store.stepDirectories()`, so on the store's filesystem); moved into the store on success. */
  readonly upper: string;
  readonly store: LayerStore;
  readonly compression: Compression;
  readonly level?: number;
  readonly format: 'oci' | 'docker';
  readonly clampMtime?: number;
}

export interface CommittedLayer {
  readonly layer: WrittenLayer;
  /** The layer's directory in the store: the next step's topmost lower. */
  readonly root: string;
  /** Entries in the layer; 0 means the step changed nothing. */
  readonly entries: number;
  /** Directories of the layer marked opaque, relative to its root. */
  readonly opaque: readonly string[];
}

/** Seals the upperdir as a layer (blob into the store) and adopts the directory as a lower. */
export async function commitUpper(options: CommitUpperOptions): Promise<CommittedLayer> {
  const xattrs = await readTreeXattrs({ root: options.upper });
  let entries = 0;
  async function* counted(): AsyncGenerator<TarInput> {
    for await (const entry of treeEntries({ root: options.upper, overlay: true, xattrs, ...(options.clampMtime === undefined ? {} : { clampMtime: options.clampMtime }) })) {
      entries += 1;
      yield entry;
    }
  }
  const layer = await writeLayer({ tar: writeTar(counted()), compression: options.compression, ...(options.level === undefined ? {} : { level: options.level }), format: options.format, blobs: options.store.blobs });
  const opaque = [...xattrs].flatMap(([path, values]) => (isOpaqueMarked(values) ? [path] : []));
  const root = await options.store.adoptLayer({ directory: options.upper, diffId: layer.diffId, bytes: layer.uncompressedSize, entries, opaque });
  return { layer, root, entries, opaque };
}
