/**
 * The parent-path rule of every unpacker (layers, context archives): an entry's parents must be
 * real directories under the target — a symlink or a file on the way is refused, never followed —
 * and are made (0755) when missing. Directories already checked are remembered, so a deep tree
 * costs one lstat per new directory.
 */
import { lstatSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { joinPath, parentOf } from './paths.js';

export interface ConfinedParentsOptions {
  /** The directory entries are unpacked into. */
  readonly target: string;
  /** The error for entry `name` whose parent path is unsafe. */
  readonly unsafe: (name: string, detail: string) => Error;
  /** Called with each parent directory this made. */
  readonly made?: (path: string) => void;
}

export class ConfinedParents {
  readonly #options: ConfinedParentsOptions;
  /** Relative paths known to be real directories (not links) under the target. */
  readonly #directories = new Set<string>(['']);

  constructor(options: ConfinedParentsOptions) {
    this.#options = options;
  }

  #absolute(path: string): string {
    return path === '' ? this.#options.target : join(this.#options.target, path);
  }

  /** Checks (and with `create`, makes) every parent of `path`; false when one is missing and not made. */
  async ensure(path: string, create: boolean): Promise<boolean> {
    const parent = parentOf(path);
    if (this.#directories.has(parent)) return true;
    let current = '';
    for (const part of parent.split('/')) {
      current = joinPath(current, part);
      if (this.#directories.has(current)) continue;
      const stats = lstatSync(this.#absolute(current), { throwIfNoEntry: false });
      if (stats === undefined) {
        if (!create) return false;
        await mkdir(this.#absolute(current), { mode: 0o755 });
        this.#options.made?.(current);
      } else if (stats.isSymbolicLink()) {
        throw this.#options.unsafe(path, `has a symlink in its parent path (${current}); caisson does not follow it`);
      } else if (!stats.isDirectory()) {
        throw this.#options.unsafe(path, `has a parent (${current}) that is not a directory`);
      }
      this.#directories.add(current);
    }
    return true;
  }

  /** `path` is now a real directory (the unpacker made or kept it). */
  add(path: string): void {
    this.#directories.add(path);
  }

  /** `path` was removed: neither it nor anything below it is known any more. */
  forget(path: string): void {
    for (const known of this.#directories) if (known === path || known.startsWith(`${path}/`)) this.#directories.delete(known);
  }
}
