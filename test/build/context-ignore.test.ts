// .dockerignore end to end, through `caisson build` (FROM scratch, an OCI layout): what it leaves
// out is neither in the image nor in a step's key, also beside a `!` rule that may bring back paths
// below an excluded name; so a change to an excluded file neither reaches the image nor misses.
import assert from 'node:assert/strict';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decompressLayer, readTar } from '../../src/fs/index.js';
import { runCaisson } from '../support/cli.js';

let work = '';
before(() => {
  work = mkdtempSync(join(tmpdir(), 'caisson-context-ignore-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Builds `context` into a new layout on the shared cache; the names in each layer, and the log. */
async function build(context: string, name: string): Promise<{ readonly layers: string[][]; readonly stderr: string }> {
  const layout = join(work, name);
  const result = await runCaisson(['build', context, '--no-push', '--oci-layout-path', layout, '--cache-dir', join(work, 'cache')], { cwd: work, env: { HOME: work } });
  assert.equal(result.code, 0, result.stderr);
  const blob = (digest: string): string => join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]?.digest ?? ''), 'utf8')) as { layers: { digest: string }[] };
  const layers: string[][] = [];
  for (const layer of manifest.layers) {
    const { chunks } = await decompressLayer({ source: createReadStream(blob(layer.digest)), what: 'layer' });
    const names: string[] = [];
    for await (const entry of readTar(chunks, 'layer')) names.push(entry.header.name.replace(/^\.?\//, '').replace(/\/$/, ''));
    layers.push(names.sort());
  }
  return { layers, stderr: result.stderr };
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
});
