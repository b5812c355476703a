/**
 * Test helper (never a test itself): a base image made from Debian's busybox-static, as DESIGN.md
 * says the tests make theirs — a rootfs (busybox and its applet links, /etc/passwd and
 * /etc/group with users root, app (1000) and nobody, /tmp) built by caisson itself
 * (`FROM scratch` + `COPY`) and pushed to the test registry.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCaisson } from './cli.js';

export const BUSYBOX = '/bin/busybox';

export const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
export const GROUP = 'root:x:0:\nstaff:x:50:app\napp:x:1000:\nnogroup:x:65534:\n';

/** Writes the busybox rootfs into `<dir>/rootfs` and a Dockerfile copying it into `<dir>`. */
export function writeBusyboxContext(dir: string): void {
  const root = join(dir, 'rootfs');
  for (const sub of ['bin', 'etc', 'tmp', 'root']) mkdirSync(join(root, sub), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  chmodSync(join(root, 'root'), 0o700);
  copyFileSync(BUSYBOX, join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  const applets = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((name) => name !== '' && name !== 'busybox');
  for (const applet of applets) symlinkSync('busybox', join(root, 'bin', applet));
  writeFileSync(join(root, 'etc', 'passwd'), PASSWD);
  writeFileSync(join(root, 'etc', 'group'), GROUP);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nCMD ["sh"]\n');
}

/** Builds the busybox base and pushes it to `reference`; returns caisson's stdout. */
export async function pushBusyboxBase(options: { readonly dir: string; readonly reference: string; readonly cacheDir: string }): Promise<string> {
  writeBusyboxContext(options.dir);
  const result = await runCaisson(['build', options.dir, '-d', options.reference, '--cache-dir', options.cacheDir, '-v', 'warn'], { cwd: options.dir });
  if (result.code !== 0) throw new Error(`building the busybox base failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}
