/**
 * A local build context as one gzip tarball, for `caisson submit` to hand to a cluster: the
 * entries the build would see (.dockerignore applied, read as the build reads it), plus the
 * Dockerfile and the ignore file themselves even when ignored (as `docker build` sends them).
 * Owners are 0:0 (the context's are meaningless in the image, as COPY makes them), modes and
 * mtimes kept; sockets, devices and fifos are left out. Written once as a blob with its digest,
 * so the same bytes can be streamed to a pod or pushed to a registry (context-artifact.ts).
 */
import { lstatSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { fileContent, headerFor, kindOf, writeLayer, writeTar, type TarInput, type WrittenLayer } from '../fs/index.js';
import { ContextTree, contextIgnoreFiles, readContextIgnore } from './context-tree.js';

export interface PackContextOptions {
  /** The context directory. */
  readonly dir: string;
  /** The Dockerfile's absolute path (its ignore file and, inside the context, itself are always sent). */
  readonly dockerfile: string;
  /** Where the blob is written (`<blobs>/sha256/<hex>`). */
  readonly blobs: string;
}

/** Packs the context; the blob's descriptor is a gzip OCI layer's. */
export async function packContext(options: PackContextOptions): Promise<WrittenLayer & { readonly entries: number }> {
  const tree = new ContextTree({ root: options.dir, ignore: await readContextIgnore({ dockerfile: options.dockerfile, contextDir: options.dir }) });
  const always = new Set([options.dockerfile, ...contextIgnoreFiles({ dockerfile: options.dockerfile, contextDir: options.dir })].map((path) => relative(options.dir, path).split(sep).join('/')));
  const counted = { entries: 0 };
  const written = await writeLayer({ tar: writeTar(contextEntries({ tree, always, counted })), compression: 'gzip', format: 'oci', blobs: options.blobs });
  return { ...written, entries: counted.entries };
}

/** Whether an always-sent file (the Dockerfile) is below `directory`. */
function holdsAlways(always: ReadonlySet<string>, directory: string): boolean {
  return [...always].some((path) => path.startsWith(`${directory}/`));
}

async function* contextEntries(walk: { readonly tree: ContextTree; readonly always: ReadonlySet<string>; readonly counted: { entries: number } }): AsyncGenerator<TarInput> {
  const { tree, always } = walk;
  async function* directory(path: string): AsyncGenerator<TarInput> {
    for (const name of tree.readdir(path)) {
      const child = path === '' ? name : `${path}/${name}`;
      const stats = lstatSync(`${tree.root}/${child}`);
      const kind = kindOf(stats);
      if (kind !== 'file' && kind !== 'directory' && kind !== 'symlink') continue;
      if (tree.excluded(child) && !always.has(child) && !(kind === 'directory' && (tree.mayIncludeChildren(child) || holdsAlways(always, child)))) continue;
      const header = { ...(await headerFor({ path: `${tree.root}/${child}`, name: child, stats, kind })), uid: 0, gid: 0 };
      walk.counted.entries += 1;
      if (kind === 'file') yield { header, content: fileContent(`${tree.root}/${child}`, stats.size) };
      else yield { header };
      if (kind === 'directory') yield* directory(child);
    }
  }
  yield* directory('');
}
