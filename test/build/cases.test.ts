/**
 * End-to-end builds: every case under test/fixtures/builds/<case>/ (a Dockerfile, a context/
 * directory, and expect.json) is built by `caisson build` FROM a busybox base the test builds
 * and pushes first, pushed to a real docker-registry, then read back by independent tools:
 * `skopeo inspect --config` for the image config and `umoci unpack` for the files, compared
 * entry by entry (type, mode, owner, content, link target). Error cases check the exit status,
 * the message, and that nothing was tagged.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pushBusyboxBase } from '../support/busybox.js';
import { runCaisson } from '../support/cli.js';
import { projectRoot } from '../support/paths.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';

interface ExpectedFile {
  readonly type: 'file' | 'dir' | 'symlink';
  readonly mode?: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly content?: string;
  readonly link?: string;
}

interface Expectation {
  readonly flags?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly config?: Readonly<Record<string, unknown>>;
  readonly files?: Readonly<Record<string, ExpectedFile>>;
  readonly absent?: readonly string[];
  /** Layers the case adds on top of the base. */
  readonly layers?: number;
  /** created_by of the history entries the case adds, in order. */
  readonly history?: readonly string[];
  readonly error?: { readonly exit: number; readonly stderr: readonly string[] };
  /** Secrets the case passes: they must appear in no output. */
  readonly notInOutput?: readonly string[];
}

const fixtures = join(projectRoot(), 'test', 'fixtures', 'builds');
const cases = readdirSync(fixtures).filter((name) => existsSync(join(fixtures, name, 'expect.json'))).sort();
const skip =
  process.getuid?.() !== 0
    ? 'needs uid 0: RUN uses overlayfs and namespaces as root in this version'
    : (missingTool('docker-registry', 'docker-registry') ?? missingTool('umoci', 'umoci') ?? missingTool('skopeo', 'skopeo') ?? (existsSync('/bin/busybox') ? undefined : 'needs /bin/busybox (Debian package busybox-static)'));

function kind(path: string): ExpectedFile['type'] | 'other' {
  const stats = lstatSync(path);
  return stats.isSymbolicLink() ? 'symlink' : stats.isDirectory() ? 'dir' : stats.isFile() ? 'file' : 'other';
}

function checkFile(rootfs: string, path: string, want: ExpectedFile): void {
  const host = join(rootfs, path);
  assert.ok(lstatSync(host, { throwIfNoEntry: false }) !== undefined, `${path} is missing from the image`);
  const stats = lstatSync(host);
  assert.equal(kind(host), want.type, `${path}: type`);
  if (want.mode !== undefined) assert.equal((stats.mode & 0o7777).toString(8).padStart(4, '0'), want.mode, `${path}: mode`);
  if (want.uid !== undefined) assert.equal(stats.uid, want.uid, `${path}: uid`);
  if (want.gid !== undefined) assert.equal(stats.gid, want.gid, `${path}: gid`);
  if (want.content !== undefined) assert.equal(readFileSync(host, 'utf8'), want.content, `${path}: content`);
  if (want.link !== undefined) assert.equal(readlinkSync(host), want.link, `${path}: link target`);
}

describe('caisson build: end-to-end cases', { skip, concurrency: 1 }, () => {
  let registry: RunningRegistry;
  let work: string;
  let base: string;
  let baseLayers: number;
  let baseHistory: number;
  let ran = 0;

  before(async () => {
    registry = await startRegistry({ setup: 'plain' });
    work = mkdtempSync(join(tmpdir(), 'caisson-cases-'));
    base = `${registry.host}/base/busybox:1`;
    await pushBusyboxBase({ dir: join(work, 'base'), reference: base, cacheDir: join(work, 'cache') });
    const config = JSON.parse(runTool('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${base}`])) as { rootfs: { diff_ids: string[] }; history: unknown[] };
    baseLayers = config.rootfs.diff_ids.length;
    baseHistory = config.history.length;
  });

  after(async () => {
    await registry?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
    if (skip === undefined) assert.equal(ran, cases.length, 'every case ran');
  });

  test('the corpus has cases', () => {
    assert.ok(cases.length >= 6, `found ${cases.length} cases in ${fixtures}`);
  });

  for (const name of cases) {
    test(name, async () => {
      const directory = join(fixtures, name);
      const expect = JSON.parse(readFileSync(join(directory, 'expect.json'), 'utf8')) as Expectation;
      const reference = `${registry.host}/cases/${name}:latest`;
      const context = existsSync(join(directory, 'context')) ? join(directory, 'context') : directory;
      const argv = ['build', context, '-f', join(directory, 'Dockerfile'), '-d', reference, '--cache-dir', join(work, 'cache'), '--build-arg', `BASE=${base}`, ...(expect.flags ?? [])];
      const result = await runCaisson(argv, { cwd: directory, env: { HOME: work, ...expect.env } });
      ran += 1;
      for (const secret of expect.notInOutput ?? []) assert.ok(!`${result.stdout}${result.stderr}`.includes(secret), 'a secret reached the output');
      if (expect.error !== undefined) {
        assert.equal(result.code, expect.error.exit, `exit status; stderr:\n${result.stderr}`);
        for (const text of expect.error.stderr) assert.ok(result.stderr.includes(text), `stderr should include ${JSON.stringify(text)}:\n${result.stderr}`);
        const inspect = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${reference}`], { encoding: 'utf8' });
        assert.notEqual(inspect.status, 0, 'a failed build tags nothing');
        return;
      }
      assert.equal(result.code, 0, result.stderr);
      const config = JSON.parse(runTool('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reference}`])) as { config: Record<string, unknown>; rootfs: { diff_ids: string[] }; history: { created_by: string }[] };
      for (const [key, value] of Object.entries(expect.config ?? {})) assert.deepEqual(config.config[key], value, `config ${key}`);
      if (expect.layers !== undefined) assert.equal(config.rootfs.diff_ids.length - baseLayers, expect.layers, 'layers added');
      if (expect.history !== undefined) assert.deepEqual(config.history.slice(baseHistory).map((entry) => entry.created_by), expect.history, 'history');
      const layout = join(work, `${name}-oci`);
      const bundle = join(work, `${name}-bundle`);
      runTool('skopeo', ['copy', '--src-tls-verify=false', `docker://${reference}`, `oci:${layout}:t`]);
      runTool('umoci', ['unpack', '--image', `${layout}:t`, bundle]);
      const rootfs = join(bundle, 'rootfs');
      for (const [path, want] of Object.entries(expect.files ?? {})) checkFile(rootfs, path, want);
      for (const path of expect.absent ?? []) assert.equal(lstatSync(join(rootfs, path), { throwIfNoEntry: false }), undefined, `${path} should not be in the image`);
      rmSync(bundle, { recursive: true, force: true });
      rmSync(layout, { recursive: true, force: true });
    });
  }
});
