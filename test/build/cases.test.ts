/**
 * End-to-end builds: every case under test/fixtures/builds/<case>/ (a Dockerfile, a context/
 * directory, and expect.json) is built by `caisson build` FROM a busybox base the test builds
 * and pushes first, pushed to a real docker-registry, then read back by independent tools:
 * `skopeo inspect --raw` for the manifest (whose sha256 must be the digest caisson printed),
 * `skopeo inspect --config` for the image config, `umoci unpack` for the files, compared entry by
 * entry (type, mode, owner, mtime, content, link target), and skopeo again for the other outputs
 * (OCI layout, docker-archive). Error cases check the exit status, the message, and that nothing
 * was tagged.
 *
 * Extra bases: test/fixtures/builds/bases/<name>/Dockerfile (no expect.json, so not a case) is
 * built FROM the busybox base and pushed before the cases run; a case names it as {bases/<name>}.
 *
 * Placeholders in flags and expected values: {registry} (host:port), {base} (the busybox base),
 * {ref} (the case's destination), {out} (a per-case temp dir for output files), {digest} (the
 * digest caisson printed), {bases/<name>}. A Dockerfile containing {{BASE}} is written with the
 * base reference in place (COPY --from cannot expand variables) to a temp dir and built from there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pushBusyboxBase } from '../support/busybox.js';
import { runCaisson, type CliResult } from '../support/cli.js';
import { projectRoot } from '../support/paths.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';

interface ExpectedFile {
  readonly type: 'file' | 'dir' | 'symlink';
  readonly mode?: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Modification time in seconds since the epoch. */
  readonly mtime?: number;
  readonly content?: string;
  readonly link?: string;
}

interface Expectation {
  readonly flags?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Fields of the config's `config`, each compared exactly; null means absent (or null). */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Top-level fields of the image config (created, author, …), compared exactly. */
  readonly image?: Readonly<Record<string, unknown>>;
  /** The manifest (`skopeo inspect --raw`): objects match by the keys given, arrays element by element. */
  readonly manifest?: Readonly<Record<string, unknown>>;
  readonly files?: Readonly<Record<string, ExpectedFile>>;
  readonly absent?: readonly string[];
  /** Paths that must not exist in the context directory after the build (a RUN must not write there). */
  readonly absentInContext?: readonly string[];
  /** Layers the case adds on top of the base. */
  readonly layers?: number;
  /** created_by of the history entries the case adds, in order. */
  readonly history?: readonly string[];
  /** `created` of every history entry the case adds. */
  readonly historyCreated?: string;
  /** Progress lines of a successful build. */
  readonly stderr?: { readonly includes?: readonly string[]; readonly excludes?: readonly string[] };
  /** A second build of the same case after the first (flags default to the first's); every check applies to it. */
  readonly rebuild?: { readonly flags?: readonly string[]; readonly freshCache?: boolean; readonly sameDigest?: boolean };
  /** Outputs besides the registry push. */
  readonly outputs?: {
    /** Files the build writes (digest files), by path, with their exact content. */
    readonly files?: Readonly<Record<string, string>>;
    /** Further destinations: each must hold the same manifest. */
    readonly pushed?: readonly string[];
    /** `oci:` reference (dir:tag) of an OCI layout holding the same manifest. */
    readonly ociLayout?: string;
    /** A docker-archive holding the same config, under each name. */
    readonly dockerArchive?: { readonly path: string; readonly names: readonly string[] };
  };
  readonly error?: { readonly exit: number; readonly stderr: readonly string[] };
  /** Secrets the case passes: they must appear in no output. */
  readonly notInOutput?: readonly string[];
}

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
}

interface ImageConfig {
  readonly config: Record<string, unknown>;
  readonly rootfs: { readonly diff_ids: string[] };
  readonly history: { readonly created_by: string; readonly created?: string }[];
  readonly [key: string]: unknown;
}

const fixtures = join(projectRoot(), 'test', 'fixtures', 'builds');
const corpus = readdirSync(fixtures).filter((name) => existsSync(join(fixtures, name, 'expect.json'))).sort();
/** CAISSON_CASES=a,b runs only those cases (while working on them); each must exist. */
const only = process.env.CAISSON_CASES?.split(',').filter((name) => name !== '');
const cases = only === undefined ? corpus : only;
const extraBases = readdirSync(join(fixtures, 'bases')).sort();
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
  if (want.mtime !== undefined) assert.equal(Math.floor(stats.mtimeMs / 1000), want.mtime, `${path}: mtime`);
  if (want.content !== undefined) assert.equal(readFileSync(host, 'utf8'), want.content, `${path}: content`);
  if (want.link !== undefined) assert.equal(readlinkSync(host), want.link, `${path}: link target`);
}

/** `actual` has every key of `expected` with a matching value; arrays match element by element. */
function assertSubset(actual: unknown, expected: unknown, where: string): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${where}: length`);
    expected.forEach((item, index) => assertSubset(actual[index], item, `${where}[${index}]`));
  } else if (typeof expected === 'object' && expected !== null) {
    assert.ok(typeof actual === 'object' && actual !== null, `${where}: expected an object, got ${JSON.stringify(actual)}`);
    for (const [key, value] of Object.entries(expected)) assertSubset((actual as Record<string, unknown>)[key], value, `${where}.${key}`);
  } else {
    assert.deepEqual(actual, expected, where);
  }
}

function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** The digest caisson printed: `name@sha256:…` lines (one per output), or the bare digest. */
function printedDigest(stdout: string): string {
  const digests = new Set([...stdout.matchAll(/sha256:[0-9a-f]{64}/g)].map((match) => match[0]));
  assert.equal(digests.size, 1, `one digest on stdout:\n${stdout}`);
  return [...digests][0] as string;
}

function inspectRaw(transport: string): string {
  return runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', transport]);
}

describe('caisson build: end-to-end cases', { skip, concurrency: 1 }, () => {
  let registry: RunningRegistry;
  let work: string;
  let base: string;
  let baseLayers: number;
  let baseHistory: number;
  const bases = new Map<string, string>();
  let ran = 0;

  before(async () => {
    registry = await startRegistry({ setup: 'plain' });
    work = mkdtempSync(join(tmpdir(), 'caisson-cases-'));
    base = `${registry.host}/base/busybox:1`;
    await pushBusyboxBase({ dir: join(work, 'base'), reference: base, cacheDir: join(work, 'cache') });
    const config = JSON.parse(runTool('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${base}`])) as ImageConfig;
    baseLayers = config.rootfs.diff_ids.length;
    baseHistory = config.history.length;
    for (const name of extraBases) {
      const reference = `${registry.host}/base/${name}:1`;
      const directory = join(fixtures, 'bases', name);
      const result = await runCaisson(['build', directory, '-d', reference, '--cache-dir', join(work, 'cache'), '--build-arg', `BASE=${base}`, '-v', 'warn'], { cwd: directory });
      assert.equal(result.code, 0, `building bases/${name}: ${result.stderr}`);
      bases.set(`bases/${name}`, reference);
    }
  });

  after(async () => {
    await registry?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
    if (skip === undefined) assert.equal(ran, cases.length, 'every case ran');
  });

  test('the corpus has cases', () => {
    assert.ok(corpus.length >= 30, `found ${corpus.length} cases in ${fixtures}`);
    for (const name of cases) assert.ok(corpus.includes(name), `CAISSON_CASES names ${name}, which is not a case`);
  });

  for (const name of cases) {
    test(name, async () => {
      const directory = join(fixtures, name);
      const expect = JSON.parse(readFileSync(join(directory, 'expect.json'), 'utf8')) as Expectation;
      const reference = `${registry.host}/cases/${name}:latest`;
      const context = existsSync(join(directory, 'context')) ? join(directory, 'context') : directory;
      const out = mkdtempSync(join(work, `${name}-out-`));
      const values = new Map<string, string>([['registry', registry.host], ['base', base], ['ref', reference], ['out', out], ...bases]);
      const fill = (text: string): string => text.replace(/\{([a-z/-]+)\}/g, (whole, key: string) => values.get(key) ?? whole);
      const dockerfile = renderDockerfile({ directory, base, out });

      const build = (options: { readonly flags: readonly string[]; readonly cacheDir: string }): Promise<CliResult> =>
        runCaisson(['build', context, '-f', dockerfile, '-d', reference, '--cache-dir', options.cacheDir, '--build-arg', `BASE=${base}`, ...options.flags.map(fill)], { cwd: directory, env: { HOME: work, ...expect.env } });
      let result = await build({ flags: expect.flags ?? [], cacheDir: join(work, 'cache') });
      ran += 1;
      try {
        for (const secret of expect.notInOutput ?? []) assert.ok(!`${result.stdout}${result.stderr}`.includes(secret), 'a secret reached the output');
        if (expect.error !== undefined) {
          checkFailure({ result, error: expect.error, reference });
          return;
        }
        assert.equal(result.code, 0, result.stderr);
        if (expect.rebuild !== undefined) {
          const first = printedDigest(result.stdout);
          result = await build({ flags: expect.rebuild.flags ?? expect.flags ?? [], cacheDir: expect.rebuild.freshCache === true ? join(out, 'fresh-cache') : join(work, 'cache') });
          assert.equal(result.code, 0, `the second build: ${result.stderr}`);
          if (expect.rebuild.sameDigest === true) assert.equal(printedDigest(result.stdout), first, 'two builds give the same digest');
        }
        const digest = printedDigest(result.stdout);
        values.set('digest', digest);
        checkStderr({ stderr: result.stderr, includes: expect.stderr?.includes ?? [], excludes: expect.stderr?.excludes ?? [] });

        const manifestText = inspectRaw(`docker://${reference}`);
        assert.equal(sha256(manifestText), digest, 'the pushed manifest has the digest caisson printed');
        const manifest = JSON.parse(manifestText) as { config: Descriptor; layers: Descriptor[] };
        if (expect.manifest !== undefined) assertSubset(manifest, expect.manifest, 'manifest');
        const config = JSON.parse(runTool('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reference}`])) as ImageConfig;
        checkConfig({ config, expect, baseLayers, baseHistory });
        checkOutputs({ expect, fill, digest, configDigest: manifest.config.digest });
        for (const path of expect.absentInContext ?? []) assert.ok(!existsSync(join(context, path)), `the build wrote ${path} into the context`);
        if (expect.files !== undefined || expect.absent !== undefined) {
          const rootfs = unpack({ transport: `docker://${reference}`, dir: join(out, 'unpacked'), layers: manifest.layers });
          for (const [path, want] of Object.entries(expect.files ?? {})) checkFile(rootfs, path, want);
          for (const path of expect.absent ?? []) assert.equal(lstatSync(join(rootfs, path), { throwIfNoEntry: false }), undefined, `${path} should not be in the image`);
        }
      } finally {
        for (const path of expect.absentInContext ?? []) rmSync(join(context, path), { force: true });
        rmSync(out, { recursive: true, force: true });
      }
    });
  }
});

function checkStderr(options: { readonly stderr: string; readonly includes: readonly string[]; readonly excludes: readonly string[] }): void {
  const { stderr } = options;
  for (const text of options.includes) assert.ok(stderr.includes(text), `stderr should include ${JSON.stringify(text)}:\n${stderr}`);
  for (const text of options.excludes) assert.ok(!stderr.includes(text), `stderr should not include ${JSON.stringify(text)}:\n${stderr}`);
}

/** A failed build: its exit status and message, and nothing tagged. */
function checkFailure(options: { readonly result: CliResult; readonly error: NonNullable<Expectation['error']>; readonly reference: string }): void {
  const { result, error } = options;
  assert.equal(result.code, error.exit, `exit status; stderr:\n${result.stderr}`);
  checkStderr({ stderr: result.stderr, includes: error.stderr, excludes: [] });
  const inspect = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${options.reference}`], { encoding: 'utf8' });
  assert.notEqual(inspect.status, 0, 'a failed build tags nothing');
}

/** The case's Dockerfile, or a copy with {{BASE}} replaced (in `out`, still named Dockerfile). */
function renderDockerfile(options: { readonly directory: string; readonly base: string; readonly out: string }): string {
  const path = join(options.directory, 'Dockerfile');
  const text = readFileSync(path, 'utf8');
  if (!text.includes('{{BASE}}')) return path;
  const rendered = join(options.out, 'dockerfile', 'Dockerfile');
  mkdirSync(join(options.out, 'dockerfile'));
  writeFileSync(rendered, text.replaceAll('{{BASE}}', options.base));
  return rendered;
}

function checkConfig(options: { readonly config: ImageConfig; readonly expect: Expectation; readonly baseLayers: number; readonly baseHistory: number }): void {
  const { config, expect } = options;
  for (const [key, value] of Object.entries(expect.config ?? {})) assert.deepEqual(config.config[key] ?? null, value, `config ${key}`);
  for (const [key, value] of Object.entries(expect.image ?? {})) assert.deepEqual(config[key], value, `image config ${key}`);
  if (expect.layers !== undefined) assert.equal(config.rootfs.diff_ids.length - options.baseLayers, expect.layers, 'layers added');
  const added = config.history.slice(options.baseHistory);
  if (expect.history !== undefined) assert.deepEqual(added.map((entry) => entry.created_by), expect.history, 'history');
  if (expect.historyCreated !== undefined) assert.deepEqual(added.map((entry) => entry.created), added.map(() => expect.historyCreated), 'history created');
}

function checkOutputs(options: { readonly expect: Expectation; readonly fill: (text: string) => string; readonly digest: string; readonly configDigest: string }): void {
  const { fill, digest } = options;
  const outputs = options.expect.outputs;
  if (outputs === undefined) return;
  for (const [path, content] of Object.entries(outputs.files ?? {})) assert.equal(readFileSync(fill(path), 'utf8'), fill(content), `${path}: content`);
  for (const name of outputs.pushed ?? []) assert.equal(sha256(inspectRaw(`docker://${fill(name)}`)), digest, `${name} holds the image`);
  if (outputs.ociLayout !== undefined) assert.equal(sha256(inspectRaw(`oci:${fill(outputs.ociLayout)}`)), digest, 'the OCI layout holds the image');
  const archive = outputs.dockerArchive;
  if (archive !== undefined) {
    // skopeo makes its own manifest for an archive; the config blob is caisson's, byte for byte.
    for (const name of archive.names) {
      const manifest = JSON.parse(inspectRaw(`docker-archive:${fill(archive.path)}:${fill(name)}`)) as { config: { digest: string } };
      assert.equal(manifest.config.digest, options.configDigest, `the docker-archive holds the image as ${name}`);
    }
  }
}

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/**
 * The image's root filesystem, unpacked by umoci from a skopeo copy. umoci 0.4 reads gzip and
 * plain tar layers only: zstd blobs are checked to be zstd frames, then skopeo (its own zstd
 * reader) recompresses them with gzip for umoci.
 */
function unpack(options: { readonly transport: string; readonly dir: string; readonly layers: readonly Descriptor[] }): string {
  const layout = `${options.dir}-oci`;
  runTool('skopeo', ['copy', '--src-tls-verify=false', options.transport, `oci:${layout}:t`]);
  let image = `${layout}:t`;
  const zstd = options.layers.filter((layer) => layer.mediaType.endsWith('+zstd'));
  if (zstd.length > 0) {
    for (const layer of zstd) {
      const blob = readFileSync(join(layout, 'blobs', ...layer.digest.split(':')));
      assert.deepEqual(blob.subarray(0, 4), ZSTD_MAGIC, `layer ${layer.digest} is a zstd frame`);
    }
    runTool('skopeo', ['copy', '--dest-compress-format', 'gzip', `oci:${layout}:t`, `oci:${layout}-gzip:t`]);
    image = `${layout}-gzip:t`;
  }
  runTool('umoci', ['unpack', '--image', image, options.dir]);
  return join(options.dir, 'rootfs');
}
