/**
 * Test helper (never a test itself): the independent readers tests check caisson's output with
 * (skopeo, umoci), run as child processes with a clear failure when they exit non-zero.
 */
import { spawnSync } from 'node:child_process';

/** Runs a tool to completion; throws with its stderr when it fails. */
export function runTool(command: string, args: readonly string[], options: { readonly input?: string } = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', input: options.input, timeout: 300_000 });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

/** Why a test that needs `command` cannot run, or undefined when it is on PATH. */
export function missingTool(command: string, debianPackage: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return found.status === 0 ? undefined : `needs ${command} (Debian package ${debianPackage}); npm test installs it when run as root`;
}
