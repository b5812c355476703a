// What `docker load` and `docker run` make of caisson's docker-archive output, against a throwaway
// Docker daemon: a build whose RUN deletes a file of the layer below (a whiteout), in Docker and OCI media types,
// and `caisson copy` from an OCI layout to a named docker-archive. Each loads under its
// names and runs, showing the files the layers made and not the one a layer deleted.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { runCaisson } from '../support/cli.js';
import { dockerdMissing, startDockerd, type RunningDockerd } from '../support/dockerd.js';

const skip = dockerdMissing();

describe('docker load of caisson docker-archives', { skip }, () => {
  let dir = '';
  let started: RunningDockerd | undefined;
  /** Why the daemon could not start here (a machine without cgroups or overlay for it): the tests skip, saying so. */
  let unavailable = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'caisson-docker-load-'));
    const rootfs = join(dir, 'context', 'rootfs', 'bin');
    mkdirSync(rootfs, { recursive: true });
    copyFileSync('/bin/busybox', join(rootfs, 'busybox'));
    for (const applet of ['sh', 'cat', 'echo', 'rm', 'ls']) symlinkSync('busybox', join(rootfs, applet));
    writeFileSync(join(dir, 'context', 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nRUN mkdir -p /etc && echo built-by-caisson > /etc/msg && rm /bin/echo\nCMD ["cat", "/etc/msg"]\n');
    try {
      started = await startDockerd();
    } catch (error) {
      unavailable = `dockerd could not start on this machine: ${String((error as Error).message).split('\n').slice(-3).join(' ').slice(0, 400)}`;
    }
  });

  /** The daemon, or undefined after skipping the test with the reason it could not start. */
  function daemon(t: TestContext): RunningDockerd | undefined {
    if (started === undefined) t.skip(unavailable);
    return started;
  }

  after(async () => {
    await started?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const format of ['docker', 'oci'] as const) {
    test(`a --tar-path build in ${format} media types loads and runs`, async (t) => {
      const dockerd = daemon(t);
      if (dockerd === undefined) return;
      const archive = join(dir, `${format}.tar`);
      const name = `example.com/caisson/load:${format}`;
      const built = await runCaisson(['build', join(dir, 'context'), '--tar-path', archive, '-d', name, '--no-push', '--image-format', format, '--cache-dir', join(dir, 'cache'), '-v', 'warn'], { cwd: dir });
      assert.equal(built.code, 0, built.stderr);
      const loaded = dockerd.docker(['load', '-i', archive]);
      assert.equal(loaded.code, 0, loaded.stderr);
      assert.match(loaded.stdout, new RegExp(`Loaded image: ${name.replace(/[.]/g, '\\.')}`));
      const ran = dockerd.docker(['run', '--rm', '--network', 'none', name]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.stdout, 'built-by-caisson\n');
      const listed = dockerd.docker(['run', '--rm', '--network', 'none', name, 'ls', '/bin']);
      assert.equal(listed.stdout, 'busybox\ncat\nls\nrm\nsh\n', 'the RUN deleted /bin/echo of the COPY layer (a whiteout)');
    });
  }

  test('caisson copy from an OCI layout to a named docker-archive: it loads under that name and runs', async (t) => {
    const dockerd = daemon(t);
    if (dockerd === undefined) return;
    const layout = join(dir, 'layout');
    const built = await runCaisson(['build', join(dir, 'context'), '--oci-layout-path', layout, '--no-push', '--cache-dir', join(dir, 'cache'), '-v', 'warn'], { cwd: dir });
    assert.equal(built.code, 0, built.stderr);
    const archive = join(dir, 'copied.tar');
    const copied = await runCaisson(['copy', `oci:${layout}:latest`, `docker-archive:${archive}:example.com/caisson/copied:one`], { cwd: dir });
    assert.equal(copied.code, 0, copied.stderr);
    const loaded = dockerd.docker(['load', '-i', archive]);
    assert.equal(loaded.code, 0, loaded.stderr);
    const ran = dockerd.docker(['run', '--rm', '--network', 'none', 'example.com/caisson/copied:one']);
    assert.equal(ran.stdout, 'built-by-caisson\n', ran.stderr);
  });
});
