/**
 * The sandbox's mounts, in order: /proc, a minimal /dev (tmpfs with the host's null, zero, full,
 * random, urandom and tty bound in, a new devpts instance, /dev/shm), /sys read-only, the
 * generated /etc/hosts, /etc/resolv.conf and /etc/hostname read-only, the hostname, loopback
 * (network none), then the RUN --mount extras. Each mountpoint is resolved (and, when missing,
 * created as a tracked stub) inside the mounted root by caisson, then mounted by the set-up
 * script; one at a time, so a target inside an earlier mount lands in that mount.
 */
import { statSync, symlinkSync } from 'node:fs';
import { CaissonError } from '../errors.js';
import { ensureInRoot, hostPath } from './root-path.js';
import type { SetupOp } from './setup-script.js';
import type { Session } from './session.js';
import type { StubTracker } from './stubs.js';
import type { SandboxMount } from './types.js';

export interface MountContext {
  readonly session: Session;
  /** The mounted root as caisson reaches it (through /proc/<pid>/root). */
  readonly view: string;
  /** The mounted root as the script names it. */
  readonly root: string;
  readonly tracker: StubTracker;
  readonly rootful: boolean;
}

export interface EtcFiles {
  readonly hosts: string;
  readonly resolvConf: string;
  readonly hostname: string;
}

const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;
const DEV_LINKS: ReadonlyArray<readonly [string, string]> = [
  ['ptmx', 'pts/ptmx'],
  ['fd', '/proc/self/fd'],
  ['stdin', '/proc/self/fd/0'],
  ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'],
];

function sandboxError(message: string, cause?: unknown): CaissonError {
  return new CaissonError({ code: 'ERR_SANDBOX', message: `RUN sandbox: ${message}`, hint: 'the RUN step could not be set up; the command did not run', cause });
}

/** Sends operations and waits for each one's `ok`; a failure becomes ERR_SANDBOX. */
export async function applyOps(session: Session, ops: readonly SetupOp[]): Promise<void> {
  try {
    session.send(ops);
  } catch (error) {
    throw sandboxError((error as Error).message, error);
  }
  for (let i = 0; i < ops.length; i += 1) {
    const line = await session.next();
    if (line.kind === 'line' && line.text === 'ok') continue;
    throw setupFailure(session, line.kind === 'error' ? line.text : undefined);
  }
}

/** ERR_SANDBOX for a set-up that failed with `detail`, or ended with nothing said. */
export function setupFailure(session: Session, detail: string | undefined): CaissonError {
  const held = session.heldOutput.trim().split('\n').join(' ');
  if (detail !== undefined) return sandboxError(`failed to ${detail}`);
  return sandboxError(`the sandbox ended during set-up${held === '' ? '' : `: ${held}`}`);
}

/** The mountpoint for `path`, resolved in the root and created (as a stub) when missing. */
function mountpoint(context: MountContext, path: string, kind: 'directory' | 'file'): { readonly rel: string; readonly target: string } {
  let entry;
  try {
    entry = ensureInRoot({ root: context.view, path, kind, hooks: context.tracker.hooks, what: 'mount target' });
  } catch (error) {
    if (error instanceof CaissonError) throw error;
    throw sandboxError(`mount target ${path}: ${(error as Error).message}`, error);
  }
  if (entry.rel === '') throw sandboxError(`cannot mount over the root (${path})`);
  const isDirectory = entry.stats.isDirectory();
  if ((kind === 'directory') !== isDirectory) {
    throw sandboxError(`mount target ${path} ${isDirectory ? 'is a directory; the source is a file' : 'is not a directory'}`);
  }
  return { rel: entry.rel, target: hostPath(context.root, entry.rel) };
}

async function mountAt(context: MountContext, path: string, kind: 'directory' | 'file', op: (target: string) => SetupOp): Promise<string> {
  const { rel, target } = mountpoint(context, path, kind);
  await applyOps(context.session, [op(target)]);
  context.tracker.mounted(rel);
  return rel;
}

async function mountDev(context: MountContext): Promise<void> {
  const rel = await mountAt(context, '/dev', 'directory', (target) => ({ op: 'mount', type: 'tmpfs', source: 'tmpfs', target, options: 'nosuid,strictatime,mode=755,size=65536k' }));
  // A fresh tmpfs: nothing in it can redirect these paths.
  const dev = hostPath(context.view, rel);
  const target = hostPath(context.root, rel);
  try {
    for (const name of DEVICES) ensureInRoot({ root: dev, path: name, kind: 'file', what: 'device' });
    for (const name of ['pts', 'shm']) ensureInRoot({ root: dev, path: name, kind: 'directory', what: 'device' });
    for (const [name, link] of DEV_LINKS) symlinkSync(link, `${dev}/${name}`);
  } catch (error) {
    throw sandboxError(`populate /dev: ${(error as Error).message}`, error);
  }
  const ptsOptions = `nosuid,noexec,newinstance,ptmxmode=0666,mode=0620${context.rootful ? ',gid=5' : ''}`;
  await applyOps(context.session, [
    ...DEVICES.map((name): SetupOp => ({ op: 'bind', source: `/dev/${name}`, target: `${target}/${name}`, readOnly: false })),
    { op: 'mount', type: 'devpts', source: 'devpts', target: `${target}/pts`, options: ptsOptions },
    { op: 'mount', type: 'tmpfs', source: 'shm', target: `${target}/shm`, options: 'nosuid,nodev,noexec,mode=1777,size=65536k' },
  ]);
}

/** /proc, /dev, /sys, the /etc files, the hostname and (network none) loopback. */
export async function mountStandard(context: MountContext, options: { readonly files: EtcFiles; readonly hostname: string; readonly loopback: boolean }): Promise<void> {
  await mountAt(context, '/proc', 'directory', (target) => ({ op: 'mount', type: 'proc', source: 'proc', target, options: 'nosuid,nodev,noexec' }));
  await mountDev(context);
  await mountAt(context, '/sys', 'directory', (target) => ({ op: 'sys', target }));
  for (const [path, source] of [
    ['/etc/hosts', options.files.hosts],
    ['/etc/resolv.conf', options.files.resolvConf],
    ['/etc/hostname', options.files.hostname],
  ] as const) {
    await mountAt(context, path, 'file', (target) => ({ op: 'bind', source, target, readOnly: true }));
  }
  await applyOps(context.session, [{ op: 'hostname', name: options.hostname }, ...(options.loopback ? [{ op: 'loopback' } as const] : [])]);
}

function isHostDirectory(source: string): boolean {
  try {
    return statSync(source).isDirectory();
  } catch (error) {
    throw sandboxError(`bind source ${source} cannot be read: ${(error as Error).message}`, error);
  }
}

/** The RUN --mount extras, in order. */
export async function mountExtras(context: MountContext, mounts: readonly SandboxMount[]): Promise<void> {
  for (const mount of mounts) {
    switch (mount.kind) {
      case 'bind': {
        const kind = isHostDirectory(mount.source) ? 'directory' : 'file';
        await mountAt(context, mount.target, kind, (target) => ({ op: 'bind', source: mount.source, target, readOnly: mount.readOnly }));
        break;
      }
      case 'tmpfs': {
        const size = mount.sizeBytes === undefined ? '' : `,size=${Math.max(0, Math.floor(mount.sizeBytes))}`;
        await mountAt(context, mount.target, 'directory', (target) => ({ op: 'mount', type: 'tmpfs', source: 'tmpfs', target, options: `nosuid,nodev${size}` }));
        break;
      }
    }
  }
}
