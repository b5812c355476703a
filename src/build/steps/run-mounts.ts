/**
 * RUN --mount, turned into the sandbox's mounts:
 * - cache: a directory under the cache dir (`mounts/<sha256(id)>`), kept across builds, seeded
 *   from another stage with from=, shared, locked or private;
 * - secret: the value from --secret written to the step's scratch and bound read-only (never in
 *   a layer: bound files are mount stubs the sandbox removes), or an env= variable the sandbox
 *   hands the command without putting it on any command line;
 * - bind: a context path (read-only; `rw` binds a throwaway copy), or a copy of a stage's or
 *   image's path;
 * - tmpfs.
 * ssh is refused with a clear error.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { FileChange } from '../../cache/index.js';
import { CaissonError } from '../../errors.js';
import type { RunInstruction, RunMount } from '../../dockerfile/index.js';
import { SECRET_ENV_NAME, type SandboxMount } from '../../exec/index.js';
import { acquireFileLock, tryFileLock, type HeldLock } from '../../fs/index.js';
import { DirectorySink } from '../layer-sink.js';
import { copyEntry, leftOut } from '../copy-files.js';
import type { SourceTree } from '../context-tree.js';
import type { ViewEntry } from '../layer-view.js';
import { sourceInputs } from '../source-digest.js';
import type { StepInput } from './step.js';

type MountInput = StepInput<RunInstruction> & { readonly scratch: string };

function refuse(input: MountInput, mount: RunMount, detail: string, hint: string): CaissonError {
  return new CaissonError({ code: 'ERR_BUILD_STEP', message: `RUN --mount=${mount.spec}: ${detail}`, location: input.instruction.location, hint });
}

function target(input: MountInput, mount: RunMount, fallback?: string): string {
  const path = mount.target ?? fallback;
  if (path === undefined || path === '') throw refuse(input, mount, 'needs a target', 'Add target=/path.');
  return posix.resolve(input.state.config.WorkingDir ?? '/', path);
}

/**
 * The cache directory, made on first use: empty (mode, uid, gid applied) or, with from=, seeded
 * with a copy of source= in that stage, image or context. It is built aside and renamed into
 * place, so a build killed while seeding leaves no half-filled cache.
 */
async function ensureCacheDirectory(input: MountInput, mount: RunMount, directory: string): Promise<void> {
  if (statSync(directory, { throwIfNoEntry: false }) !== undefined) return;
  const staging = `${directory}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    if (mount.from === undefined) {
      mkdirSync(staging, { recursive: true });
      chmodSync(staging, mount.mode ?? 0o755);
      chownSync(staging, mount.uid ?? 0, mount.gid ?? 0);
    } else {
      const tree = await input.sourceTree(mount.from === '' ? undefined : mount.from);
      const source = tree.resolve({ path: mount.source ?? '', followFinal: true });
      if (tree.lstat(source)?.stats.isDirectory() !== true) throw refuse(input, mount, `source "${mount.source ?? '/'}" is not a directory in the ${tree.what}`, 'A cache seeded with from= needs source= naming a directory there.');
      mkdirSync(dirname(staging), { recursive: true });
      copyEntry({ sink: new DirectorySink(staging), view: undefined, owner: undefined, chmod: undefined, now: input.session.now, tree, exclude: undefined, created: [], times: new Map(), source, target: '', relative: '' });
    }
    renameSync(staging, directory);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another step or build made it first: theirs is as good.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
}

/** Where a cache mount's directory lives: `<cache-dir>/mounts/<sha256 of id (and from=, source=)>`. */
function cacheBase(input: MountInput, mount: RunMount): string {
  const id = mount.id ?? target(input, mount);
  const key = createHash('sha256').update(mount.from === undefined ? id : `${id}\0${mount.from}\0${mount.source ?? ''}`).digest('hex');
  return join(input.session.options.cacheDir, 'mounts', key);
}

/**
 * A cache mount, kept across builds. sharing=shared (the default) lets every step use it at once;
 * locked waits for the step or build holding it; private takes the first instance (`<key>`,
 * `<key>-1`, …) nobody holds. Locks are files next to the directories, so they hold between
 * builds on one cache dir too.
 */
async function cacheMount(input: MountInput, mount: RunMount, locks: HeldLock[]): Promise<SandboxMount> {
  const base = cacheBase(input, mount);
  let directory = base;
  if (mount.sharing === 'locked') {
    // The same cache twice in one step: one lock is enough.
    if (!locks.some((lock) => lock.path === `${base}.lock`)) locks.push(await acquireFileLock(`${base}.lock`, input.session.options.signal));
  } else if (mount.sharing === 'private') {
    for (let instance = 0; ; instance += 1) {
      const candidate = instance === 0 ? base : `${base}-${instance}`;
      const lock = await tryFileLock(`${candidate}.lock`);
      if (lock === undefined) continue;
      locks.push(lock);
      directory = candidate;
      break;
    }
  }
  await ensureCacheDirectory(input, mount, directory);
  // Its last use, for `caisson cache gc`.
  const now = new Date();
  utimesSync(directory, now, now);
  return { kind: 'bind', source: directory, target: target(input, mount), readOnly: false };
}

/**
 * A secret: a read-only file (target=, default /run/secrets/<id>) and/or, with env=, an
 * environment variable of this step only. Without target= an env= secret is not a file, as in
 * BuildKit.
 */
function secretMount(input: MountInput, mount: RunMount, index: number, env: Map<string, Buffer>): SandboxMount | undefined {
  const id = mount.id ?? (mount.target === undefined ? undefined : posix.basename(mount.target));
  if (id === undefined) throw refuse(input, mount, 'a secret needs id= or target=', 'Write --mount=type=secret,id=NAME and pass --secret id=NAME,src=FILE.');
  if (mount.env !== undefined && !SECRET_ENV_NAME.test(mount.env)) throw refuse(input, mount, `env=${mount.env} is not a variable name`, 'Use letters, digits and _ (not starting with a digit).');
  const value = input.session.options.secrets.get(id);
  if (value === undefined) {
    if (!mount.required) return undefined;
    throw refuse(input, mount, `secret "${id}" was not given`, `Pass --secret id=${id},src=FILE (or env=VAR).`);
  }
  if (mount.env !== undefined) {
    env.set(mount.env, value);
    if (mount.target === undefined) return undefined;
  }
  const file = join(input.scratch, `secret-${index}`);
  writeFileSync(file, value, { mode: 0o600 });
  chmodSync(file, mount.mode ?? 0o400);
  chownSync(file, mount.uid ?? 0, mount.gid ?? 0);
  return { kind: 'bind', source: file, target: target(input, mount, `/run/secrets/${id}`), readOnly: true };
}

/** Whether .dockerignore leaves out anything under the directory `source`, which binding it as it is would show. */
function holdsExcluded(tree: SourceTree, source: string, entry: ViewEntry): boolean {
  if (!entry.stats.isDirectory()) return false;
  return tree.readdir(source).some((name) => {
    const path = source === '' ? name : `${source}/${name}`;
    const child = tree.lstat(path);
    return tree.excluded(path) || (child !== undefined && holdsExcluded(tree, path, child));
  });
}

async function bindMount(input: MountInput, mount: RunMount, index: number): Promise<SandboxMount> {
  const path = target(input, mount);
  const tree = await input.sourceTree(mount.from === '' ? undefined : mount.from);
  const source = tree.resolve({ path: mount.source ?? '', followFinal: true });
  const entry = leftOut(tree, source) ? undefined : tree.lstat(source);
  if (entry === undefined) throw refuse(input, mount, `source "${mount.source ?? '/'}" not found in the ${tree.what}`, 'Check source= (relative to the context root, or a path in the from= stage).');
  if (tree.what === 'build context' && mount.readOnly && !holdsExcluded(tree, source, entry)) return { kind: 'bind', source: entry.hostPath, target: path, readOnly: true };
  // Writable binds, context paths holding what .dockerignore leaves out, and stage/image paths get a private copy, dropped after the step.
  const copy = join(input.scratch, `bind-${index}`);
  copyEntry({ sink: new DirectorySink(copy), view: undefined, owner: undefined, chmod: undefined, now: input.session.now, tree, exclude: undefined, created: [], times: new Map(), source, target: '', relative: '' });
  return { kind: 'bind', source: copy, target: path, readOnly: mount.readOnly };
}

/**
 * The bind mounts' contents as cache key inputs (`<target> <source digest>`). Cache mounts and
 * secrets are not in the key, as in BuildKit: they are meant to differ between runs.
 */
export async function mountInputs(input: StepInput<RunInstruction>): Promise<{ readonly inputs: string[]; readonly changed: () => readonly FileChange[] }> {
  const inputs: string[] = [];
  const changed: (() => readonly FileChange[])[] = [];
  for (const mount of input.instruction.mounts) {
    if (mount.type !== 'bind') continue;
    const identity = await input.sourceIdentity(mount.from === '' ? undefined : mount.from);
    const bound = await sourceInputs({ identity, sources: [mount.source ?? '.'], location: input.instruction.location, exclude: undefined, fileDigests: (directory) => input.session.cache.fileDigests(directory) });
    inputs.push(`${mount.target ?? ''} ${bound.inputs[0] ?? ''}`);
    changed.push(bound.changed);
  }
  return { inputs, changed: () => changed.flatMap((files) => files()) };
}

/** The step's mounts, and the cache locks it holds until `release` (also called on failure here). */
export interface RunMounts {
  readonly mounts: readonly SandboxMount[];
  /** Secrets mounted with env=: variables for this step's command only. */
  readonly secretEnv: ReadonlyMap<string, Buffer>;
  readonly release: () => Promise<void>;
}

export async function runMounts(input: MountInput): Promise<RunMounts> {
  const locks: HeldLock[] = [];
  const release = async (): Promise<void> => {
    await Promise.all(locks.map((lock) => lock.release()));
  };
  try {
    const secretEnv = new Map<string, Buffer>();
    return { mounts: await collectMounts(input, locks, secretEnv), secretEnv, release };
  } catch (error) {
    await release();
    throw error;
  }
}

async function collectMounts(input: MountInput, locks: HeldLock[], secretEnv: Map<string, Buffer>): Promise<SandboxMount[]> {
  // Cache locks are taken in one order (by directory), so two steps cannot each hold one the other waits for.
  const caches = new Map<number, SandboxMount>();
  const byBase = [...input.instruction.mounts.entries()].filter(([, mount]) => mount.type === 'cache').map(([index, mount]) => ({ index, mount, base: cacheBase(input, mount) }));
  for (const { index, mount } of byBase.sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0))) {
    caches.set(index, await cacheMount(input, mount, locks));
  }
  const mounts: SandboxMount[] = [];
  for (const [index, mount] of input.instruction.mounts.entries()) {
    switch (mount.type) {
      case 'cache':
        mounts.push(caches.get(index) as SandboxMount);
        break;
      case 'secret': {
        const secret = secretMount(input, mount, index, secretEnv);
        if (secret !== undefined) mounts.push(secret);
        break;
      }
      case 'bind':
        mounts.push(await bindMount(input, mount, index));
        break;
      case 'tmpfs':
        mounts.push({ kind: 'tmpfs', target: target(input, mount), ...(mount.sizeLimit === undefined ? {} : { sizeBytes: mount.sizeLimit }) });
        break;
      case 'ssh':
        throw refuse(input, mount, 'ssh agent forwarding is not supported', 'Fetch private sources in a stage with a secret mount instead.');
    }
  }
  return mounts;
}
