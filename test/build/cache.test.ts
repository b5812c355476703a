/**
 * The build cache end to end, against a real docker-registry: which steps hit and which miss when
 * each key input changes (and that mtimes and the context's location do not matter), what
 * --cache-explain prints, a registry cache shared by two empty cache directories (two pods) that
 * downloads no layer, two concurrent builds on one cache directory, a corrupted blob evicted and
 * rebuilt, a cache-repository layer lost or corrupt in the registry and a corrupt stored base blob
 * (evicted, the build started again), and ADD of a URL keyed by its ETag. Images are read back by skopeo and unpacked by
 * umoci. TTL expiry and OCI-layout cache repositories are tested without builds, in
 * test/cache/local.test.ts.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pushBusyboxBase } from '../support/busybox.js';
import { runCaisson, type CliResult } from '../support/cli.js';
import { answeredRequests, startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';

const skip = process.getuid?.() !== 0 ? 'needs uid 0: RUN runs in a namespace sandbox as root' : (missingTool('docker-registry', 'docker-registry') ?? missingTool('umoci', 'umoci') ?? missingTool('skopeo', 'skopeo'));

const DOCKERFILE = `ARG BASE
FROM \${BASE}
ARG LEVEL=1
ENV MODE=a
WORKDIR /app
COPY src/ ./src/
RUN echo "$MODE $LEVEL" > /app/run.txt
LABEL step=after-run
RUN --mount=type=bind,source=bound,target=/mnt cat /mnt/b.txt > /app/bound.txt
`;

/** The filesystem steps of a build's log: which hit the cache (and where from), which ran. */
function steps(result: CliResult): { readonly hits: Map<string, string>; readonly misses: string[] } {
  const hits = new Map<string, string>();
  const all: string[] = [];
  for (const line of result.stderr.split('\n')) {
    const step = /^\[(\S+ \d+)\/\d+\] (?:RUN|COPY|ADD|WORKDIR) /.exec(line);
    if (step !== null) all.push(step[1] as string);
    const hit = /^\[(\S+ \d+)\/\d+\] cached \(([^)]+)\)/.exec(line);
    if (hit !== null) hits.set(hit[1] as string, hit[2] as string);
  }
  return { hits, misses: all.filter((step) => !hits.has(step)) };
}

function writeContext(dir: string): void {
  mkdirSync(join(dir, 'src', 'lib'), { recursive: true });
  mkdirSync(join(dir, 'bound'), { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
  writeFileSync(join(dir, 'src', 'a.txt'), 'a\n');
  writeFileSync(join(dir, 'src', 'lib', 'b.txt'), 'b\n');
  writeFileSync(join(dir, 'bound', 'b.txt'), 'bound 1\n');
}

describe('the build cache', { skip, concurrency: 1 }, () => {
  let registry: RunningRegistry;
  let work: string;
  let base: string;

  before(async () => {
    registry = await startRegistry({ setup: 'plain', accessLog: true });
    work = mkdtempSync(join(tmpdir(), 'caisson-cache-test-'));
    base = `${registry.host}/base/busybox:1`;
    await pushBusyboxBase({ dir: join(work, 'base'), reference: base, cacheDir: join(work, 'base-cache') });
  });

  after(async () => {
    await registry?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  const build = (options: { readonly context: string; readonly cacheDir: string; readonly tag: string; readonly repository?: string; readonly flags?: readonly string[] }): Promise<CliResult> =>
    runCaisson(['build', options.context, '-d', `${registry.host}/${options.repository ?? 'cache/app'}:${options.tag}`, '--cache-dir', options.cacheDir, '--build-arg', `BASE=${base}`, ...(options.flags ?? [])], { cwd: work });

  const layersOf = (tag: string, repository = 'cache/app'): string[] =>
    (JSON.parse(runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/${repository}:${tag}`])) as { layers: { digest: string }[] }).layers.map((layer) => layer.digest);

  const unpack = (tag: string, repository = 'cache/app'): string => {
    const layout = join(work, `layout-${tag}`);
    const bundle = join(work, `bundle-${tag}`);
    runTool('skopeo', ['copy', '--src-tls-verify=false', `docker://${registry.host}/${repository}:${tag}`, `oci:${layout}:t`]);
    runTool('umoci', ['unpack', '--image', `${layout}:t`, bundle]);
    return join(bundle, 'rootfs');
  };

  test('each key input misses exactly the steps it reaches; mtimes and the context location do not', async () => {
    const context = join(work, 'keys');
    const cacheDir = join(work, 'keys-cache');
    writeContext(context);
    const cold = await build({ context, cacheDir, tag: 'cold' });
    assert.equal(cold.code, 0, cold.stderr);
    assert.deepEqual(steps(cold).misses, ['stage-0 4', 'stage-0 5', 'stage-0 6', 'stage-0 8'], 'a cold build runs every filesystem step');

    const warm = await build({ context, cacheDir, tag: 'warm' });
    assert.equal(warm.code, 0, warm.stderr);
    assert.deepEqual(steps(warm).misses, [], warm.stderr);
    assert.deepEqual([...steps(warm).hits.values()], ['local', 'local', 'local', 'local']);
    assert.deepEqual(layersOf('warm'), layersOf('cold'), 'hits give the very same layers');
    // Dated as BuildKit dates them: an entry with a layer when its layer was made, one without not at
    // all, the config as its last dated entry; so a rebuild from the cache is the very same image.
    const raw = (tag: string): string => runTool('skopeo', ['inspect', '--raw', '--config', '--tls-verify=false', `docker://${registry.host}/cache/app:${tag}`]);
    assert.equal(raw('warm'), raw('cold'), 'the same config, byte for byte');
    const config = JSON.parse(raw('cold')) as { created: string; history: { created?: string; empty_layer?: boolean; created_by: string }[] };
    const added = config.history.slice(-8);
    assert.deepEqual(added.map((entry) => entry.created !== undefined), added.map((entry) => entry.empty_layer !== true), added.map((entry) => entry.created_by).join('\n'));
    assert.equal(config.created, added.findLast((entry) => entry.created !== undefined)?.created);
    // The same build again, to the tag that holds its image: answered from the warm build's record
    // (test/build/build-record.test.ts); the registry is asked for that tag's image, and nothing is written.
    const before = (await answeredRequests(registry)).length;
    const again = await build({ context, cacheDir, tag: 'warm' });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /no change since the build of .*nothing built or pushed/);
    // A request of our own after the build: once it is logged, every request of the build is.
    await (await fetch(`${registry.url}/v2/?after=again`)).arrayBuffer();
    const asked = (await answeredRequests(registry, 'GET /v2/?after=again')).slice(before, -1);
    assert.ok(asked.includes('HEAD /v2/cache/app/manifests/warm'), asked.join(', '));
    assert.deepEqual(asked.filter((request) => !request.startsWith('GET ') && !request.startsWith('HEAD ')), [], `no write: ${asked.join(', ')}`);

    // Only mtimes change, and the context moves: still every step hits.
    const moved = join(work, 'keys-moved');
    cpSync(context, moved, { recursive: true });
    utimesSync(join(moved, 'src', 'a.txt'), 1_000_000, 1_000_000);
    // Past file-stamp.ts's racy window, so that this build remembers the copies' digests.
    await sleep(250);
    const elsewhere = await build({ context: moved, cacheDir, tag: 'moved' });
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    assert.deepEqual(steps(elsewhere).misses, [], 'another directory and other mtimes hit the same entries');

    // A bound file: only the RUN that binds it misses.
    writeFileSync(join(moved, 'bound', 'b.txt'), 'bound 2\n');
    const bound = await build({ context: moved, cacheDir, tag: 'bound', flags: ['--cache-explain'] });
    assert.deepEqual(steps(bound).misses, ['stage-0 8'], bound.stderr);
    const differing = / {2}context files changed since the last build of this context directory:\n((?: {6}[^\n]*\n)*)/g;
    assert.deepEqual([...bound.stderr.matchAll(differing)].map((match) => match[1]), ['      changed bound/b.txt\n'], `explain names the bound file:\n${bound.stderr}`);

    // A COPY source: that COPY and the steps after it miss; WORKDIR before it hits.
    writeFileSync(join(moved, 'src', 'lib', 'b.txt'), 'b changed\n');
    const copied = await build({ context: moved, cacheDir, tag: 'copied', flags: ['--cache-explain'] });
    assert.deepEqual(steps(copied).misses, ['stage-0 5', 'stage-0 6', 'stage-0 8'], copied.stderr);
    assert.match(copied.stderr, /\[stage-0 5\/8\] cache miss, key [0-9a-f]{12}; its inputs:/);
    assert.match(copied.stderr, /nearest stored entry [0-9a-f]{12} \(stored [^)]+\) differs in sources:\n {4}sources:\n {6}- src\/ sha256:[0-9a-f]{64}\n {6}\+ src\/ sha256:[0-9a-f]{64}/, copied.stderr);
    // ...and the file behind it, once: the steps after it miss for their parent alone.
    assert.deepEqual([...copied.stderr.matchAll(differing)].map((match) => match[1]), ['      changed src/lib/b.txt\n'], copied.stderr);

    // A build argument: the RUN that sees it misses, and explain names it; the steps after it miss
    // for their parent; WORKDIR and COPY before it, which see no variable, hit (as in BuildKit).
    const argument = await build({ context: moved, cacheDir, tag: 'level', flags: ['--build-arg', 'LEVEL=2', '--cache-explain'] });
    assert.deepEqual(steps(argument).misses, ['stage-0 6', 'stage-0 8'], argument.stderr);
    assert.match(argument.stderr, /differs in parent, variables:[\s\S]*- LEVEL=1\n {6}\+ LEVEL=2|differs in variables:[\s\S]*- LEVEL=1\n {6}\+ LEVEL=2/, argument.stderr);
    assert.equal(readFileSync(join(unpack('level'), 'app', 'run.txt'), 'utf8'), 'a 2\n');

    // --cache-ttl: entries stored longer ago than that are misses.
    const expired = await build({ context: moved, cacheDir, tag: 'expired', flags: ['--build-arg', 'LEVEL=2', '--cache-ttl', '0s', '--cache-explain'] });
    assert.deepEqual(steps(expired).misses, ['stage-0 4', 'stage-0 5', 'stage-0 6', 'stage-0 8'], expired.stderr);
    assert.match(expired.stderr, /\[stage-0 4\/8\] cache miss, [^\n]*\n(?: {4}[^\n]*\n)* {2}nearest stored entry [0-9a-f]{12} \(stored [^)]+\) has the same inputs; not used: it was stored longer ago than --cache-ttl/, expired.stderr);

    // A deleted file: explain names it as removed, for the COPY that read it, and only once.
    rmSync(join(moved, 'src', 'a.txt'));
    const deleted = await build({ context: moved, cacheDir, tag: 'deleted', flags: ['--build-arg', 'LEVEL=2', '--cache-explain'] });
    assert.deepEqual(steps(deleted).misses, ['stage-0 5', 'stage-0 6', 'stage-0 8'], deleted.stderr);
    assert.deepEqual([...deleted.stderr.matchAll(differing)].map((match) => match[1]), ['      removed src/a.txt\n'], deleted.stderr);
    writeFileSync(join(moved, 'src', 'lib', 'b.txt'), 'b changed again\n');
    const after = await build({ context: moved, cacheDir, tag: 'after', flags: ['--build-arg', 'LEVEL=2', '--cache-explain'] });
    assert.deepEqual([...after.stderr.matchAll(differing)].map((match) => match[1]), ['      changed src/lib/b.txt\n'], `the deleted file is forgotten:\n${after.stderr}`);
  });

  test('--cache-explain names a file a wildcard source read and that is now gone, once', async () => {
    const context = join(work, 'wildcard');
    mkdirSync(context);
    writeFileSync(join(context, 'Dockerfile'), 'ARG BASE\nFROM ${BASE}\nCOPY package*.json /app/\n');
    writeFileSync(join(context, 'package.json'), '{}\n');
    writeFileSync(join(context, 'package-lock.json'), '{"lockfileVersion": 3}\n');
    writeFileSync(join(context, 'other.json'), '{}\n');
    const cacheDir = join(work, 'wildcard-cache');
    const differing = / {2}context files changed since the last build of this context directory:\n((?: {6}[^\n]*\n)*)/g;
    const first = await build({ context, cacheDir, tag: 'wildcard-1' });
    assert.equal(first.code, 0, first.stderr);
    rmSync(join(context, 'package-lock.json'));
    rmSync(join(context, 'other.json'));
    const second = await build({ context, cacheDir, tag: 'wildcard-2', flags: ['--cache-explain'] });
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual([...second.stderr.matchAll(differing)].map((match) => match[1]), ['      removed package-lock.json\n'], `other.json is no match of package*.json:\n${second.stderr}`);
    writeFileSync(join(context, 'package.json'), '{"name": "app"}\n');
    const third = await build({ context, cacheDir, tag: 'wildcard-3', flags: ['--cache-explain'] });
    assert.deepEqual([...third.stderr.matchAll(differing)].map((match) => match[1]), ['      changed package.json\n'], `the removed file is forgotten:\n${third.stderr}`);
  });

  test('a registry cache shared by two empty cache directories: the second pod downloads no layer', async () => {
    const context = join(work, 'pods');
    writeContext(context);
    const podA = await build({ context, cacheDir: join(work, 'pod-a'), tag: 'pod-a', flags: ['--cache'] });
    assert.equal(podA.code, 0, podA.stderr);
    const tags = (JSON.parse(runTool('skopeo', ['list-tags', '--tls-verify=false', `docker://${registry.host}/cache/app/cache`])) as { Tags: string[] }).Tags;
    assert.equal(tags.length, 4, `one cache image per filesystem step: ${tags.join(' ')}`);
    assert.ok(tags.every((tag) => /^[0-9a-f]{64}$/.test(tag)));

    const podB = join(work, 'pod-b');
    const second = await build({ context, cacheDir: podB, tag: 'pod-b', flags: ['--cache'] });
    assert.equal(second.code, 0, second.stderr);
    const { hits, misses } = steps(second);
    assert.deepEqual(misses, [], second.stderr);
    assert.deepEqual([...hits.values()], Array.from({ length: 4 }, () => `docker://${registry.host}/cache/app/cache`));
    assert.deepEqual(layersOf('pod-b'), layersOf('pod-a'), 'the same layers as pod A');
    const listing = (path: string): string[] => (existsSync(path) ? readdirSync(path) : []);
    const layers = new Set(layersOf('pod-a').map((digest) => digest.slice('sha256:'.length)));
    assert.deepEqual(listing(join(podB, 'blobs', 'sha256')).filter((blob) => layers.has(blob)), [], 'no layer blob was downloaded');
    assert.deepEqual(listing(join(podB, 'layers', 'sha256')), [], 'no layer was extracted');
    const baseConfig = (JSON.parse(runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${base}`])) as { config: { digest: string } }).config.digest;
    assert.ok(listing(join(podB, 'blobs', 'sha256')).includes(baseConfig.slice('sha256:'.length)), 'the base config is kept: the next build reads it from the store');
    assert.match(second.stderr, /\d+ mounted|\d+ already there/);
    const rootfs = unpack('pod-b');
    assert.equal(readFileSync(join(rootfs, 'app', 'run.txt'), 'utf8'), 'a 1\n');
    assert.equal(readFileSync(join(rootfs, 'app', 'bound.txt'), 'utf8'), 'bound 1\n');

  });

  test('two concurrent builds on one cache directory; then a corrupted blob and a broken entry are evicted with a warning and rebuilt', async () => {
    const context = join(work, 'concurrent');
    const cacheDir = join(work, 'concurrent-cache');
    writeContext(context);
    // Two repositories: concurrent pushes of one blob to one repository are the registry's business, not the cache's.
    const [one, two] = await Promise.all([build({ context, cacheDir, tag: 'together-1', repository: 'cache/one' }), build({ context, cacheDir, tag: 'together-2', repository: 'cache/two' })]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(two.code, 0, two.stderr);
    const entries = join(cacheDir, 'cache', 'entries');
    assert.deepEqual(readdirSync(entries).filter((name) => !/^[0-9a-f]{64}\.json$/.test(name)), [], 'no staging left, only complete entries');

    // The entry of the last RUN names the blob that won (either build's: both stored the same key).
    const entryOf = (text: string): { layer: { descriptor: { digest: string } } } => JSON.parse(readFileSync(join(entries, readdirSync(entries).find((name) => readFileSync(join(entries, name), 'utf8').includes(text)) as string), 'utf8'));
    const last = entryOf('bound.txt').layer.descriptor.digest;
    assert.ok([layersOf('together-1', 'cache/one').at(-1), layersOf('together-2', 'cache/two').at(-1)].includes(last));
    const blob = join(cacheDir, 'blobs', 'sha256', last.slice('sha256:'.length));
    const bytes = readFileSync(blob);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    writeFileSync(blob, bytes);
    const broken = readdirSync(entries).find((name) => readFileSync(join(entries, name), 'utf8').includes('"createdBy":"WORKDIR')) as string;
    writeFileSync(join(entries, broken), '{"key": tru');
    const rebuilt = await build({ context, cacheDir, tag: 'corrupt' });
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    assert.match(rebuilt.stderr, new RegExp(`layer blob ${last} is corrupt \\(it reads as sha256:[0-9a-f]{64}\\); evicted, the step runs again`));
    assert.match(rebuilt.stderr, /cache entry .*: not JSON; evicted, the step runs again/);
    assert.deepEqual(steps(rebuilt).misses, ['stage-0 4', 'stage-0 8'], rebuilt.stderr);
    assert.equal(readFileSync(join(unpack('corrupt'), 'app', 'bound.txt'), 'utf8'), 'bound 1\n');
    const healed = await build({ context, cacheDir, tag: 'healed' });
    assert.deepEqual(steps(healed).misses, [], 'the rebuilt entries are good');
  });

  test('a cache-repository entry whose layer is gone or corrupt, a corrupt stored base blob, an unusable cache repository: warned about, evicted, the build starts again and succeeds', async () => {
    const context = join(work, 'broken');
    writeContext(context);
    const repository = 'cache/broken';
    const cacheRepo = `${registry.host}/${repository}/cache`;
    const podA = await build({ context, cacheDir: join(work, 'broken-a'), tag: 'a', repository, flags: ['--cache'] });
    assert.equal(podA.code, 0, podA.stderr);
    const storage = (digest: string): string => join(registry.dir, 'storage', 'docker', 'registry', 'v2', 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7), 'data');
    const last = layersOf('a', repository).at(-1) as string;
    assert.ok(existsSync(storage(last)), storage(last));

    // The last RUN's layer is gone from the registry: a fresh pod hits every step, fails to push
    // that layer, evicts the entry, starts again, runs that step and pushes a good entry over it.
    rmSync(storage(last));
    const podB = await build({ context, cacheDir: join(work, 'broken-b'), tag: 'b', repository, flags: ['--cache'] });
    assert.equal(podB.code, 0, podB.stderr);
    assert.match(podB.stderr, new RegExp(`warn: cache entry docker://${cacheRepo}:[0-9a-f]{64} is missing or corrupt \\([^\\n]*HTTP 404[^\\n]*\\); evicted: it is fetched or built again`), podB.stderr);
    assert.match(podB.stderr, /warn: the build failed on what was evicted from the cache \(.*\); it starts again/);
    assert.ok(/\[stage-0 8\/8\] RUN --mount/.test(podB.stderr), 'the broken step ran');
    assert.equal(readFileSync(join(unpack('b', repository), 'app', 'bound.txt'), 'utf8'), 'bound 1\n');
    const podC = await build({ context, cacheDir: join(work, 'broken-c'), tag: 'c', repository, flags: ['--cache'] });
    assert.equal(podC.code, 0, podC.stderr);
    assert.deepEqual(steps(podC).misses, [], `the entry pushed over the broken one is good: ${podC.stderr}`);
    assert.doesNotMatch(podC.stderr, /warn:/);

    // A layer's bytes corrupt in the registry: found when a fresh pod downloads it for an OCI layout.
    const corrupt = layersOf('c', repository).at(-1) as string;
    const bytes = readFileSync(storage(corrupt));
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    writeFileSync(storage(corrupt), bytes);
    const layout = join(work, 'broken-layout');
    const podD = await build({ context, cacheDir: join(work, 'broken-d'), tag: 'd', repository, flags: ['--cache', '--cache-repo', cacheRepo, '--no-push', '--oci-layout-path', layout] });
    assert.equal(podD.code, 0, podD.stderr);
    assert.match(podD.stderr, /warn: cache entry .* is missing or corrupt \(.*does not match.*\); evicted/, podD.stderr);
    runTool('umoci', ['unpack', '--image', `${layout}:d`, join(work, 'broken-bundle')]);
    assert.equal(readFileSync(join(work, 'broken-bundle', 'rootfs', 'app', 'bound.txt'), 'utf8'), 'bound 1\n');

    // The base's layer blob corrupt in a warmed cache directory: deleted, fetched again.
    const warmed = join(work, 'broken-warmed');
    const warm = await runCaisson(['warm', '-c', warmed, '-i', base, '--insecure-pull'], { cwd: work });
    assert.equal(warm.code, 0, warm.stderr);
    const baseLayer = (JSON.parse(runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${base}`])) as { layers: { digest: string }[] }).layers[0]?.digest as string;
    const stored = join(warmed, 'blobs', 'sha256', baseLayer.slice(7));
    const storedBytes = readFileSync(stored);
    storedBytes[0] = (storedBytes[0] as number) ^ 0xff;
    writeFileSync(stored, storedBytes);
    const fromWarm = await build({ context, cacheDir: warmed, tag: 'e', repository, flags: ['--no-push', '--oci-layout-path', join(work, 'broken-layout-e')] });
    assert.equal(fromWarm.code, 0, fromWarm.stderr);
    assert.match(fromWarm.stderr, new RegExp(`warn: docker://${registry.host}/base/busybox: the stored blob ${baseLayer} is missing or corrupt \\(.*\\); evicted`), fromWarm.stderr);
    assert.ok(!existsSync(stored) || readFileSync(stored).equals(readFileSync(storage(baseLayer))), 'the corrupt blob is gone from the store');

    // A cache repository that cannot be opened (oci: naming a file) is warned about; the build goes on.
    writeFileSync(join(work, 'a-file'), 'not a directory\n');
    const unusable = await build({ context, cacheDir: join(work, 'broken-a'), tag: 'f', repository, flags: ['--cache', '--cache-repo', `oci:${join(work, 'a-file')}`] });
    assert.equal(unusable.code, 0, unusable.stderr);
    assert.match(unusable.stderr, /warn: cache repository oci:.*a-file cannot be used \(.*\); no cache lookups or pushes there in this build/);
  });

  test('--cache-run-layers=false and --cache-copy-layers=false: those steps always run, taken from and stored in neither cache; the others still hit', async () => {
    const context = join(work, 'kinds');
    writeContext(context);
    const cacheDir = join(work, 'kinds-cache');
    const repository = 'cache/kinds';
    const noRun = ['--cache', '--cache-run-layers=false'];
    const first = await build({ context, cacheDir, tag: '1', repository, flags: noRun });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /\[stage-0 6\/8\] not cached: --cache-run-layers=false/);
    assert.match(first.stderr, /\[stage-0 8\/8\] not cached: --cache-run-layers=false/);
    const tags = (JSON.parse(runTool('skopeo', ['list-tags', '--tls-verify=false', `docker://${registry.host}/${repository}/cache`])) as { Tags: string[] }).Tags;
    assert.equal(tags.length, 2, `WORKDIR and COPY only: ${tags.join(' ')}`);
    const second = await build({ context, cacheDir, tag: '2', repository, flags: noRun });
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(steps(second).misses, ['stage-0 6', 'stage-0 8'], 'the RUN steps ran again, locally too');
    assert.deepEqual([...steps(second).hits.keys()], ['stage-0 4', 'stage-0 5']);
    const noCopy = await build({ context, cacheDir, tag: '3', repository, flags: ['--cache-copy-layers=false'] });
    assert.equal(noCopy.code, 0, noCopy.stderr);
    assert.match(noCopy.stderr, /\[stage-0 5\/8\] not cached: --cache-copy-layers=false/);
    assert.ok(steps(noCopy).misses.includes('stage-0 5'), noCopy.stderr);
    assert.equal(steps(noCopy).hits.get('stage-0 4'), 'local', 'WORKDIR is always cached');
  });

  test('a base layer downloaded to be extracted is kept in the store: an OCI layout output does not download it again', async () => {
    const context = join(work, 'kept');
    writeContext(context);
    const cacheDir = join(work, 'kept-cache');
    const baseLayer = (JSON.parse(runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${base}`])) as { layers: { digest: string }[] }).layers[0]?.digest as string;
    const fetches = async (): Promise<number> => (await answeredRequests(registry)).filter((request) => request === `GET /v2/base/busybox/blobs/${baseLayer}`).length;
    const before = await fetches();
    const layout = join(work, 'kept-layout');
    const built = await build({ context, cacheDir, tag: 'kept', flags: ['--oci-layout-path', layout] });
    assert.equal(built.code, 0, built.stderr);
    await (await fetch(`${registry.url}/v2/?after=kept`)).arrayBuffer();
    await answeredRequests(registry, 'GET /v2/?after=kept');
    assert.equal(await fetches() - before, 1, 'extracted for RUN, then written to the layout: downloaded once');
    assert.ok(existsSync(join(cacheDir, 'blobs', 'sha256', baseLayer.slice('sha256:'.length))), 'kept in the store');
    assert.deepEqual(readdirSync(join(cacheDir, 'blobs', 'sha256')).filter((name) => name.includes('.tmp')), [], 'no partial copy left');
    runTool('umoci', ['unpack', '--image', `${layout}:kept`, join(work, 'kept-bundle')]);
    assert.equal(readFileSync(join(work, 'kept-bundle', 'rootfs', 'app', 'run.txt'), 'utf8'), 'a 1\n');
  });

  test('ADD of a URL is keyed by its ETag; without --checksum, ETag or Last-Modified it is not cached', async () => {
    let etag = '"v1"';
    let body = 'version 1\n';
    const server: Server = createServer((request, response) => {
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (request.url === '/tagged.txt') headers.etag = etag;
      response.writeHead(200, headers);
      response.end(request.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const context = join(work, 'url');
      mkdirSync(context);
      writeFileSync(join(context, 'Dockerfile'), `ARG BASE\nFROM \${BASE}\nADD http://127.0.0.1:${port}/tagged.txt /tagged.txt\nADD http://127.0.0.1:${port}/plain.txt /plain.txt\n`);
      const cacheDir = join(work, 'url-cache');
      const first = await build({ context, cacheDir, tag: 'url-1' });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /\[stage-0 3\/3\] not cached: a remote source with no --checksum/);
      const second = await build({ context, cacheDir, tag: 'url-2' });
      assert.deepEqual(steps(second).misses, ['stage-0 3'], second.stderr);
      etag = '"v2"';
      body = 'version 2\n';
      const third = await build({ context, cacheDir, tag: 'url-3' });
      assert.deepEqual(steps(third).misses, ['stage-0 2', 'stage-0 3'], third.stderr);
      assert.equal(readFileSync(join(unpack('url-3'), 'tagged.txt'), 'utf8'), 'version 2\n');
      const nocache = await build({ context, cacheDir, tag: 'url-4', flags: ['--no-cache'] });
      assert.deepEqual(steps(nocache).misses, ['stage-0 2', 'stage-0 3'], '--no-cache looks nothing up');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
