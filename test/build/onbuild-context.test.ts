/**
 * `--build-context` and ONBUILD, end to end: a named directory context read by COPY --from or used as a FROM base, an
 * image context standing in for a FROM name, and a base image whose ONBUILD trigger runs right
 * after FROM in the next build (and is not inherited by it). Images go through a real
 * docker-registry and are read back with skopeo and umoci.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCaisson } from '../support/cli.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';

const skip = process.getuid?.() !== 0 ? 'needs uid 0: COPY writes files owned by root' : (missingTool('docker-registry', 'docker-registry') ?? missingTool('umoci', 'umoci') ?? missingTool('skopeo', 'skopeo'));

function unpack(work: string, reference: string, name: string): string {
  const layout = join(work, `${name}-oci`);
  runTool('skopeo', ['copy', '--src-tls-verify=false', `docker://${reference}`, `oci:${layout}:t`]);
  runTool('umoci', ['unpack', '--image', `${layout}:t`, join(work, `${name}-bundle`)]);
  return join(work, `${name}-bundle`, 'rootfs');
}

describe('build contexts and ONBUILD', { skip }, () => {
  let registry: RunningRegistry;
  let work: string;

  before(async () => {
    registry = await startRegistry({ setup: 'plain' });
    work = mkdtempSync(join(tmpdir(), 'caisson-onbuild-'));
  });

  after(async () => {
    await registry?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  test('a base image ONBUILD trigger runs after FROM and is not inherited', async () => {
    const base = join(work, 'base');
    mkdirSync(base);
    writeFileSync(join(base, 'Dockerfile'), 'FROM scratch\nCOPY base.txt /base.txt\nONBUILD COPY trigger.txt /from-trigger.txt\n');
    writeFileSync(join(base, 'base.txt'), 'base\n');
    const baseRef = `${registry.host}/onbuild/base:1`;
    const built = await runCaisson(['build', base, '-d', baseRef, '--cache-dir', join(work, 'cache')], { cwd: work });
    assert.equal(built.code, 0, built.stderr);
    const child = join(work, 'child');
    mkdirSync(child);
    writeFileSync(join(child, 'Dockerfile'), `FROM ${baseRef}\nCOPY own.txt /own.txt\n`);
    writeFileSync(join(child, 'trigger.txt'), 'triggered\n');
    writeFileSync(join(child, 'own.txt'), 'own\n');
    const childRef = `${registry.host}/onbuild/child:1`;
    const result = await runCaisson(['build', child, '-d', childRef, '--cache-dir', join(work, 'cache')], { cwd: work });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /\(ONBUILD\) COPY trigger\.txt \/from-trigger\.txt/);
    const rootfs = unpack(work, childRef, 'child');
    assert.equal(readFileSync(join(rootfs, 'from-trigger.txt'), 'utf8'), 'triggered\n');
    assert.equal(readFileSync(join(rootfs, 'base.txt'), 'utf8'), 'base\n');
    const config = JSON.parse(runTool('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', `docker://${childRef}`])) as { config: { OnBuild?: unknown } };
    assert.equal(config.config.OnBuild, undefined, 'triggers are not inherited');
  });

  test('--build-context: a directory for COPY --from, an image for FROM', async () => {
    const context = join(work, 'named');
    const extra = join(work, 'extra');
    mkdirSync(context);
    mkdirSync(extra);
    writeFileSync(join(extra, 'extra.txt'), 'extra\n');
    writeFileSync(join(context, 'Dockerfile'), 'FROM base-image\nCOPY --from=assets extra.txt /extra.txt\n');
    writeFileSync(join(context, 'trigger.txt'), 'the base image ONBUILD copies this\n');
    const reference = `${registry.host}/onbuild/named:1`;
    const result = await runCaisson(
      ['build', context, '-d', reference, '--cache-dir', join(work, 'cache'), '--build-context', `assets=${extra}`, '--build-context', `base-image=docker-image://${registry.host}/onbuild/base:1`],
      { cwd: work },
    );
    assert.equal(result.code, 0, result.stderr);
    const rootfs = unpack(work, reference, 'named');
    assert.equal(readFileSync(join(rootfs, 'extra.txt'), 'utf8'), 'extra\n');
    assert.equal(readFileSync(join(rootfs, 'base.txt'), 'utf8'), 'base\n');
  });

  test('--build-context NAME=DIR as FROM NAME: the directory is the root filesystem, one layer', async () => {
    const context = join(work, 'from-dir');
    const rootDir = join(work, 'rootfs-dir');
    mkdirSync(context);
    mkdirSync(join(rootDir, 'etc'), { recursive: true });
    writeFileSync(join(rootDir, 'etc', 'os-release'), 'ID=handmade\n');
    writeFileSync(join(context, 'Dockerfile'), 'FROM handmade AS base\nCOPY app.txt /app.txt\nFROM base\nLABEL stage=second\n');
    writeFileSync(join(context, 'app.txt'), 'app\n');
    const reference = `${registry.host}/onbuild/from-dir:1`;
    const result = await runCaisson(['build', context, '-d', reference, '--cache-dir', join(work, 'cache'), '--build-context', `handmade=${rootDir}`], { cwd: work });
    assert.equal(result.code, 0, result.stderr);
    const rootfs = unpack(work, reference, 'from-dir');
    assert.equal(readFileSync(join(rootfs, 'etc', 'os-release'), 'utf8'), 'ID=handmade\n');
    assert.equal(readFileSync(join(rootfs, 'app.txt'), 'utf8'), 'app\n');
    const config = JSON.parse(runTool('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reference}`])) as { rootfs: { diff_ids: string[] }; history: { created_by: string; empty_layer?: boolean }[] };
    assert.equal(config.rootfs.diff_ids.length, 2, 'the directory, then the COPY');
    assert.deepEqual(config.history.map((entry) => entry.created_by), ['FROM handmade # build context directory', 'COPY app.txt /app.txt # buildkit', 'LABEL stage=second']);
  });
});
