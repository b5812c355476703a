/**
 * Exclusive locks shared by every build using one cache directory (or one volume mounted in
 * several pods): a lock is a file created with O_EXCL holding `host pid`, kept fresh by a
 * heartbeat on its mtime. A lock whose holder stopped beating (killed, or its pod gone) is stale
 * and taken over. Works the same between two steps of one build and between two builds.
 */
import { hostname } from 'node:os';
import { mkdir, open, rm, stat, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A lock not refreshed for this long belongs to a dead build. */
export const STALE_LOCK_MS = 60_000;
const HEARTBEAT_MS = 10_000;

/** A held lock; `release` removes it (idempotent). */
export interface HeldLock {
  readonly path: string;
  readonly release: () => Promise<void>;
}

/** Takes the lock at `path` if it is free (or stale) now; undefined when someone holds it. */
export async function tryFileLock(path: string): Promise<HeldLock | undefined> {
  await mkdir(dirname(path), { recursive: true });
  try {
    const file = await open(path, 'wx');
    await file.writeFile(`${hostname()} ${process.pid}\n`);
    await file.close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const held = await stat(path).catch(() => undefined);
    if (held === undefined || Date.now() - held.mtimeMs <= STALE_LOCK_MS) return undefined;
    await rm(path, { force: true });
    return tryFileLock(path);
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  return {
    path,
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      await rm(path, { force: true });
    },
  };
}

/** Waits (polling, backing off to 0.5 s) until the lock at `path` is taken. */
export async function acquireFileLock(path: string, signal?: AbortSignal): Promise<HeldLock> {
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    const lock = await tryFileLock(path);
    if (lock !== undefined) return lock;
    signal?.throwIfAborted();
    // The global timer: node:timers/promises would be loaded by every command that reaches this folder.
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** Runs `work` holding the lock at `path`, released whatever happens. */
export async function withFileLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const lock = await acquireFileLock(path);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
