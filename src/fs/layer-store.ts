/**
 * The layer store under the cache directory, shared by every build on the machine (or every pod
 * mounting the same volume):
 *
 *   blobs/sha256/<hex>          compressed layer blobs, content-addressed
 *   layers/sha256/<hex>/root/   a layer extracted once, keyed by its diffID, in overlay form
 *   layers/sha256/<hex>/meta.json  its size and entry count; its mtime is the last use
 *   tmp/                        staging; renamed into place only when complete
 *   locks/<hex>.lock            one extraction of a layer at a time
 *   mounts/<name>/              RUN cache mounts (build/steps/run-mounts.ts); a mount's mtime is
 *                               its last use, and `<name>.lock` is held while a step needs it alone
 *
 * Everything becomes visible by an atomic rename of a complete directory or file, so a build
 * killed mid-write leaves only staging that nothing reads and `gc` removes. Locks carry a
 * heartbeat; a lock whose holder stopped beating (killed, or its pod gone) is taken over.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, isDigest, type Digest } from '../image/index.js';
import { extractLayer } from './extract.js';
import { tryFileLock, withFileLock } from './file-lock.js';

/** Staging older than this is left over from a killed build. */
const STALE_STAGING_MS = 3_600_000;
/** A used blob's mtime is moved forward at most this often. */
const LAST_USE_STEP_MS = 3_600_000;

export interface LayerStoreOptions {
  /** The cache directory (`--cache-dir`). */
  readonly root: string;
  /** Whether layers may be extracted with ownership and device nodes (default: uid is 0). */
  readonly privileged?: boolean;
}

export interface UnpackOptions {
  readonly diffId: Digest;
  /** The blob (any compression), opened only when the layer is not in the store yet. */
  readonly open: () => Promise<AsyncIterable<Buffer>>;
  /** Names the layer in errors and logs. */
  readonly what: string;
}

export interface StoreEntry {
  readonly kind: 'blob' | 'layer' | 'mount';
  /** The blob's digest, the layer's diffID, or the cache mount's directory name. */
  readonly name: string;
  readonly bytes: number;
  /** Milliseconds since the epoch. */
  readonly lastUsed: number;
}

export interface StoreUsage {
  readonly blobs: { readonly count: number; readonly bytes: number };
  readonly layers: { readonly count: number; readonly bytes: number };
  readonly mounts: { readonly count: number; readonly bytes: number };
  readonly staging: { readonly count: number };
  readonly bytes: number;
}

export interface CollectOptions {
  /** Entries unused for longer than this go. */
  readonly maxAgeMs?: number;
  /** Then the least recently used go until the store is no bigger than this. */
  readonly maxBytes?: number;
  /** The current time, in milliseconds (tests pass their own). */
  readonly now?: number;
}

interface LayerMeta {
  readonly diffId: Digest;
  readonly bytes: number;
  readonly entries: number;
  /** Directories marked opaque (overlay form), relative to the root: lower layers' children are hidden there. */
  readonly opaque?: readonly string[];
}

/** A layer extracted in the store, as a lower for overlay or for lookups across layers. */
export interface StoredLayer {
  readonly root: string;
  readonly opaque: readonly string[];
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/** Removes a tree even where a layer made directories read-only (as a non-root user). */
async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw error;
    await makeWritable(path);
    await rm(path, { recursive: true, force: true });
  }
}

/** The bytes of the regular files under `directory` (a cache mount), not following links. */
async function treeBytes(directory: string): Promise<number> {
  let total = 0;
  for (const child of await readdir(directory, { withFileTypes: true }).catch(() => [])) {
    const path = join(directory, child.name);
    if (child.isDirectory()) total += await treeBytes(path);
    else if (child.isFile()) total += (await stat(path).catch(() => undefined))?.size ?? 0;
  }
  return total;
}

async function makeWritable(directory: string): Promise<void> {
  await chmod(directory, 0o700).catch(() => undefined);
  const children = await readdir(directory, { withFileTypes: true }).catch(() => []);
  for (const child of children) if (child.isDirectory()) await makeWritable(join(directory, child.name));
}

export class LayerStore {
  readonly root: string;
  readonly #privileged: boolean;

  constructor(options: LayerStoreOptions) {
    this.root = options.root;
    this.#privileged = options.privileged ?? process.getuid?.() === 0;
  }

  /** The blob directory, as `writeLayer`'s `blobs` option and an OCI layout's `blobs/` take it. */
  get blobs(): string {
    return join(this.root, 'blobs');
  }

  blobPath(digest: Digest): string {
    return join(this.blobs, 'sha256', digestHex(digest));
  }

  #layerDirectory(diffId: Digest): string {
    return join(this.root, 'layers', 'sha256', digestHex(diffId));
  }

  /**
   * The blob's path when the store has it, else undefined. Its mtime, the last use `gc` goes by,
   * is moved forward to `now` when it is an hour old: a rebuild does not rewrite the metadata of
   * every blob it reads (nor break the stamps the cache keeps of them).
   */
  async useBlob(digest: Digest, now: number = Date.now()): Promise<string | undefined> {
    const path = this.blobPath(digest);
    try {
      const { mtimeMs } = await stat(path);
      if (now - mtimeMs > LAST_USE_STEP_MS) await utimes(path, new Date(now), new Date(now));
      return path;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** The extracted layer (its `root/` directory) when the store has it, marking it used. */
  async findLayer(diffId: Digest): Promise<string | undefined> {
    const directory = this.#layerDirectory(diffId);
    const now = new Date();
    try {
      await utimes(join(directory, 'meta.json'), now, now);
      return join(directory, 'root');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** The extracted layer with its opaque directories, when the store has it (marking it used). */
  async storedLayer(diffId: Digest): Promise<StoredLayer | undefined> {
    const root = await this.findLayer(diffId);
    if (root === undefined) return undefined;
    const meta = JSON.parse(await readFile(join(root, '..', 'meta.json'), 'utf8')) as LayerMeta;
    return { root, opaque: meta.opaque ?? [] };
  }

  /**
   * The layer's directory in overlay form, extracting it from its blob only if no build has
   * before. Concurrent builds asking for the same layer extract it once: the others wait on the
   * lock and then find it.
   */
  async unpackLayer(options: UnpackOptions): Promise<StoredLayer & { readonly extracted: boolean }> {
    const found = await this.storedLayer(options.diffId);
    if (found !== undefined) return { ...found, extracted: false };
    return this.#withLock(options.diffId, async () => {
      const again = await this.storedLayer(options.diffId);
      if (again !== undefined) return { ...again, extracted: false };
      const staging = await this.#staging();
      try {
        await mkdir(join(staging, 'root'));
        const result = await extractLayer({ source: await options.open(), target: join(staging, 'root'), what: options.what, whiteouts: 'overlay', diffId: options.diffId, privileged: this.#privileged });
        const meta: LayerMeta = { diffId: options.diffId, bytes: result.bytes, entries: result.entries, opaque: result.opaqueDirectories };
        return { root: await this.#publish(staging, options.diffId, meta), opaque: result.opaqueDirectories, extracted: true };
      } catch (error) {
        await removeTree(staging);
        throw error;
      }
    });
  }

  /**
   * Takes `directory` (a committed step's upperdir, already in overlay form) into the store as
   * the layer with `diffId`, moving it, so later steps and builds use it as a lower. Returns the
   * stored root; if the store had the layer already, `directory` is removed instead.
   */
  async adoptLayer(options: { readonly directory: string; readonly diffId: Digest; readonly bytes: number; readonly entries: number; readonly opaque?: readonly string[] }): Promise<string> {
    const found = await this.findLayer(options.diffId);
    if (found !== undefined) {
      await removeTree(options.directory);
      return found;
    }
    const staging = await this.#staging();
    try {
      await rename(options.directory, join(staging, 'root'));
      return await this.#publish(staging, options.diffId, { diffId: options.diffId, bytes: options.bytes, entries: options.entries, opaque: options.opaque ?? [] });
    } catch (error) {
      await removeTree(staging);
      throw error;
    }
  }

  /**
   * A fresh upperdir and workdir for one overlay step, inside the store's staging so that the
   * committed upperdir can be renamed into `layers/` (same filesystem). `discard` removes both
   * (what is left of them after a commit, or all of it when the step failed).
   */
  async stepDirectories(): Promise<{ readonly upper: string; readonly work: string; readonly discard: () => Promise<void> }> {
    const staging = await this.#staging();
    const upper = join(staging, 'upper');
    const work = join(staging, 'work');
    await mkdir(upper);
    await mkdir(work);
    return { upper, work, discard: () => removeTree(staging) };
  }

  async #staging(): Promise<string> {
    const directory = join(this.root, 'tmp', `${process.pid}-${randomBytes(6).toString('hex')}`);
    await mkdir(directory, { recursive: true });
    return directory;
  }

  /** Writes the meta file last, then renames the whole staging directory into place. */
  async #publish(staging: string, diffId: Digest, meta: LayerMeta): Promise<string> {
    await writeFile(join(staging, 'meta.json'), `${JSON.stringify(meta)}\n`);
    const target = this.#layerDirectory(diffId);
    await mkdir(join(target, '..'), { recursive: true });
    try {
      await rename(staging, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Another build published the same layer first: theirs is identical.
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      await removeTree(staging);
    }
    return join(target, 'root');
  }

  #withLock<T>(diffId: Digest, work: () => Promise<T>): Promise<T> {
    return withFileLock(join(this.root, 'locks', `${digestHex(diffId)}.lock`), work);
  }

  /** Every blob, layer and cache mount with its size and last use. */
  async entries(): Promise<StoreEntry[]> {
    const result: StoreEntry[] = [];
    for (const name of await readdir(join(this.blobs, 'sha256')).catch(() => [])) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest)) continue;
      const stats = await stat(join(this.blobs, 'sha256', name)).catch(() => undefined);
      if (stats !== undefined) result.push({ kind: 'blob', name: digest, bytes: stats.size, lastUsed: stats.mtimeMs });
    }
    const mounts = join(this.root, 'mounts');
    for (const child of await readdir(mounts, { withFileTypes: true }).catch(() => [])) {
      if (!child.isDirectory()) continue;
      const stats = await stat(join(mounts, child.name)).catch(() => undefined);
      if (stats !== undefined) result.push({ kind: 'mount', name: child.name, bytes: await treeBytes(join(mounts, child.name)), lastUsed: stats.mtimeMs });
    }
    const layers = join(this.root, 'layers', 'sha256');
    for (const name of await readdir(layers).catch(() => [])) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest)) continue;
      const metaPath = join(layers, name, 'meta.json');
      const [stats, text] = await Promise.all([stat(metaPath).catch(() => undefined), readFile(metaPath, 'utf8').catch(() => undefined)]);
      if (stats === undefined || text === undefined) continue;
      const meta = JSON.parse(text) as LayerMeta;
      result.push({ kind: 'layer', name: digest, bytes: meta.bytes, lastUsed: stats.mtimeMs });
    }
    return result;
  }

  async usage(): Promise<StoreUsage> {
    const entries = await this.entries();
    const sum = (kind: StoreEntry['kind']) => {
      const some = entries.filter((entry) => entry.kind === kind);
      return { count: some.length, bytes: some.reduce((total, entry) => total + entry.bytes, 0) };
    };
    const blobs = sum('blob');
    const layers = sum('layer');
    const mounts = sum('mount');
    const staging = (await readdir(join(this.root, 'tmp')).catch(() => [])).length;
    return { blobs, layers, mounts, staging: { count: staging }, bytes: blobs.bytes + layers.bytes + mounts.bytes };
  }

  /**
   * Removes leftover staging, then entries unused for `maxAgeMs` or longer (0: every one), then the least
   * recently used until the store fits `maxBytes`. Returns what it removed. A layer or cache
   * mount is moved out of place before it is deleted, so no build ever finds half of one; a cache
   * mount a step holds locked (sharing=locked or private) is left alone.
   */
  async collect(options: CollectOptions): Promise<StoreEntry[]> {
    const now = options.now ?? Date.now();
    const tmp = join(this.root, 'tmp');
    for (const name of await readdir(tmp).catch(() => [])) {
      const stats = await stat(join(tmp, name)).catch(() => undefined);
      if (stats !== undefined && now - stats.mtimeMs > STALE_STAGING_MS) await removeTree(join(tmp, name));
    }
    const entries = (await this.entries()).sort((a, b) => a.lastUsed - b.lastUsed);
    let total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    const removed: StoreEntry[] = [];
    for (const entry of entries) {
      // File times are finer than `now`'s milliseconds: a use within this millisecond is a use at `now`.
      const old = options.maxAgeMs !== undefined && now - Math.floor(entry.lastUsed) >= options.maxAgeMs;
      const over = options.maxBytes !== undefined && total > options.maxBytes;
      if (!old && !over) continue;
      if (!(await this.#remove(entry))) continue;
      total -= entry.bytes;
      removed.push(entry);
    }
    return removed;
  }

  /** Removes the entry; false for a cache mount in use. */
  async #remove(entry: StoreEntry): Promise<boolean> {
    if (entry.kind === 'blob') {
      await rm(this.blobPath(entry.name as Digest), { force: true });
      return true;
    }
    const place = entry.kind === 'layer' ? this.#layerDirectory(entry.name as Digest) : join(this.root, 'mounts', entry.name);
    const lock = entry.kind === 'mount' ? await tryFileLock(`${place}.lock`) : undefined;
    if (entry.kind === 'mount' && lock === undefined) return false;
    try {
      const staging = await this.#staging();
      try {
        await rename(place, join(staging, entry.kind));
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
      await removeTree(staging);
    } finally {
      await lock?.release();
    }
    return true;
  }
}
