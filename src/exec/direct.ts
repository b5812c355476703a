/**
 * runDirect: one RUN command without namespaces, for the chroot and container sandboxes, where
 * caisson may not mount anything. `env -i` gives the exact environment, setpriv the groups, gid
 * and Docker's default capability bounding set; then, in chroot mode, util-linux `unshare --root
 * --wd` (no namespace asked: chroot(2) and chdir only) and the uid; in container mode setpriv sets
 * the uid too and the command runs in place. The command leads its own process group, which is
 * killed when it ends, fails or the build is interrupted (a process that makes its own session
 * escapes it: there is no pid namespace to end). A chroot gets /etc/hosts, resolv.conf, hostname
 * and basic device nodes as files (nothing can be mounted); no /proc, no /sys.
 */
import { lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandNotFound } from './command.js';
import { commandPrefix } from './chain.js';
import { DEFAULT_HOST_PATH, DEFAULT_HOSTNAME, etcFiles, findHostTools } from './host.js';
import { ensureInRoot, hostPath } from './root-path.js';
import { interrupted, isAborted, sandboxError, validateRun } from './run-checks.js';
import { signalExitCode } from './session.js';
import type { SandboxResult, SandboxUser } from './types.js';

export interface RunDirectOptions {
  /** The root directory: a stage's directory (chroot) or `/` (container). */
  readonly root: string;
  /** chroot(2) into `root` (chroot mode), else run in place (container mode, `root` is `/`). */
  readonly chroot: boolean;
  /** argv[0] is looked up through the PATH of `env`, inside the root. */
  readonly argv: readonly string[];
  /** `KEY=VALUE` entries: exactly the command's environment. */
  readonly env: readonly string[];
  /** Absolute inside the root; created (and kept) when missing, owned by the user. */
  readonly cwd: string;
  readonly user: SandboxUser;
  readonly onOutput?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
  /** Abort: the process group is killed, then the promise rejects with ERR_BUILD_INTERRUPTED. */
  readonly signal?: AbortSignal;
}

/**
 * What a chroot's RUN step is given and a layer never captures: the kernel's directories, /dev
 * (made when missing) and the /etc files `furnishChroot` writes.
 */
export const CHROOT_UNCAPTURED: readonly string[] = ['/proc', '/sys', '/dev', ...etcFiles(DEFAULT_HOSTNAME).map(([name]) => `/etc/${name}`)];

/** The device nodes a chroot gets in its /dev (when it has one and may make them: CAP_MKNOD). */
const CHROOT_DEVICES: readonly (readonly [string, number, number])[] = [['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0]];

/**
 * What the namespace sandbox mounts, made as files in a chroot's root instead: /etc/hosts,
 * resolv.conf and hostname (where /etc is a real directory and each is absent or a regular file:
 * never written through a link) and the basic device nodes. The build leaves them out of layers.
 */
function furnishChroot(root: string): void {
  const at = (path: string): ReturnType<typeof lstatSync> => lstatSync(join(root, path), { throwIfNoEntry: false });
  if (at('etc')?.isDirectory() === true) {
    for (const [name, content] of etcFiles(DEFAULT_HOSTNAME)) {
      const existing = at(`etc/${name}`);
      if (existing === undefined || existing.isFile()) writeFileSync(join(root, 'etc', name), content, { mode: 0o644 });
    }
  }
  // /dev is never captured (the build leaves it out of layers), so it may be made.
  if (at('dev') === undefined) mkdirSync(join(root, 'dev'), { mode: 0o755 });
  if (at('dev')?.isDirectory() !== true) return;
  for (const [name, major, minor] of CHROOT_DEVICES) {
    if (at(`dev/${name}`) !== undefined) continue;
    // Without CAP_MKNOD the chroot has no such node; the command may still not need it.
    process.getBuiltinModule('node:child_process').spawnSync('mknod', ['-m', '0666', join(root, 'dev', name), 'c', String(major), String(minor)], { stdio: 'ignore' });
  }
}

/** The words before the command's argv. */
function chain(options: RunDirectOptions): string[] {
  const tools = findHostTools(process.env['PATH'] ?? DEFAULT_HOST_PATH);
  return commandPrefix({ tools, env: options.env, user: options.user, rootful: true, chroot: options.chroot ? { root: options.root, cwd: options.cwd } : undefined });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

/** Runs `words` as the leader of a new process group; resolves with how it ended. */
function runGroup(options: { readonly words: readonly string[]; readonly cwd: string; readonly onOutput?: RunDirectOptions['onOutput']; readonly signal?: AbortSignal }): Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = process.getBuiltinModule('node:child_process').spawn(options.words[0] as string, options.words.slice(1), { cwd: options.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const onAbort = (): void => killGroup(child.pid);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => options.onOutput?.(chunk, 'stdout'));
    child.stderr.on('data', (chunk: Buffer) => options.onOutput?.(chunk, 'stderr'));
    child.on('error', (error) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(sandboxError(`cannot start ${options.words[0] ?? ''}: ${error.message}`));
    });
    child.on('exit', () => killGroup(child.pid));
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ code, signal });
    });
  });
}

/**
 * The user switch, chroot and chdir alone, exec'ing "/": that must fail with env's "/: Permission
 * denied" (126), so a failure of caisson's own tools is a set-up error, never the command's status.
 */
async function probe(options: RunDirectOptions, prefix: readonly string[]): Promise<void> {
  let output = '';
  const end = await runGroup({ words: [...prefix, '/'], cwd: options.chroot ? '/' : options.cwd, onOutput: (chunk) => (output += chunk.toString('utf8')) });
  if (end.code === 126 && output.includes('failed to execute /')) return;
  throw sandboxError(
    `switching to the user${options.chroot ? ' and chroot' : ''} failed: ${output.trim().replace(/\n/g, ' ')} (exit ${end.code ?? end.signal ?? '?'})`,
    options.chroot ? 'The chroot sandbox needs uid 0 with CAP_SYS_CHROOT, CAP_SETUID and CAP_SETGID.' : 'The container sandbox needs uid 0 with CAP_SETUID and CAP_SETGID.',
  );
}

/** Runs `argv` on the root directory; resolves with its exit status (never throws for it). */
export async function runDirect(options: RunDirectOptions): Promise<SandboxResult> {
  if (isAborted(options.signal)) throw interrupted();
  validateRun({ argv: options.argv, cwd: options.cwd, env: options.env, user: options.user, rootful: true });
  const cwd = ensureInRoot({ root: options.root, path: options.cwd, kind: 'directory', owner: options.user, what: 'working directory' });
  if (!cwd.stats.isDirectory()) throw sandboxError(`working directory ${options.cwd} is not a directory`);
  const notFound = commandNotFound({ root: options.root, name: options.argv[0] ?? '', env: options.env, cwd: options.cwd });
  if (notFound !== undefined) {
    options.onOutput?.(Buffer.from(`${notFound}\n`), 'stderr');
    return { exitCode: 127 };
  }
  if (options.chroot) furnishChroot(options.root);
  const prefix = chain(options);
  await probe(options, prefix);
  const end = await runGroup({
    words: [...prefix, ...options.argv],
    cwd: options.chroot ? '/' : hostPath(options.root, cwd.rel),
    ...(options.onOutput === undefined ? {} : { onOutput: options.onOutput }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (isAborted(options.signal)) throw interrupted();
  if (end.signal !== null) return { exitCode: signalExitCode(end.signal), signal: end.signal };
  return { exitCode: end.code ?? 1 };
}
