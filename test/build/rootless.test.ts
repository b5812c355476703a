/**
 * `caisson build` as a regular user: bin/caisson.js re-runs the build in a user namespace where
 * the caller is root, so layers still hold root-owned files (checked with umoci); RUN is refused
 * with a clear error there. The test drops to uid 65534 with util-linux setpriv, so it needs root.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
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

  test('RUN is refused with a clear error, leaving no staging behind', () => {
    writeFileSync(join(work, 'hello', 'Dockerfile.run'), 'FROM scratch\nRUN true\n');
    runTool('chown', [`${NOBODY}:${NOBODY}`, join(work, 'hello', 'Dockerfile.run')]);
    const result = asNobody(work, ['build', join(work, 'hello'), '-f', join(work, 'hello', 'Dockerfile.run'), '--no-push']);
    assert.equal(result.status, 8, result.stderr);
    assert.match(result.stderr, /Dockerfile\.run:2: RUN needs root in this version/);
    const staging = join(work, 'cache', 'tmp');
    assert.deepEqual(existsSync(staging) ? readdirSync(staging) : [], [], 'no staging directory left');
  });
});
