/**
 * runInSandbox: one RUN command in new mount, pid, ipc and uts namespaces (and net for network
 * none; a user namespace mapping the caller to root when not uid 0). util-linux `unshare` starts
 * the host's /bin/sh with the set-up script (setup-script.ts) as the namespace's init; caisson
 * drives it: the root is mounted under scratch, caisson makes the working directory and the
 * mountpoints inside it (mounts.ts), then the script execs `env -i` → `setpriv` (groups, gid,
 * Docker's default capability bounding set) → `unshare --root --wd` (chroot, chdir, uid) →
 * the command, which becomes pid 1: when it ends, the kernel kills everything left in the
 * namespace, and the mounts go with it. Afterwards the mount stubs are cleaned (stubs.ts).
 * The overlay is mounted `volatile` where the kernel allows it: the upperdir is read back by the
 * snapshotter on this boot, so it needs no sync, and a sync of the whole host disk at every
 * unmount costs seconds on busy machines.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaissonError } from '../errors.js';
import { commandNotFound } from './command.js';
import { commandPrefix } from './chain.js';
import { DEFAULT_HOST_PATH, DEFAULT_HOSTNAME, etcFiles, findHostTools, hostShell } from './host.js';
import { mountExtras, mountStandard, setupFailure, type EtcFiles } from './mounts.js';
import { ensureInRoot } from './root-path.js';
import { Session, signalExitCode } from './session.js';
import { interrupted, isAborted, sandboxError, validateRun } from './run-checks.js';
import { SETUP_SCRIPT } from './setup-script.js';
import { StubTracker } from './stubs.js';
import type { RunInSandboxOptions, SandboxResult } from './types.js';

/** The overlay mount data (lowerdir topmost first), or the directory to bind. */
function rootSource(options: RunInSandboxOptions, dir: string, rootful: boolean): string {
  const rootfs = options.rootfs;
  if (rootfs.kind === 'directory') return rootfs.path;
  let lowers = [...rootfs.lowers].reverse();
  if (lowers.length === 0) {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    lowers = [empty];
  }
  // Short relative links stand for the directories, as Docker's overlay2 driver does: mount's data
  // is one page (4 KiB), which store paths (about 100 bytes each) fill at some 40 layers, while
  // overlayfs takes 500; and overlayfs splits at commas and colons, which a link's name never holds.
  mkdirSync(join(dir, 'l'));
  const [upper, work, ...lowerLinks] = [rootfs.upper, rootfs.work, ...lowers].map((path, index) => {
    symlinkSync(path, join(dir, 'l', String(index)));
    return `l/${index}`;
  });
  // A volatile mount leaves work/work/incompat/volatile behind, which refuses the next mount of
  // the same upper and work: the previous mount of them ended (this is the only user), so it goes.
  rmSync(join(rootfs.work, 'work', 'incompat'), { recursive: true, force: true });
  // In a user namespace overlayfs keeps its xattrs in user.* and will not follow redirects.
  const features = rootful ? 'redirect_dir=off' : 'redirect_dir=nofollow,userxattr';
  return `lowerdir=${lowerLinks.join(':')},upperdir=${upper},workdir=${work},index=off,metacopy=off,${features}`;
}

function writeEtcFiles(dir: string, hostname: string): EtcFiles {
  for (const [name, content] of etcFiles(hostname)) writeFileSync(join(dir, name), content);
  return { hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname') };
}

/** One file per secret variable, readable by root only; returns their directory ('' for none). */
function writeSecretEnv(dir: string, secretEnv: ReadonlyMap<string, Buffer> | undefined): string {
  if (secretEnv === undefined || secretEnv.size === 0) return '';
  const directory = join(dir, 'secret-env');
  mkdirSync(directory, { mode: 0o700 });
  for (const [name, value] of secretEnv) writeFileSync(join(directory, name), value, { mode: 0o600 });
  return directory;
}

interface Prepared {
  readonly rootful: boolean;
  readonly root: string;
  readonly files: EtcFiles;
  readonly hostname: string;
  /** The command that starts the sandbox (setpriv, then unshare) and its arguments. */
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** Everything before the sandbox starts: the host tools, files in scratch, the command lines. */
function prepare(options: RunInSandboxOptions, rootful: boolean): Prepared {
  validateRun({ ...options, rootful });
  const hostPath = process.env.PATH ?? DEFAULT_HOST_PATH;
  const tools = findHostTools(hostPath);
  const hostname = options.hostname ?? DEFAULT_HOSTNAME;
  try {
    mkdirSync(options.scratch, { recursive: true });
    const dir = mkdtempSync(join(options.scratch, 'sandbox-'));
    const root = join(dir, 'root');
    mkdirSync(root);
    const files = writeEtcFiles(dir, hostname);
    const secretEnv = writeSecretEnv(dir, options.secretEnv);
    const source = rootSource(options, dir, rootful);
    // A secret variable wins over an ordinary one of the same name.
    const env = options.env.filter((entry) => options.secretEnv?.has(entry.slice(0, entry.indexOf('='))) !== true);
    const prefix = commandPrefix({ tools, env, user: options.user, rootful, chroot: { root, cwd: options.cwd } });
    const namespaces = ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--ipc', '--uts'];
    if (options.network === 'none') namespaces.push('--net');
    if (!rootful) namespaces.push('--user', '--map-root-user');
    return {
      rootful,
      root,
      files,
      hostname,
      // setpriv --pdeathsig: unshare is killed when caisson dies, even by SIGKILL, and --kill-child
      // then kills the pid namespace's init, so no RUN process outlives caisson.
      command: tools.setpriv,
      args: ['--pdeathsig', 'KILL', '--', tools.unshare, ...namespaces, '--', hostShell(), '-c', SETUP_SCRIPT, 'caisson-sandbox', ...prefix, ...options.argv],
      env: { PATH: hostPath, LC_ALL: 'C', CAISSON_ROOT: root, CAISSON_DIR: dir, CAISSON_ROOTFS: options.rootfs.kind, CAISSON_SOURCE: source, CAISSON_PREFIX: String(prefix.length), CAISSON_SECRET_ENV: secretEnv },
    };
  } catch (error) {
    if (error instanceof CaissonError) throw error;
    throw new CaissonError({ code: 'ERR_SANDBOX', message: `RUN sandbox: scratch ${options.scratch}: ${(error as Error).message}`, cause: error });
  }
}

/**
 * Drives the set-up script up to the command's start: working directory, mounts, the command
 * looked up. Returns why the command cannot be found (then the script was told to stop).
 */
async function setUp(options: RunInSandboxOptions, prepared: Prepared, session: Session, onTracker: (tracker: StubTracker) => void): Promise<string | undefined> {
  const ready = await session.next();
  if (ready.kind !== 'line' || !ready.text.startsWith('ready ')) throw setupFailure(session, ready.kind === 'error' ? ready.text : undefined);
  session.setInit(Number(ready.text.slice('ready '.length)));
  const view = `/proc/${session.pid}/root${prepared.root}`;
  const base = options.rootfs.kind === 'overlay' ? options.rootfs.upper : options.rootfs.path;
  const tracker = new StubTracker({ view, base, overlay: options.rootfs.kind === 'overlay' });
  onTracker(tracker);
  // Like BuildKit: a missing working directory is made (owned by the user) and kept.
  const cwd = ensureInRoot({ root: view, path: options.cwd, kind: 'directory', owner: options.user, what: 'working directory' });
  if (!cwd.stats.isDirectory()) throw sandboxError(`working directory ${options.cwd} is not a directory`);
  const context = { session, view, root: prepared.root, tracker, rootful: prepared.rootful };
  await mountStandard(context, { files: prepared.files, hostname: prepared.hostname, loopback: options.network === 'none' });
  await mountExtras(context, options.mounts ?? []);
  const notFound = commandNotFound({ root: view, name: options.argv[0] ?? '', env: options.env, cwd: options.cwd });
  if (notFound !== undefined) {
    session.send([{ op: 'stop' }]);
    return notFound;
  }
  tracker.snapshot();
  session.send([{ op: 'run' }]);
  const run = await session.next();
  if (run.kind !== 'line' || run.text !== 'run') throw setupFailure(session, run.kind === 'error' ? run.text : undefined);
  return undefined;
}

/** Runs `argv` in a sandbox on the rootfs; resolves with its exit status (never throws for it). */
export async function runInSandbox(options: RunInSandboxOptions): Promise<SandboxResult> {
  if (isAborted(options.signal)) throw interrupted();
  const prepared = prepare(options, !(options.rootless ?? process.getuid?.() !== 0));
  const session = new Session({
    command: prepared.command,
    args: prepared.args,
    env: prepared.env,
    ...(options.onOutput === undefined ? {} : { onOutput: options.onOutput }),
  });
  const onAbort = (): void => session.kill();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let tracker: StubTracker | undefined;
  let failure: unknown;
  let notFound: string | undefined;
  try {
    notFound = await setUp(options, prepared, session, (made) => {
      tracker = made;
    });
  } catch (error) {
    failure = error;
    session.kill();
  }
  const end = await session.wait();
  options.signal?.removeEventListener('abort', onAbort);
  tracker?.clean();
  if (isAborted(options.signal)) throw interrupted();
  if (failure !== undefined) {
    if (failure instanceof CaissonError) throw failure;
    throw new CaissonError({ code: 'ERR_SANDBOX', message: `RUN sandbox: ${(failure as Error).message}`, cause: failure });
  }
  if (notFound !== undefined) {
    options.onOutput?.(Buffer.from(`${notFound}\n`), 'stderr');
    return { exitCode: 127 };
  }
  if (end.signal !== null) return { exitCode: signalExitCode(end.signal), signal: end.signal };
  return { exitCode: end.code ?? 1 };
}
