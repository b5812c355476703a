// `caisson warm` against a real docker-registry holding busybox bases made by caisson: what it puts
// in the layer store, builds on a warmed cache that need no registry (digest-pinned) or only a
// manifest GET (tags), every stage's base of a Dockerfile, the TTL (a tag still resolved, a digest
// not asked) and --force, a tag pushed again, and bad input.
// The registry is reached through a small counting proxy on 127.0.0.1, so the tests can see
// every request caisson makes, and stop answering altogether.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LayerStore } from '../../src/fs/index.js';
import type { Digest } from '../../src/image/index.js';
import { pushBusyboxBase } from '../support/busybox.js';
import { runCaisson, type CliResult } from '../support/cli.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool } from '../support/tools.js';

const skip =
  (process.getuid?.() !== 0 ? 'needs uid 0: the busybox base and the builds COPY root-owned files in-process, and RUN needs root' : undefined) ??
  missingTool('docker-registry', 'docker-registry') ??
  (existsSync('/bin/busybox') ? undefined : 'needs /bin/busybox (Debian package busybox-static)');

interface CountingProxy {
  /** `127.0.0.1:<port>`: use it as the registry host of a reference. */
  readonly host: string;
  /** `METHOD /path` of every request, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** An HTTP proxy in front of the registry that records each request; closed, it refuses connections. */
async function startProxy(upstream: string): Promise<CountingProxy> {
  const [hostname = '127.0.0.1', port = ''] = upstream.split(':');
  const requests: string[] = [];
  const server = createServer((incoming, outgoing) => {
    requests.push(`${incoming.method} ${incoming.url}`);
    const forward = request({ hostname, port: Number(port), path: incoming.url, method: incoming.method, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

interface Inspected {
  readonly digest: Digest;
  readonly layers: readonly { readonly digest: Digest }[];
}

describe('caisson warm', { skip, concurrency: 1 }, () => {
  let registry: RunningRegistry;
  let proxy: CountingProxy;
  let work: string;
  /** `<proxy>/base/busybox:1` and `<proxy>/base/other:1` (busybox plus one layer). */
  let busybox: string;
  let other: string;
  let busyboxImage: Inspected;
  let busyboxConfig: { readonly digest: Digest; readonly diffIds: readonly Digest[] };

  const cli = (argv: readonly string[]): Promise<CliResult> => runCaisson(argv, { cwd: work, env: { HOME: work } });
  const cacheDir = (name: string): string => join(work, 'caches', name);

  /** A context whose Dockerfile starts FROM `base`, then COPY (and RUN, which needs the base's busybox). */
  function writeContext(name: string, base: string): string {
    const context = join(work, name);
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, 'hello.txt'), 'hello\n');
    writeFileSync(join(context, 'Dockerfile'), `FROM ${base}\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt > /copied\n`);
    return context;
  }

  async function inspect(argv: readonly string[]): Promise<string> {
    const result = await cli(['inspect', ...argv]);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  }

  before(async () => {
    registry = await startRegistry({ setup: 'plain' });
    work = mkdtempSync(join(tmpdir(), 'caisson-warm-test-'));
    await pushBusyboxBase({ dir: join(work, 'base'), reference: `${registry.host}/base/busybox:1`, cacheDir: join(work, 'base-cache') });
    const otherContext = join(work, 'other');
    mkdirSync(otherContext);
    writeFileSync(join(otherContext, 'extra.txt'), 'extra\n');
    writeFileSync(join(otherContext, 'Dockerfile'), `FROM ${registry.host}/base/busybox:1\nCOPY extra.txt /extra.txt\n`);
    const pushed = await cli(['build', otherContext, '-d', `${registry.host}/base/other:1`, '--cache-dir', join(work, 'base-cache'), '-v', 'warn']);
    assert.equal(pushed.code, 0, pushed.stderr);
    proxy = await startProxy(registry.host);
    busybox = `${proxy.host}/base/busybox:1`;
    other = `${proxy.host}/base/other:1`;
    busyboxImage = JSON.parse(await inspect([busybox])) as Inspected;
    const manifest = JSON.parse(await inspect(['--raw', busybox])) as { config: { digest: Digest } };
    const config = JSON.parse(await inspect(['--config', busybox])) as { rootfs: { diff_ids: Digest[] } };
    busyboxConfig = { digest: manifest.config.digest, diffIds: config.rootfs.diff_ids };
  });

  after(async () => {
    await proxy?.close();
    await registry?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  test('--image into an empty cache: the manifest, config and layer blobs, each layer extracted; REF@DIGEST on stdout', async () => {
    const cache = cacheDir('image');
    const result = await cli(['warm', '--image', busybox, '--cache-dir', cache]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${busybox}@${busyboxImage.digest}\n`);
    const layerCount = busyboxImage.layers.length;
    assert.match(result.stderr, new RegExp(`warmed ${busybox}@${busyboxImage.digest} \\(linux/\\w+\\): layers: ${layerCount} fetched, 0 already present, ${layerCount} extracted, [\\d.]+ \\w+ in [\\d.]+ s`));

    const store = new LayerStore({ root: cache });
    for (const digest of [busyboxImage.digest, busyboxConfig.digest, ...busyboxImage.layers.map((layer) => layer.digest)]) {
      assert.ok((await store.useBlob(digest)) !== undefined, `the store has blob ${digest}`);
    }
    for (const diffId of busyboxConfig.diffIds) {
      const root = await store.findLayer(diffId);
      assert.ok(root !== undefined && existsSync(join(root, 'bin', 'busybox')), `layer ${diffId} is extracted, with /bin/busybox`);
    }
    const du = await cli(['cache', 'du', '--json', '--cache-dir', cache]);
    const usage = JSON.parse(du.stdout) as { blobs: { count: number }; layers: { count: number }; staging: { count: number } };
    assert.deepEqual(usage, { ...usage, blobs: { ...usage.blobs, count: 2 + layerCount }, layers: { ...usage.layers, count: busyboxConfig.diffIds.length }, staging: { count: 0 } });
  });

  test('a build FROM the warmed digest runs with the registry unreachable: nothing is downloaded or asked', async () => {
    const cache = cacheDir('offline');
    // A proxy of its own, stopped after the warm: the host name then refuses every connection.
    const gone = await startProxy(registry.host);
    const pinned = `${gone.host}/base/busybox@${busyboxImage.digest}`;
    const warmed = await cli(['warm', '-i', pinned, '-c', cache]);
    assert.equal(warmed.code, 0, warmed.stderr);
    assert.equal(warmed.stdout, `${pinned}\n`);
    await gone.close();

    const context = writeContext('offline-context', pinned);
    const layout = join(work, 'offline-layout');
    const built = await cli(['build', context, '--cache-dir', cache, '--no-push', '--oci-layout-path', layout]);
    assert.equal(built.code, 0, `the build needed the registry: ${built.stderr}`);
    const image = JSON.parse(await inspect([`oci:${layout}`])) as Inspected;
    assert.deepEqual(
      image.layers.slice(0, busyboxImage.layers.length).map((layer) => layer.digest),
      busyboxImage.layers.map((layer) => layer.digest),
      "the base's layers, written into the layout from the store",
    );
    assert.equal(image.layers.length, busyboxImage.layers.length + 2, 'COPY and RUN added a layer each');

    // The control: the same host by tag is asked of the registry, and it is not there.
    const byTag = await cli(['build', writeContext('tag-context', `${gone.host}/base/busybox:1`), '--cache-dir', cache, '--no-push']);
    assert.equal(byTag.code, 5, byTag.stderr);
    assert.match(byTag.stderr, new RegExp(`${gone.host}`));
  });

  test('a build FROM a warmed tag asks the registry for the manifest only, never a blob', async () => {
    const cache = cacheDir('tag');
    assert.equal((await cli(['warm', '-i', busybox, '-c', cache])).code, 0);
    proxy.requests.length = 0;
    const built = await cli(['build', writeContext('tag-build', busybox), '--cache-dir', cache, '--no-push']);
    assert.equal(built.code, 0, built.stderr);
    const asked = proxy.requests.filter((line) => line !== 'GET /v2/');
    assert.deepEqual(asked.filter((line) => line.includes('/blobs/')), [], 'no blob requests');
    assert.deepEqual(asked, [`GET /v2/base/busybox/manifests/1`], 'one manifest GET for the tag');
  });

  test("--dockerfile warms every stage's FROM image (build args applied), skipping stages and scratch", async () => {
    const cache = cacheDir('dockerfile');
    const dockerfile = join(work, 'stages.Dockerfile');
    writeFileSync(dockerfile, `ARG OTHER\nFROM ${busybox} AS first\nFROM first AS second\nFROM scratch AS empty\nFROM \${OTHER} AS last\nCOPY --from=second /bin/busybox /b\n`);
    const result = await cli(['warm', '-d', dockerfile, '--build-arg', `OTHER=${other}`, '-c', cache]);
    assert.equal(result.code, 0, result.stderr);
    const otherImage = JSON.parse(await inspect([other])) as Inspected;
    assert.equal(result.stdout, `${busybox}@${busyboxImage.digest}\n${other}@${otherImage.digest}\n`);
    const n = busyboxImage.layers.length;
    assert.match(result.stderr, new RegExp(`warmed ${other}@${otherImage.digest} \\(linux/\\w+\\): layers: 1 fetched, ${n} already present, 1 extracted`), 'the shared busybox layer is not fetched twice');
    const store = new LayerStore({ root: cache });
    for (const layer of otherImage.layers) assert.ok((await store.useBlob(layer.digest)) !== undefined, `the store has ${layer.digest}`);
    assert.equal((await store.usage()).layers.count, n + 1);
  });

  test('--dockerfile given as an http URL, as kaniko\'s warmer takes one: downloaded, its FROM images warmed', async () => {
    const server = createServer((incoming, response) => {
      response.writeHead(incoming.url === '/Dockerfile' ? 200 : 404, { 'content-type': 'text/plain' });
      response.end(incoming.url === '/Dockerfile' ? `FROM ${busybox}\n` : 'not found\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const warmed = await cli(['warm', '-d', `http://127.0.0.1:${port}/Dockerfile`, '-c', cacheDir('url')]);
      assert.equal(warmed.code, 0, warmed.stderr);
      assert.equal(warmed.stdout, `${busybox}@${busyboxImage.digest}\n`);
      const missing = await cli(['warm', '-d', `http://127.0.0.1:${port}/gone`, '-c', cacheDir('url')]);
      assert.equal(missing.code, 4, missing.stderr);
      assert.match(missing.stderr, new RegExp(`error: cannot read Dockerfile http://127\\.0\\.0\\.1:${port}/gone: the server answered 404 \\[ERR_INPUT_NOT_FOUND\\]`));
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('twice within --cache-ttl: the second fetches nothing, asking only for the tag\'s manifest (a digest: nothing); --cache-ttl 0s asks again; --force downloads again', async () => {
    const cache = cacheDir('ttl');
    const n = busyboxImage.layers.length;
    const first = await cli(['warm', '-i', busybox, '-c', cache]);
    assert.match(first.stderr, new RegExp(`layers: ${n} fetched, 0 already present`));
    proxy.requests.length = 0;
    const second = await cli(['warm', '-i', busybox, '-c', cache, '--cache-ttl', '1h']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    assert.match(second.stderr, /already warm \(warmed \d+ s ago, within --cache-ttl 1h\): nothing fetched/);
    assert.deepEqual(proxy.requests.filter((line) => line !== 'GET /v2/'), ['GET /v2/base/busybox/manifests/1'], 'within the TTL, a tag is resolved: one manifest request, no blob');

    const pinned = `${proxy.host}/base/busybox@${busyboxImage.digest}`;
    assert.equal((await cli(['warm', '-i', pinned, '-c', cache])).code, 0);
    proxy.requests.length = 0;
    const byDigest = await cli(['warm', '-i', pinned, '-c', cache, '--cache-ttl', '1h']);
    assert.equal(byDigest.code, 0, byDigest.stderr);
    assert.equal(byDigest.stdout, `${pinned}\n`);
    assert.match(byDigest.stderr, /already warm \(warmed \d+ s ago, within --cache-ttl 1h\): nothing fetched/);
    assert.deepEqual([...proxy.requests], [], 'within the TTL, a digest asks the registry nothing');

    const expired = await cli(['warm', '-i', busybox, '-c', cache, '--cache-ttl', '0s']);
    assert.match(expired.stderr, new RegExp(`layers: 0 fetched, ${n} already present, 0 extracted`));
    assert.ok(proxy.requests.some((line) => line.includes('/manifests/1')), 'the tag was resolved again');
    assert.ok(!proxy.requests.some((line) => line.includes('/blobs/')), 'but no blob was downloaded');

    const forced = await cli(['warm', '-f', '-i', busybox, '-c', cache]);
    assert.match(forced.stderr, new RegExp(`layers: ${n} fetched, 0 already present, 0 extracted`), 'blobs downloaded again; the extracted layer is kept');
  });

  test('a tag pushed again within --cache-ttl: the image it names now is warmed, and printed with its new digest', async () => {
    const cache = cacheDir('moved');
    const moving = `${proxy.host}/base/moving:1`;
    const otherImage = JSON.parse(await inspect([other])) as Inspected;
    assert.equal((await cli(['copy', busybox, moving])).code, 0);
    const first = await cli(['warm', '-i', moving, '-c', cache]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `${moving}@${busyboxImage.digest}\n`);

    assert.equal((await cli(['copy', other, moving])).code, 0, 'the tag now names other:1');
    proxy.requests.length = 0;
    const second = await cli(['warm', '-i', moving, '-c', cache, '--cache-ttl', '1h']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, `${moving}@${otherImage.digest}\n`);
    assert.notEqual(second.stdout, first.stdout);
    const n = busyboxImage.layers.length;
    assert.match(second.stderr, new RegExp(`warmed ${moving}@${otherImage.digest} \\(linux/\\w+\\): the tag moved \\(it named ${busyboxImage.digest} when last warmed\\); layers: 1 fetched, ${n} already present, 1 extracted`));
    assert.ok(proxy.requests.some((line) => line.includes('/blobs/')), 'the new layer was downloaded');
  });

  test('an image that cannot be warmed is warned about, naming it (and its FROM line), and the others are warmed: exit 0, stdout only theirs', async () => {
    const cache = cacheDir('partial');
    const absent = `${proxy.host}/base/absent:1`;
    const result = await cli(['warm', '-i', absent, '-i', busybox, '-c', cache]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${busybox}@${busyboxImage.digest}\n`, 'nothing printed for the image not warmed');
    const warning = result.stderr.split('\n').find((line) => line.startsWith('warn: '));
    assert.ok(warning?.includes(absent) === true && warning.includes('[ERR_MANIFEST_UNKNOWN]') && warning.endsWith('not warmed, skipped'), result.stderr);
    assert.match(result.stderr, new RegExp(`warmed ${busybox}@${busyboxImage.digest} `));
    assert.doesNotMatch(result.stderr, /^error:/m);

    const dockerfile = join(work, 'partial.Dockerfile');
    writeFileSync(dockerfile, `FROM ${busybox} AS first\nFROM ${proxy.host}/base/absent:2\n`);
    const fromLines = await cli(['warm', '-d', dockerfile, '-c', cache, '--log-format', 'json']);
    assert.equal(fromLines.code, 0, fromLines.stderr);
    assert.equal(fromLines.stdout, `${busybox}@${busyboxImage.digest}\n`);
    const warned = fromLines.stderr.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { level: string; msg: string; code?: string; reference?: string }).filter((line) => line.level === 'warn');
    assert.equal(warned.length, 1, fromLines.stderr);
    assert.ok(warned[0]?.msg.startsWith(`${dockerfile}:2: `) === true && warned[0].msg.includes(`${proxy.host}/base/absent:2`), warned[0]?.msg);
    assert.deepEqual({ code: warned[0]?.code, reference: warned[0]?.reference }, { code: 'ERR_MANIFEST_UNKNOWN', reference: `${proxy.host}/base/absent:2` });
  });

  test('every image failing: each warned, then the first error, with its exit code; nothing on stdout', async () => {
    const cache = cacheDir('all-failed');
    const absent = `${proxy.host}/base/absent:1`;
    const result = await cli(['warm', '-i', absent, '-i', 'Bad/Ref', '-c', cache]);
    assert.equal(result.code, 6, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.split('\n').filter((line) => line.startsWith('warn: ')).length, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`^error: none of the 2 images could be warmed \\(each is warned above\\); the first: .*${absent}.* \\[ERR_MANIFEST_UNKNOWN\\]$`, 'm'));
    assert.equal((await new LayerStore({ root: cache }).usage()).blobs.count, 0);
  });

  test('--platform that a single image (no index) is not for: warned as a build warns (InvalidBaseImagePlatform), labelled with its own platform', async () => {
    const cache = cacheDir('platform');
    const config = JSON.parse(await inspect(['--config', busybox])) as { os: string; architecture: string };
    const own = `${config.os}/${config.architecture}`;
    const asked = `linux/${config.architecture === 'arm64' ? 'amd64' : 'arm64'}`;
    const warning = `${busybox}@${busyboxImage.digest} is a single image for ${own}, not for ${asked} (InvalidBaseImagePlatform): warmed as it is`;
    const first = await cli(['warm', '--platform', asked, '-i', busybox, '-c', cache]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `${busybox}@${busyboxImage.digest}\n`);
    assert.ok(first.stderr.includes(`warn: ${warning}\n`), first.stderr);
    assert.ok(first.stderr.includes(`warmed ${busybox}@${busyboxImage.digest} (${own}): `), first.stderr);
    assert.ok(!first.stderr.includes(`(${asked})`), first.stderr);

    const again = await cli(['warm', '--platform', asked, '-i', busybox, '-c', cache]);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(again.stderr.includes(`warn: ${warning}\n`), again.stderr);
    assert.ok(again.stderr.includes(`${busybox}@${busyboxImage.digest} (${own}): already warm`), again.stderr);

    const dockerfile = join(work, 'platform.Dockerfile');
    writeFileSync(dockerfile, `FROM --platform=${asked} ${busybox}\n`);
    const fromLine = await cli(['warm', '-d', dockerfile, '-c', cache]);
    assert.equal(fromLine.code, 0, fromLine.stderr);
    assert.ok(fromLine.stderr.includes(`warn: ${dockerfile}:1: ${warning}\n`), fromLine.stderr);
  });

  test('bad input: the error names the reference, the Dockerfile line or the flag', async () => {
    const cache = cacheDir('bad');
    const missing = await cli(['warm', '-i', `${busybox}-nope`, '-c', cache]);
    assert.equal(missing.code, 6, missing.stderr);
    assert.match(missing.stderr, /ERR_MANIFEST_UNKNOWN/);
    assert.ok(missing.stderr.includes(`${busybox}-nope`), missing.stderr);

    const invalid = await cli(['warm', '-i', 'Bad/Ref', '-c', cache]);
    assert.equal(invalid.code, 6, invalid.stderr);
    assert.match(invalid.stderr, /invalid image reference "Bad\/Ref"/);

    const dockerfile = join(work, 'missing.Dockerfile');
    writeFileSync(dockerfile, `FROM scratch AS a\nFROM ${proxy.host}/base/absent:2\n`);
    const fromLine = await cli(['warm', '-d', dockerfile, '-c', cache]);
    assert.equal(fromLine.code, 6, fromLine.stderr);
    assert.ok(fromLine.stderr.includes(`${proxy.host}/base/absent:2`), fromLine.stderr);
    assert.match(fromLine.stderr, /missing\.Dockerfile:2/);

    const nothing = await cli(['warm', '-c', cache]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /caisson warm needs images: give --image REF \(repeatable\) or --dockerfile PATH/);
    assert.match(nothing.stderr, /caisson warm --image alpine:3\.20/);

    const ttl = await cli(['warm', '-i', busybox, '-c', cache, '--cache-ttl', 'forever']);
    assert.equal(ttl.code, 2);
    assert.match(ttl.stderr, /--cache-ttl "forever" is not a duration/);
    assert.equal((await new LayerStore({ root: cache }).usage()).blobs.count, 0, 'nothing was stored by the failures');
  });
});

describe('caisson warm: the kaniko warmer flags it refuses', () => {
  test('--skip-default-registry-fallback and --log-timestamp: a usage error saying why, as for build', async () => {
    const cwd = tmpdir();
    for (const [flag, reason] of [
      ['--skip-default-registry-fallback', 'mirrors (--registry-mirror) always fall back to the registry'],
      ['--log-timestamp', 'use --log-format json, whose lines carry the time'],
    ] as const) {
      for (const command of ['warm', 'build']) {
        const result = await runCaisson([command, flag], { cwd });
        assert.equal(result.code, 2, result.stderr);
        assert.ok(result.stderr.includes(`${flag} is not supported by caisson: ${reason}`), `${command}: ${result.stderr}`);
      }
    }
    const help = await runCaisson(['warm', '--help'], { cwd });
    assert.match(help.stdout, /kaniko flags refused \(giving one is an error\):\n {2}--skip-default-registry-fallback: .*\n {2}--log-timestamp: /);
  });
});
