/**
 * COPY's two sinks give the same layer: the same copy-files calls through a DirectorySink (then
 * the tree walked as an overlay step's upperdir is) and through a TarSink (streamed from the
 * sources) produce byte-identical tars — directories made and copied up, files overwritten by a
 * later source, setuid bits, --chmod and --chown, symlinks, heredocs, directory times settled,
 * and the mtime clamp.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ContextTree } from '../../src/build/context-tree.js';
import { copyEntry, makeParents, settleDirectories, writeInline, type WriteOptions } from '../../src/build/copy-files.js';
import { DirectorySink, TarSink, type LayerSink } from '../../src/build/layer-sink.js';
import { IgnoreMatcher } from '../../src/build/patterns/index.js';
import { parseChmod } from '../../src/dockerfile/index.js';
import { treeEntries, writeTar, type TarInput } from '../../src/fs/index.js';

const work = mkdtempSync(join(tmpdir(), 'caisson-sink-'));
const NOW = 1_700_000_000;

function writeContext(root: string): void {
  mkdirSync(join(root, 'app', 'lib', 'empty'), { recursive: true });
  writeFileSync(join(root, 'app', 'run.sh'), '#!/bin/sh\necho run\n');
  chmodSync(join(root, 'app', 'run.sh'), 0o755);
  writeFileSync(join(root, 'app', 'lib', 'data.txt'), 'data\n'.repeat(1000));
  writeFileSync(join(root, 'app', 'suid'), 'x');
  chmodSync(join(root, 'app', 'suid'), 0o4755);
  symlinkSync('lib/data.txt', join(root, 'app', 'link'));
  writeFileSync(join(root, 'one.txt'), 'first\n');
  mkdirSync(join(root, 'other'));
  writeFileSync(join(root, 'other', 'one.txt'), 'second wins\n');
  for (const [path, seconds] of [['app/lib/data.txt', 1_600_000_000], ['app/lib', 1_600_000_100], ['app', 1_600_000_200], ['one.txt', 1_800_000_000]] as const) utimesSync(join(root, path), seconds, seconds);
}

/** One COPY's worth of calls, as transfer.ts makes them. */
function copyAll(sink: LayerSink, tree: ContextTree, options: { readonly chmod?: string; readonly owner?: { uid: number; gid: number } }): void {
  const write: WriteOptions = { sink, view: undefined, owner: options.owner, chmod: options.chmod === undefined ? undefined : parseChmod(options.chmod), now: NOW };
  const created: string[] = [];
  const times = new Map<string, number>();
  const copy = { ...write, tree, exclude: undefined, created, times };
  makeParents({ ...write, path: 'dest/deep', created });
  copyEntry({ ...copy, source: 'app', target: 'dest/deep/app', relative: 'app' });
  copyEntry({ ...copy, source: 'one.txt', target: 'dest/one.txt', relative: 'one.txt' });
  copyEntry({ ...copy, source: 'other/one.txt', target: 'dest/one.txt', relative: 'one.txt' });
  writeInline({ ...write, file: { name: 'note', content: 'inline\n', chomp: false, expand: false }, target: 'dest/note' });
  settleDirectories({ sink, view: undefined, created, times, now: NOW });
}

async function digest(entries: AsyncIterable<TarInput> | Iterable<TarInput>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of writeTar(entries)) hash.update(chunk);
  return hash.digest('hex');
}

describe('COPY layer sinks', { skip: process.getuid?.() === 0 ? false : 'needs uid 0: the directory sink sets owners' }, () => {
  after(() => rmSync(work, { recursive: true, force: true }));
  const context = join(work, 'context');
  mkdirSync(context);
  writeContext(context);
  const tree = new ContextTree({ root: context, ignore: new IgnoreMatcher({ patterns: [] }) });

  const cases: readonly (readonly [string, { readonly chmod?: string; readonly owner?: { uid: number; gid: number }; readonly clamp?: number }])[] = [
    ['as the context has it', {}],
    ['--chmod=u+s,go-rx and --chown=1000:50', { chmod: 'u+s,go-rx', owner: { uid: 1000, gid: 50 } }],
    ['--chmod=0640 with a clamp', { chmod: '0640', clamp: 1_650_000_000 }],
  ];
  for (const [name, options] of cases) {
    test(`${name}: the directory and the tar sink give the same bytes`, async () => {
      const upper = mkdtempSync(join(work, 'upper-'));
      copyAll(new DirectorySink(upper), tree, options);
      const tarSink = new TarSink({ now: NOW });
      copyAll(tarSink, tree, options);
      const clamp = options.clamp === undefined ? {} : { clampMtime: options.clamp };
      const fromDirectory = await digest(treeEntries({ root: upper, overlay: true, ...clamp }));
      const fromTar = await digest(tarSink.entries(clamp));
      assert.equal(fromTar, fromDirectory);
      const names = [...tarSink.entries({})].map((entry) => entry.header.name);
      assert.deepEqual(names.slice(0, 4), ['dest/', 'dest/deep/', 'dest/deep/app/', 'dest/deep/app/lib/']);
      assert.ok(names.includes('dest/note') && names.includes('dest/deep/app/suid'));
      const suid = [...tarSink.entries({})].find((entry) => entry.header.name === 'dest/deep/app/suid');
      assert.equal((suid?.header.mode ?? 0) & 0o4000, options.chmod === '0640' ? 0 : 0o4000, 'setuid survives the owner change');
    });
  }
});
