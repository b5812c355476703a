/**
 * Mount stubs: the mountpoints the sandbox has to create in the rootfs (/proc, /dev, /sys,
 * /etc/hosts, RUN --mount targets and their missing parents) must not end up in the step's layer.
 * Like BuildKit's MountStubsCleaner, after the run each stub that is still empty (an empty
 * directory or an empty regular file) is removed, deepest first, and the directory it was made
 * in gets its timestamps back. Works on the host copy of the rootfs after the sandbox is gone:
 * the directory itself, or the overlay upperdir, where creating a stub under a lower-only
 * directory also copied that directory up; such a copy-up is removed too when the command did
 * not touch it (same inode, mtime and owner as right before the run) and it is empty again.
 */
import { lstatSync, readdirSync, rmdirSync, unlinkSync, utimesSync, type BigIntStats } from 'node:fs';
import type { CreateHooks } from './root-path.js';
import { hostPath } from './root-path.js';

export interface StubTrackerOptions {
  /** The rootfs as the sandbox sees it while the stubs are made (the mounted root). */
  readonly view: string;
  /** The rootfs's host copy cleaned after the run: the directory, or the overlay upperdir. */
  readonly base: string;
  readonly overlay: boolean;
}

interface Times {
  readonly atime: number;
  readonly mtime: number;
}

/** Seconds (fractional) from a nanosecond timestamp. */
function seconds(ns: bigint): number {
  return Number(ns) / 1e9;
}

function fingerprint(stats: BigIntStats): string {
  return [stats.ino, stats.mtimeNs, stats.mode, stats.uid, stats.gid].join(':');
}

/**
 * lstat of `rel` under `base`, undefined when missing or when any parent is not a real
 * directory (the command may have replaced one by a symlink: nothing outside is ever touched).
 */
function lstatBelow(base: string, rel: string): BigIntStats | undefined {
  const names = rel === '' ? [] : rel.split('/');
  try {
    for (let i = 1; i < names.length; i += 1) {
      if (!lstatSync(hostPath(base, names.slice(0, i).join('/')), { bigint: true }).isDirectory()) return undefined;
    }
    return lstatSync(hostPath(base, rel), { bigint: true });
  } catch {
    return undefined;
  }
}

function isEmptyDirectory(path: string): boolean {
  try {
    return readdirSync(path).length === 0;
  } catch {
    return false;
  }
}

export class StubTracker {
  readonly #options: StubTrackerOptions;
  /** Stubs in creation order (a parent before its children). */
  readonly #created: string[] = [];
  /** Existing directories stubs were made in, with their timestamps before that. */
  readonly #parents = new Map<string, Times>();
  /** Overlay: lower-only directories that making a stub copied up into the upperdir. */
  readonly #copyUps: string[] = [];
  /** Mount targets set up so far: entries made below them are not in the rootfs. */
  readonly #mounted: string[] = [];
  readonly #before = new Map<string, string>();

  constructor(options: StubTrackerOptions) {
    this.#options = options;
  }

  /** Hooks for `ensureInRoot` while making mountpoints. */
  get hooks(): CreateHooks {
    return { beforeCreate: (parentRel) => this.#beforeCreate(parentRel), created: (rel) => this.#createdStub(rel) };
  }

  /** `rel` is now a mountpoint: what is made below it lands in the mount, not the rootfs. */
  mounted(rel: string): void {
    this.#mounted.push(rel);
  }

  /** Records the state of the touched directories right before the command runs. */
  snapshot(): void {
    for (const rel of [...this.#parents.keys(), ...this.#copyUps]) {
      const stats = lstatBelow(this.#options.base, rel);
      if (stats !== undefined) this.#before.set(rel, fingerprint(stats));
    }
  }

  /** Removes the stubs still empty, then pristine copy-ups, then restores parents' timestamps. Best effort. */
  clean(): void {
    const { base } = this.#options;
    const pristine = new Set<string>();
    for (const [rel, before] of this.#before) {
      const stats = lstatBelow(base, rel);
      if (stats !== undefined && fingerprint(stats) === before) pristine.add(rel);
    }
    for (const rel of [...this.#created].reverse()) this.#removeIfEmpty(rel);
    for (const rel of [...this.#copyUps].reverse()) {
      if (pristine.has(rel)) this.#removeIfEmpty(rel);
    }
    for (const [rel, times] of this.#parents) {
      if (!pristine.has(rel) || lstatBelow(base, rel)?.isDirectory() !== true) continue;
      try {
        utimesSync(hostPath(base, rel), times.atime, times.mtime);
      } catch {
        // best effort, as BuildKit's cleaner
      }
    }
  }

  #inMount(rel: string): boolean {
    return this.#mounted.some((target) => target === '' || rel === target || rel.startsWith(`${target}/`));
  }

  #beforeCreate(parentRel: string): void {
    if (this.#inMount(parentRel) || this.#created.includes(parentRel) || this.#parents.has(parentRel)) return;
    const stats = lstatSync(hostPath(this.#options.view, parentRel), { bigint: true });
    this.#parents.set(parentRel, { atime: seconds(stats.atimeNs), mtime: seconds(stats.mtimeNs) });
    if (!this.#options.overlay || parentRel === '') return;
    const names = parentRel.split('/');
    for (let i = 1; i <= names.length; i += 1) {
      const rel = names.slice(0, i).join('/');
      if (!this.#copyUps.includes(rel) && !this.#created.includes(rel) && lstatBelow(this.#options.base, rel) === undefined) this.#copyUps.push(rel);
    }
  }

  #createdStub(rel: string): void {
    if (!this.#inMount(rel)) this.#created.push(rel);
  }

  #removeIfEmpty(rel: string): void {
    const stats = lstatBelow(this.#options.base, rel);
    if (stats === undefined) return;
    const path = hostPath(this.#options.base, rel);
    try {
      if (stats.isDirectory() && isEmptyDirectory(path)) rmdirSync(path);
      else if (stats.isFile() && stats.size === 0n) unlinkSync(path);
    } catch {
      // best effort, as BuildKit's cleaner
    }
  }
}
