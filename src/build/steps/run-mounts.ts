/**
 * RUN --mount, turned into the sandbox's mounts:
 * - cache: a directory under the cache dir (`mounts/<sha256(id)>`), kept across builds;
 * - secret: the value from --secret written to the step's scratch and bound read-only (never in
 *   a layer: bound files are mount stubs the sandbox removes);
 * - bind: a context path (read-only; `rw` binds a throwaway copy), or a copy of a stage's or
 *   image's path;
 * - tmpfs.
 * ssh is refused with a clear error.
 */
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { CaissonError } from '../../errors.js';
import type { RunInstruction, RunMount } from '../../dockerfile/index.js';
import type { SandboxMount } from '../../exec/index.js';
import { copyEntry } from '../copy-files.js';
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

function cacheMount(input: MountInput, mount: RunMount): SandboxMount {
  const path = target(input, mount);
  const id = mount.id ?? path;
  if (mount.from !== undefined) throw refuse(input, mount, 'cache mounts seeded from= are not supported yet', 'Drop from=; the cache starts empty.');
  const directory = join(input.session.options.cacheDir, 'mounts', createHash('sha256').update(id).digest('hex'));
  if (statSync(directory, { throwIfNoEntry: false }) === undefined) {
    mkdirSync(directory, { recursive: true });
    chmodSync(directory, mount.mode ?? 0o755);
    chownSync(directory, mount.uid ?? 0, mount.gid ?? 0);
  }
  return { kind: 'bind', source: directory, target: path, readOnly: false };
}

function secretMount(input: MountInput, mount: RunMount, index: number): SandboxMount | undefined {
  const id = mount.id ?? (mount.target === undefined ? undefined : posix.basename(mount.target));
  if (id === undefined) throw refuse(input, mount, 'a secret needs id= or target=', 'Write --mount=type=secret,id=NAME and pass --secret id=NAME,src=FILE.');
  if (mount.env !== undefined) throw refuse(input, mount, 'secrets as environment variables (env=) are not supported yet', 'Mount it as a file and read it: $(cat /run/secrets/ID).');
  const value = input.session.options.secrets.get(id);
  if (value === undefined) {
    if (!mount.required) return undefined;
    throw refuse(input, mount, `secret "${id}" was not given`, `Pass --secret id=${id},src=FILE (or env=VAR).`);
  }
  const file = join(input.scratch, `secret-${index}`);
  writeFileSync(file, value, { mode: 0o600 });
  chmodSync(file, mount.mode ?? 0o400);
  chownSync(file, mount.uid ?? 0, mount.gid ?? 0);
  return { kind: 'bind', source: file, target: target(input, mount, `/run/secrets/${id}`), readOnly: true };
}

async function bindMount(input: MountInput, mount: RunMount, index: number): Promise<SandboxMount> {
  const path = target(input, mount);
  const tree = await input.sourceTree(mount.from === '' ? undefined : mount.from);
  const source = tree.resolve({ path: mount.source ?? '', followFinal: true });
  const entry = tree.lstat(source);
  if (entry === undefined) throw refuse(input, mount, `source "${mount.source ?? '/'}" not found in the ${tree.what}`, 'Check source= (relative to the context root, or a path in the from= stage).');
  if (tree.what === 'build context' && mount.readOnly) return { kind: 'bind', source: entry.hostPath, target: path, readOnly: true };
  // Writable binds and stage/image paths get a private copy, dropped after the step.
  const copy = join(input.scratch, `bind-${index}`);
  copyEntry({ layer: copy, view: undefined, owner: undefined, chmod: undefined, now: input.session.now, tree, exclude: undefined, created: [], times: new Map(), source, target: '', relative: '' });
  return { kind: 'bind', source: copy, target: path, readOnly: mount.readOnly };
}

export async function runMounts(input: MountInput): Promise<SandboxMount[]> {
  const mounts: SandboxMount[] = [];
  for (const [index, mount] of input.instruction.mounts.entries()) {
    switch (mount.type) {
      case 'cache':
        mounts.push(cacheMount(input, mount));
        break;
      case 'secret': {
        const secret = secretMount(input, mount, index);
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
