/**
 * `caisson build` as a regular user: bin/caisson.js re-runs the build in a user namespace where
 * the caller is root, so layers still hold root-owned files (checked with umoci); RUN runs there
 * in a nested user namespace on an overlay mounted with userxattr, as root only. The test drops
 * to uid 65534 with util-linux setpriv, so it needs root.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxRootfs } from '../exec/fixtures.js';
import { projectRoot } from '../support/paths.js';
import { missingTool, runTool } from '../support/tools.js';

const NOBODY = '65534';
const userns = spawnSync('unshare', ['--user', '--map-root-user', 'true']).status === 0;
const skip =
  process.getuid?.() !== 0 ? 'needs uid 0 to drop to an unprivileged user with setpriv' : !userns ? 'needs user namespaces (unshare --user --map-root-user)' : missingTool('umoci', 'umoci');

function asNobody(work: string, args: readonly string[]): { status: number | null; stderr: string } {
  const result = spawnSync(
    'setpriv',
    ['--reuid', NOBODY, '--regid', NOBODY, '--clear-groups', 'env', `HOME=${work}`, `CAISSON_CACHE_DIR=${join(work, 'cache')}`, `PATH=${process.env['PATH'] ?? ''}`, process.execPath, join(projectRoot(), 'bin', 'caisson.js'), ...args],
    { encoding: 'utf8', timeout: 300_000 },
  );
  return { status: result.status, stderr: result.stderr };
}

describe('caisson build as a regular user', { skip }, () => {
  let work: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'caisson-rootless-'));
    chmodSync(work, 0o777);
    cpSync(join(projectRoot(), 'examples', 'hello'), join(work, 'hello'), { recursive: true });
    runTool('chown', ['-R', `${NOBODY}:${NOBODY}`, work]);
  });

  after(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  test('examples/hello builds in a user namespace, files owned by root in the image', () => {
    const result = asNobody(work, ['build', join(work, 'hello'), '--oci-layout-path', join(work, 'out'), '-v', 'warn']);
    assert.equal(result.status, 0, result.stderr);
    const bundle = join(work, 'bundle');
    runTool('umoci', ['unpack', '--image', `${join(work, 'out')}:latest`, bundle]);
    const index = lstatSync(join(bundle, 'rootfs', 'www', 'index.html'));
    assert.equal(index.uid, 0);
    assert.equal(index.gid, 0);
    assert.equal(lstatSync(join(work, 'out')).uid, Number(NOBODY), 'what caisson wrote on disk belongs to the caller');
  });

  test('RUN works in the user namespace: overlay with userxattr, whiteouts and opaque directories in the layer', () => {
    // The base: a busybox root filesystem given as a named context (FROM a directory).
    const base = busyboxRootfs(join(work, 'base-rootfs'), { etc: { gone: 'deleted by RUN\n' } });
    mkdirSync(join(base, 'replaced'));
    writeFileSync(join(base, 'replaced', 'old'), 'old\n');
    const context = join(work, 'run-context');
    mkdirSync(context);
    writeFileSync(
      join(context, 'Dockerfile'),
      'FROM base\nRUN echo "made by $(id -u)" > /made && rm /etc/gone && rm -r /replaced && mkdir /replaced && echo new > /replaced/new\nUSER 1000\nRUN true\n',
    );
    runTool('chown', ['-R', `${NOBODY}:${NOBODY}`, base, context]);
    const refused = asNobody(work, ['build', context, '--build-context', `base=${base}`, '--no-push']);
    assert.equal(refused.status, 8, refused.stderr);
    assert.match(refused.stderr, /Dockerfile:4/);
    assert.match(refused.stderr, /USER 1000:\d+ needs uid 0/);
    writeFileSync(join(context, 'Dockerfile'), readFileSync(join(context, 'Dockerfile'), 'utf8').replace('USER 1000\nRUN true\n', ''));
    const result = asNobody(work, ['build', context, '--build-context', `base=${base}`, '--oci-layout-path', join(work, 'run-out')]);
    assert.equal(result.status, 0, result.stderr);
    const bundle = join(work, 'run-bundle');
    runTool('umoci', ['unpack', '--image', `${join(work, 'run-out')}:latest`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    assert.equal(readFileSync(join(rootfs, 'made'), 'utf8'), 'made by 0\n');
    assert.equal(lstatSync(join(rootfs, 'made')).uid, 0, 'root in the image');
    assert.equal(existsSync(join(rootfs, 'etc', 'gone')), false, 'the deletion became a whiteout');
    assert.deepEqual(readdirSync(join(rootfs, 'replaced')), ['new'], 'the replaced directory became opaque');
    const staging = join(work, 'cache', 'tmp');
    assert.deepEqual(existsSync(staging) ? readdirSync(staging) : [], [], 'no staging directory left');
  });
});
