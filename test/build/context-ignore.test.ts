// The context as a step's key sees it and as the step reads it, through `caisson build` (an OCI
// layout): what .dockerignore leaves out is neither in the image nor in a step's key, also beside a
// `!` rule that may bring back paths below an excluded name, nor seen by a RUN through a read-only
// bind mount of the context, so a change to an excluded file neither reaches the image nor misses;
// and a file changed between its hashing and the copy leaves no cache entry behind.
import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decompressLayer, readTar } from '../../src/fs/index.js';
import { BUSYBOX, writeBusyboxContext } from '../support/busybox.js';
import { runCli } from '../../src/cli/index.js';
import { runCaisson } from '../support/cli.js';

const runSkip = process.getuid?.() !== 0 ? 'needs uid 0: RUN runs in a namespace sandbox as root' : existsSync(BUSYBOX) ? undefined : 'needs busybox-static (/bin/busybox)';

let work = '';
before(() => {
  work = mkdtempSync(join(tmpdir(), 'caisson-context-ignore-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Builds `context` into a new layout on the shared cache; the names in each layer, and the log. */
async function build(context: string, name: string, extra: readonly string[] = []): Promise<{ readonly layers: string[][]; readonly files: Map<string, string>; readonly stderr: string }> {
  const layout = join(work, name);
  const result = await runCaisson(['build', context, '--no-push', '--oci-layout-path', layout, '--cache-dir', join(work, 'cache'), ...extra], { cwd: work, env: { HOME: work } });
  assert.equal(result.code, 0, result.stderr);
  const blob = (digest: string): string => join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]?.digest ?? ''), 'utf8')) as { layers: { digest: string }[] };
  const layers: string[][] = [];
  const files = new Map<string, string>();
  for (const layer of manifest.layers) {
    const { chunks } = await decompressLayer({ source: createReadStream(blob(layer.digest)), what: 'layer' });
    const names: string[] = [];
    for await (const entry of readTar(chunks, 'layer')) {
      const path = entry.header.name.replace(/^\.?\//, '').replace(/\/$/, '');
      names.push(path);
      const parts: Buffer[] = [];
      for await (const part of entry.content()) parts.push(part);
      files.set(path, Buffer.concat(parts).toString('utf8'));
    }
    layers.push(names.sort());
  }
  return { layers, files, stderr: result.stderr };
}

describe('caisson build: .dockerignore', () => {
  test('an excluded file stays out beside a `!` rule for paths below its name, and changing it does not miss', async () => {
    const context = join(work, 'context');
    mkdirSync(join(context, 'src'), { recursive: true });
    writeFileSync(join(context, '.env'), 'TOKEN=one\n');
    writeFileSync(join(context, '.env.example'), 'TOKEN=\n');
    writeFileSync(join(context, 'app.js'), 'app\n');
    writeFileSync(join(context, 'src', 'debug.log'), 'log\n');
    writeFileSync(join(context, 'src', 'keep.log'), 'kept\n');
    writeFileSync(join(context, '.dockerignore'), '.env\n!**/.env.example\nsrc/*.log\n!**/keep.log\n');
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY . /app/\nCOPY src/ /src/\n');
    const first = await build(context, 'first');
    const expected = [['app', 'app/.dockerignore', 'app/.env.example', 'app/Dockerfile', 'app/app.js', 'app/src', 'app/src/keep.log'], ['src', 'src/keep.log']];
    assert.deepEqual(first.layers, expected);
    writeFileSync(join(context, '.env'), 'TOKEN=two\n');
    writeFileSync(join(context, 'src', 'debug.log'), 'log, longer\n');
    const second = await build(context, 'second');
    assert.match(second.stderr, /\[stage-0 2\/3\] cached \(local\)/);
    assert.match(second.stderr, /\[stage-0 3\/3\] cached \(local\)/);
    assert.deepEqual(second.layers, expected);
  });

  test('a RUN with a read-only bind mount of the context sees no excluded file, so its change does not miss', { skip: runSkip }, async () => {
    const base = join(work, 'busybox');
    writeBusyboxContext(base);
    const context = join(work, 'bind-context');
    mkdirSync(join(context, 'conf'), { recursive: true });
    writeFileSync(join(context, 'conf', 'app.conf'), 'port=80\n');
    writeFileSync(join(context, 'conf', 'secret.key'), 'one\n');
    writeFileSync(join(context, '.dockerignore'), '**/*.key\n');
    writeFileSync(join(context, 'Dockerfile'), 'FROM bb\nRUN --mount=type=bind,source=conf,target=/conf ls /conf > /seen\n');
    const first = await build(context, 'bind-first', ['--build-context', `bb=${join(base, 'rootfs')}`]);
    assert.equal(first.files.get('seen'), 'app.conf\n', 'the RUN saw the bound directory without the excluded key');
    const seen = await build(context, 'bind-seen', ['--build-context', `bb=${join(base, 'rootfs')}`]);
    assert.match(seen.stderr, /\[stage-0 2\/2\] cached \(local\)/);
    writeFileSync(join(context, 'conf', 'secret.key'), 'two\n');
    const second = await build(context, 'bind-second', ['--build-context', `bb=${join(base, 'rootfs')}`]);
    assert.match(second.stderr, /\[stage-0 2\/2\] cached \(local\)/);
  });

  test('a context file changed after its hashing, before the copy read it: the layer is used, not cached, and the next build copies the file anew', async () => {
    const context = join(work, 'racing');
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, 'a.txt'), 'one\n');
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY a.txt /a.txt\n');
    const layout = join(work, 'racing-image');
    const cacheDir = join(work, 'racing-cache');
    let stderr = '';
    // --cache-explain prints the miss after hashing and before the copy: the file changes there.
    const code = await runCli(['build', context, '--no-push', '--oci-layout-path', layout, '--cache-dir', cacheDir, '--cache-explain'], {
      stdout: () => undefined,
      stderr: (text) => {
        if (text.includes('cache miss') && !stderr.includes('cache miss')) writeFileSync(join(context, 'a.txt'), 'two\n');
        stderr += text;
      },
      env: { HOME: work },
      cwd: work,
      readStdin: async () => '',
      readStdinBytes: async () => Buffer.alloc(0),
    });
    assert.equal(code, 0, stderr);
    assert.match(stderr, /\[stage-0 2\/2\] not cached: a context file it read changed while it ran/);
    writeFileSync(join(context, 'a.txt'), 'one\n');
    const again = await runCaisson(['build', context, '--no-push', '--oci-layout-path', layout, '--cache-dir', cacheDir], { cwd: work, env: { HOME: work } });
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /cached \(local\)/, 'no entry keyed by "one" holds "two"');
  });
});
