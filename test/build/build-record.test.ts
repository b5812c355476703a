/**
 * Build records end to end, against a real docker-registry: a rebuild with nothing changed is
 * answered from the record (the same image, its digest files written again, nothing written to
 * the registry, skopeo reading the same digest); every input the record names makes the next
 * build run instead (a context file, the Dockerfile, a .dockerignore that appears, the base tag
 * or the destination tag moving); and what leaves no record or is not used (a context written
 * within the racy window, ADD of a URL without --checksum, --no-cache, a corrupt or expired record,
 * a record whose cache entries are past --cache-ttl, an index one of whose images was deleted);
 * build's front door (src/cli/replay.ts), in-process and as bin/caisson.js runs it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { replayBuild } from '../../src/cli/replay.js';
import { pushBusyboxBase } from '../support/busybox.js';
import { runCaisson, type CliResult } from '../support/cli.js';
import { projectRoot } from '../support/paths.js';
import { answeredRequests, startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';

const skip = process.getuid?.() !== 0 ? 'needs uid 0: RUN runs in a namespace sandbox as root' : (missingTool('docker-registry', 'docker-registry') ?? missingTool('skopeo', 'skopeo'));

/** Longer than file-stamp.ts's racy window: files written before it are stamped by the next build. */
const PAST_RACY_WINDOW_MS = 250;

const replayed = (result: CliResult): boolean => /no change since the build of /.test(result.stderr);

function assertReplayed(result: CliResult): void {
  assert.equal(result.code, 0, result.stderr);
  assert.ok(replayed(result), `answered from the record:\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, /^\[stage-/m, 'no step is planned');
}

function assertBuilt(result: CliResult): void {
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!replayed(result), `built, not answered from the record:\n${result.stderr}`);
  assert.match(result.stderr, /^\[stage-0 \d+\/\d+\] COPY/m);
}

describe('build records', { skip, concurrency: 1 }, () => {
  let registry: RunningRegistry;
  let work: string;
  let base: string;

  before(async () => {
    registry = await startRegistry({ setup: 'plain', accessLog: true });
    work = mkdtempSync(join(tmpdir(), 'caisson-record-test-'));
    base = `${registry.host}/base/busybox:1`;
    await pushBusyboxBase({ dir: join(work, 'base'), reference: base, cacheDir: join(work, 'base-cache') });
  });

  after(async () => {
    await registry?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  /** A context COPYing src/ into an image FROM `from`, written long enough ago to be stamped. */
  async function writeContext(name: string, from: string): Promise<string> {
    const context = join(work, name);
    mkdirSync(join(context, 'src'), { recursive: true });
    writeFileSync(join(context, 'Dockerfile'), `FROM ${from}\nCOPY src/ /src/\nRUN cat /src/a.txt > /copied.txt\n`);
    writeFileSync(join(context, 'src', 'a.txt'), 'a\n');
    writeFileSync(join(context, 'src', 'b.txt'), 'b\n');
    await sleep(PAST_RACY_WINDOW_MS);
    return context;
  }

  const build = (options: { readonly context: string; readonly cacheDir: string; readonly destination: string; readonly flags?: readonly string[] }): Promise<CliResult> =>
    runCaisson(['build', options.context, '-d', options.destination, '--cache-dir', options.cacheDir, ...(options.flags ?? [])], { cwd: work });

  const digestOf = (reference: string): string => (JSON.parse(runTool('skopeo', ['inspect', '--tls-verify=false', `docker://${reference}`])) as { Digest: string }).Digest;
  const records = (cacheDir: string): string[] => readdirSync(join(cacheDir, 'cache', 'builds')).filter((name) => name.endsWith('.json'));

  test('a rebuild with nothing changed is answered from the record: the same image, its digest files, nothing written', async () => {
    const context = await writeContext('same', base);
    const cacheDir = join(work, 'same-cache');
    const destination = `${registry.host}/record/same:1`;
    const digestFile = join(work, 'same.digest');
    const named = join(work, 'same.names');
    const flags = ['--digest-file', digestFile, '--image-name-with-digest-file', named];
    const first = await build({ context, cacheDir, destination, flags });
    assertBuilt(first);
    assert.equal(records(cacheDir).length, 1, 'the build filed its record');
    const digest = readFileSync(digestFile, 'utf8');
    rmSync(digestFile);
    rmSync(named);

    const before = (await answeredRequests(registry)).length;
    const again = await build({ context, cacheDir, destination, flags });
    await (await fetch(`${registry.url}/v2/?after=again`)).arrayBuffer();
    assertReplayed(again);
    assert.equal(again.stdout, first.stdout, 'the same image, printed the same way');
    assert.equal(readFileSync(digestFile, 'utf8'), digest, '--digest-file written again');
    assert.equal(readFileSync(named, 'utf8'), `${registry.host}/record/same@${digest}\n`);
    const asked = (await answeredRequests(registry, 'GET /v2/?after=again')).slice(before, -1);
    assert.ok(asked.includes('HEAD /v2/record/same/manifests/1'), `the destination is asked what it holds: ${asked.join(', ')}`);
    assert.ok(asked.includes('HEAD /v2/base/busybox/manifests/1'), `the base tag is resolved again: ${asked.join(', ')}`);
    assert.deepEqual(asked.filter((request) => request.startsWith('GET /v2/') && request !== 'GET /v2/'), [], `no manifest or blob is read: ${asked.join(', ')}`);
    assert.deepEqual(asked.filter((request) => !request.startsWith('GET ') && !request.startsWith('HEAD ')), [], `nothing written: ${asked.join(', ')}`);
    assert.equal(digestOf(destination), digest, 'skopeo reads the image the record names');

    // Only the log's look differs: the same request.
    const quiet = await build({ context, cacheDir, destination, flags: [...flags, '-v', 'warn', '--log-format', 'json'] });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, first.stdout);
    assert.doesNotMatch(quiet.stderr, /\[stage-/);
    assert.equal(records(cacheDir).length, 1, 'no second record for another verbosity');
  });

  test('each input the record names makes the next build run: a context file, the Dockerfile, .dockerignore, the base tag, the destination tag', async () => {
    const movingBase = `${registry.host}/base/busybox:moving`;
    runTool('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${base}`, `docker://${movingBase}`]);
    const context = await writeContext('inputs', movingBase);
    const cacheDir = join(work, 'inputs-cache');
    const destination = `${registry.host}/record/inputs:1`;
    const go = (): Promise<CliResult> => build({ context, cacheDir, destination });
    assertBuilt(await go());
    assertReplayed(await go());

    // A context file: the build runs (COPY misses), and files a record the next build uses.
    writeFileSync(join(context, 'src', 'a.txt'), 'a changed\n');
    await sleep(PAST_RACY_WINDOW_MS);
    const changed = await go();
    assertBuilt(changed);
    assert.doesNotMatch(changed.stderr, /\[stage-0 2\/3\] cached/, 'the COPY of the changed file ran');
    assertReplayed(await go());

    // The Dockerfile, rewritten just now: it is read whole, so the build's record holds at once.
    writeFileSync(join(context, 'Dockerfile'), `${readFileSync(join(context, 'Dockerfile'), 'utf8')}LABEL edited=yes\n`);
    assertBuilt(await go());
    assertReplayed(await go());

    // A .dockerignore where there was none.
    writeFileSync(join(context, '.dockerignore'), 'src/b.txt\n');
    await sleep(PAST_RACY_WINDOW_MS);
    const ignored = await go();
    assertBuilt(ignored);
    assertReplayed(await go());

    // The base tag moves (to the image built above, a busybox too): every key changes.
    const previous = digestOf(destination);
    runTool('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${destination}`, `docker://${movingBase}`]);
    const rebased = await go();
    assertBuilt(rebased);
    assert.notEqual(digestOf(destination), previous, 'a new image on the new base');
    assertReplayed(await go());

    // Someone else's image on the destination tag: the build runs (every step from the cache) and pushes ours back.
    const ours = digestOf(destination);
    runTool('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${base}`, `docker://${destination}`]);
    assert.notEqual(digestOf(destination), ours);
    const overwritten = await go();
    assertBuilt(overwritten);
    assert.match(overwritten.stderr, /\[stage-0 2\/4\] cached/);
    assert.equal(digestOf(destination), ours, 'the tag holds our image again');
  });

  test('no record is filed or used for a context changed within the racy window, ADD of a URL without --checksum, --no-cache', async () => {
    const context = join(work, 'fresh');
    mkdirSync(join(context, 'src'), { recursive: true });
    writeFileSync(join(context, 'Dockerfile'), `FROM ${base}\nCOPY src/ /src/\n`);
    writeFileSync(join(context, 'src', 'a.txt'), 'just written\n');
    const cacheDir = join(work, 'fresh-cache');
    const destination = `${registry.host}/record/fresh:1`;
    assertBuilt(await build({ context, cacheDir, destination }));
    assert.ok(!existsSync(join(cacheDir, 'cache', 'builds')) || records(cacheDir).length === 0, 'a file changed just before the build: no record');
    await sleep(PAST_RACY_WINDOW_MS);
    assertBuilt(await build({ context, cacheDir, destination }));
    assertReplayed(await build({ context, cacheDir, destination }));
    const forced = await build({ context, cacheDir, destination, flags: ['--no-cache'] });
    assertBuilt(forced);

    const server: Server = createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain', etag: '"v1"' });
      response.end(request.method === 'HEAD' ? undefined : 'served\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const remote = join(work, 'remote');
      mkdirSync(join(remote, 'src'), { recursive: true });
      writeFileSync(join(remote, 'Dockerfile'), `FROM ${base}\nCOPY src/ /src/\nADD http://127.0.0.1:${port}/file.txt /file.txt\n`);
      writeFileSync(join(remote, 'src', 'a.txt'), 'a\n');
      await sleep(PAST_RACY_WINDOW_MS);
      const remoteCache = join(work, 'remote-cache');
      const go = (): Promise<CliResult> => build({ context: remote, cacheDir: remoteCache, destination: `${registry.host}/record/remote:1`, flags: ['-v', 'debug'] });
      const first = await go();
      assertBuilt(first);
      assert.match(first.stderr, /no build record: \[stage-0 3\/3\] reads http:\/\/127\.0\.0\.1:\d+\/file\.txt without --checksum/);
      const second = await go();
      assertBuilt(second);
      assert.match(second.stderr, /\[stage-0 3\/3\] cached/, 'the step cache still answers, by the ETag');
      assert.ok(!existsSync(join(remoteCache, 'cache', 'builds')) || records(remoteCache).length === 0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a record answers no longer than --cache-ttl after the oldest cache entry its image is made of', async () => {
    const context = await writeContext('aging', base);
    const cacheDir = join(work, 'aging-cache');
    const go = (): Promise<CliResult> => build({ context, cacheDir, destination: `${registry.host}/record/aging:1` });
    assertBuilt(await go());
    const hours = 3_600_000;
    const entries = join(cacheDir, 'cache', 'entries');
    const older = (file: string, fields: readonly string[], ms: number): void => {
      const value = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      for (const field of fields) value[field] = new Date(Date.parse(value[field] as string) - ms).toISOString();
      writeFileSync(file, JSON.stringify(value));
    };
    const ageEntries = (ms: number): void => {
      for (const name of readdirSync(entries).filter((entry) => entry.endsWith('.json'))) older(join(entries, name), ['stored'], ms);
    };
    // Entries 300 hours old, within the default 336h: a build whose record no longer holds (a
    // context file touched, its content the same) takes every step from them, and files a new record.
    ageEntries(300 * hours);
    utimesSync(join(context, 'src', 'a.txt'), new Date(), new Date());
    await sleep(PAST_RACY_WINDOW_MS);
    const again = await go();
    assertBuilt(again);
    assert.match(again.stderr, /\[stage-0 3\/3\] cached \(local\)/, again.stderr);
    assertReplayed(await go());
    // 40 hours on (every time moved back, the record's too): its entries are past the TTL, so a
    // build would run the steps again, and the record, itself 40 hours old, must not answer.
    ageEntries(40 * hours);
    for (const name of records(cacheDir)) older(join(cacheDir, 'cache', 'builds', name), ['created', 'oldest'], 40 * hours);
    const later = await go();
    assertBuilt(later);
    assert.doesNotMatch(later.stderr, /\[stage-0 3\/3\] cached/, 'the RUN ran again');
  });

  test('an index whose image was deleted from the destination is pushed again, not answered from the record', async () => {
    const context = join(work, 'index');
    mkdirSync(join(context, 'src'), { recursive: true });
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY src/ /src/\n');
    writeFileSync(join(context, 'src', 'a.txt'), 'a\n');
    await sleep(PAST_RACY_WINDOW_MS);
    const destination = `${registry.host}/record/index:1`;
    const go = (): Promise<CliResult> => build({ context, cacheDir: join(work, 'index-cache'), destination, flags: ['--platform', 'linux/amd64,linux/arm64'] });
    const first = await go();
    assert.equal(first.code, 0, first.stderr);
    assertReplayed(await go());
    const index = JSON.parse(runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${destination}`])) as { manifests: { digest: string }[] };
    const child = `${registry.url}/v2/record/index/manifests/${index.manifests[1]?.digest ?? ''}`;
    assert.equal((await fetch(child, { method: 'DELETE' })).status, 202);
    assert.equal((await fetch(child, { method: 'HEAD' })).status, 404);
    const again = await go();
    assert.equal(again.code, 0, again.stderr);
    assert.ok(!replayed(again), `built, not answered from the record:\n${again.stderr}`);
    assert.equal((await fetch(child, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status, 200, 'the image is back');
  });

  test('a corrupt record is removed with a warning and the build runs; an expired one is not used', async () => {
    const context = await writeContext('corrupt', base);
    const cacheDir = join(work, 'corrupt-cache');
    const destination = `${registry.host}/record/corrupt:1`;
    const go = (flags: readonly string[] = []): Promise<CliResult> => build({ context, cacheDir, destination, flags });
    assertBuilt(await go());
    const [name] = records(cacheDir);
    const file = join(cacheDir, 'cache', 'builds', name as string);
    const record = readFileSync(file, 'utf8');
    writeFileSync(file, record.slice(0, record.length / 2));
    const repaired = await go();
    assertBuilt(repaired);
    assert.match(repaired.stderr, new RegExp(`warn: build record ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is corrupt; removed, the build runs`));
    assertReplayed(await go());

    // Written a month ago: older than --cache-ttl's 336h.
    const expired = JSON.parse(readFileSync(file, 'utf8')) as { created: string; oldest: string };
    const monthAgo = new Date(Date.now() - 30 * 24 * 3600_000).toISOString();
    writeFileSync(file, JSON.stringify({ ...expired, created: monthAgo, oldest: monthAgo }));
    assertBuilt(await go());
    assertReplayed(await go());
  });

  test('the front door (replayBuild) answers a no-change rebuild, checks a changed one, and leaves the rest to runCli', async () => {
    const context = await writeContext('front-door', base);
    const cacheDir = join(work, 'front-door-cache');
    const destination = `${registry.host}/record/front-door:1`;
    const argv = ['build', context, '-d', destination, '--cache-dir', cacheDir];
    const ask = async (words: readonly string[]): Promise<{ outcome: string; stdout: string; stderr: string }> => {
      let stdout = '';
      let stderr = '';
      const io = { stdout: (text: string) => (stdout += text), stderr: (text: string) => (stderr += text), env: {}, cwd: work, readStdin: async () => '' };
      return { outcome: await replayBuild(words, io), stdout, stderr };
    };
    assert.deepEqual(await ask(argv), { outcome: 'checked', stdout: '', stderr: '' }, 'no record yet: checked, the build runs');
    const first = await runCaisson(argv, { cwd: work });
    assertBuilt(first);
    const answered = await ask(argv);
    assert.equal(answered.outcome, 'answered');
    assert.equal(answered.stdout, first.stdout, 'the image, printed as the build printed it');
    assert.match(answered.stderr, /^no change since the build of /);
    // What runCli reports or runs in full, the front door leaves alone, saying nothing.
    for (const words of [['lint', join(context, 'Dockerfile')], ['build', '--no-such-flag'], ['build', '--help'], [...argv, '--no-push'], [...argv, '--no-cache']]) {
      assert.deepEqual(await ask(words), { outcome: 'unchecked', stdout: '', stderr: '' }, words.join(' '));
    }
    writeFileSync(join(context, 'src', 'a.txt'), 'changed\n');
    await sleep(PAST_RACY_WINDOW_MS);
    const changed = await ask([...argv, '-v', 'debug']);
    assert.equal(changed.outcome, 'checked');
    assert.match(changed.stderr, /^debug: build record [0-9a-f]{16}: .* changed; the build runs$/m);
  });

  test('bin/caisson.js: a no-change rebuild is answered at the front door; a changed one reads its record once, then builds', async () => {
    const context = await writeContext('bin', base);
    const cacheDir = join(work, 'bin-cache');
    const destination = `${registry.host}/record/bin:1`;
    const bin = (flags: readonly string[] = []): CliResult => {
      const result = spawnSync(process.execPath, [join(projectRoot(), 'bin', 'caisson.js'), 'build', context, '-d', destination, '--cache-dir', cacheDir, ...flags], { encoding: 'utf8', cwd: work });
      return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
    };
    const first = bin();
    assertBuilt(first);
    const again = bin();
    assertReplayed(again);
    assert.equal(again.stdout, first.stdout);
    writeFileSync(join(context, 'src', 'a.txt'), 'changed\n');
    await sleep(PAST_RACY_WINDOW_MS);
    const changed = bin(['-v', 'debug']);
    assertBuilt(changed);
    assert.equal(changed.stderr.match(/^debug: build record [0-9a-f]{16}: .*$/gm)?.length, 1, `the record is read once:\n${changed.stderr}`);
    assert.notEqual(changed.stdout, first.stdout, 'a new image');
    const last = bin();
    assertReplayed(last);
    assert.equal(last.stdout, changed.stdout);
  });
});
