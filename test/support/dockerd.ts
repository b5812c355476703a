/**
 * Test helper (never a test itself): a throwaway Docker daemon (Debian's docker.io), to check that
 * what caisson writes is what `docker load` and `docker run` accept. It runs as root with its own
 * data and exec roots and socket under a temp dir, no bridge and no iptables rules, so it changes
 * nothing on the machine; stop() ends the one process it started (SIGTERM, by PID, then SIGKILL),
 * unmounts whatever it left under its root and deletes the temp dir.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunningDockerd {
  /** Runs the docker CLI against this daemon; stdout, stderr and the exit status. */
  docker(args: readonly string[]): { readonly code: number; readonly stdout: string; readonly stderr: string };
  stop(): Promise<void>;
}

/** Why the docker tests cannot run here, or undefined. */
export function dockerdMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs uid 0 to start a throwaway dockerd';
  if (!existsSync('/usr/sbin/dockerd') || !existsSync('/usr/bin/docker')) return 'needs dockerd and docker (Debian package docker.io); npm test installs it when run as root';
  return undefined;
}

export async function startDockerd(): Promise<RunningDockerd> {
  const dir = mkdtempSync(join(tmpdir(), 'caisson-dockerd-'));
  const socket = join(dir, 'docker.sock');
  const temporary = join(dir, 'tmp');
  mkdirSync(temporary);
  const child = spawn('/usr/sbin/dockerd', [
    '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'dockerd.pid'), '-H', `unix://${socket}`,
    '--iptables=false', '--ip-masq=false', '--bridge=none', '--containerd-namespace', 'caisson-test', '--containerd-plugins-namespace', 'caisson-test-plugins',
  ], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // containerd (dockerd's child) dumps its stacks into TMPDIR when told to stop: keep them in this dir.
    env: { ...process.env, TMPDIR: temporary },
  });
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-8000);
  });
  const docker = (args: readonly string[]): { code: number; stdout: string; stderr: string } => {
    const result = spawnSync('/usr/bin/docker', ['-H', `unix://${socket}`, ...args], { encoding: 'utf8', timeout: 120_000 });
    if (result.error) throw result.error;
    return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      for (let waited = 0; child.exitCode === null && child.signalCode === null && waited < 15_000; waited += 100) await sleep(100);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((line) => line.split(' ')[1] ?? '').filter((path) => path.startsWith(dir)).reverse();
    for (const mount of mounts) spawnSync('umount', ['-l', mount]);
    rmSync(dir, { recursive: true, force: true });
  };
  for (let waited = 0; waited < 30_000; waited += 200) {
    if (child.exitCode !== null) break;
    if (existsSync(socket) && docker(['version']).code === 0) return { docker, stop };
    await sleep(200);
  }
  await stop();
  throw new Error(`dockerd did not start: ${log}`);
}
