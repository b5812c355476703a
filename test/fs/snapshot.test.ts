// Snapshots: random mutations (create, modify, chmod, chown, rename, delete, a directory replaced by
// a file and back, symlink retargets, hardlinks, xattrs) are applied to a lower tree; the layer
// caisson makes of them, applied on top of the lower by umoci (an independent unpacker), must give
// back the mutated tree exactly — on the walk path and, as root, on the overlay path.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, createReadStream, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chooseSnapshotter, commitUpper, commitWalk, distinctLowers, LayerStore, overlayMountData, readTreeXattrs, scanTree, treeEntries, writeLayer, writeTar, type SnapshotMode, type WrittenLayer } from '../../src/fs/index.js';
import { OciLayout } from '../../src/image/index.js';
import { makeImage, writeImage } from '../support/images.js';
import { missingTool, runTool } from '../support/tools.js';
import { describeTree } from '../support/trees.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-snapshot-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const root = process.getuid?.() === 0;
const needsTools = missingTool('umoci', 'umoci') ?? missingTool('setfattr', 'attr');

/** A small deterministic PRNG, so a failing seed can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeLower(path: string): void {
  for (const directory of ['etc/conf.d', 'usr/lib/deep/er', 'var/cache', 'opt/app', 'home/user']) mkdirSync(join(path, directory), { recursive: true });
  for (let i = 0; i < 6; i += 1) {
    writeFileSync(join(path, 'etc', `file${i}`), `etc ${i}\n`);
    writeFileSync(join(path, 'usr/lib', `lib${i}.so`), Buffer.alloc(1000 * (i + 1), i));
    writeFileSync(join(path, 'var/cache', `c${i}`), `cache ${i}`);
  }
  writeFileSync(join(path, 'usr/lib/deep/er/leaf'), 'leaf');
  writeFileSync(join(path, 'opt/app/run.sh'), '#!/bin/sh\n');
  chmodSync(join(path, 'opt/app/run.sh'), 0o755);
  linkSync(join(path, 'usr/lib/lib0.so'), join(path, 'usr/lib/lib0-again.so'));
  symlinkSync('lib1.so', join(path, 'usr/lib/current'));
  symlinkSync('/etc/file0', join(path, 'home/user/link'));
  writeFileSync(join(path, 'home/user/.profile'), 'export A=1\n');
  spawnSync('setfattr', ['-n', 'user.origin', '-v', 'lower', join(path, 'etc/file1')]);
}

const quote = (text: string): string => `'${text}'`;

/** A shell script of random mutations; each may find its target gone (`|| true`). */
function mutations(seed: number): string {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const paths = ['etc/file0', 'etc/file1', 'etc/file2', 'etc/conf.d', 'usr/lib/lib2.so', 'usr/lib/lib3.so', 'usr/lib/deep', 'usr/lib/deep/er/leaf', 'var/cache', 'var/cache/c1', 'opt/app/run.sh', 'home/user/.profile', 'usr/lib/current', 'home/user/link', 'new', 'new/one', 'etc/new-file'];
  const lines: string[] = ['set -u'];
  for (let i = 0; i < 14; i += 1) {
    const path = pick(paths);
    const other = pick(paths);
    switch (Math.floor(next() * 11)) {
      case 0:
        lines.push(`mkdir -p ${quote(path)} 2>/dev/null; printf 'created ${i}\\n' > ${quote(`${path}/made${i}`)} || true`);
        break;
      case 1:
        lines.push(`[ -f ${quote(path)} ] && printf 'more ${i}' >> ${quote(path)} || true`);
        break;
      case 2:
        lines.push(`chmod ${pick(['0600', '0755', '0640', '04755', '0700'])} ${quote(path)} 2>/dev/null || true`);
        break;
      case 3:
        lines.push(root ? `chown -h ${pick(['1000:1000', '0:0', '123:456'])} ${quote(path)} 2>/dev/null || true` : 'true');
        break;
      case 4:
        lines.push(`[ -e ${quote(path)} ] && [ ! -e ${quote(`${other}-moved${i}`)} ] && mv ${quote(path)} ${quote(`${other}-moved${i}`)} 2>/dev/null || true`);
        break;
      case 5:
        lines.push(`rm -rf ${quote(path)}`);
        break;
      case 6:
        // A directory replaced by a file, and a file by a directory.
        lines.push(`if [ -d ${quote(path)} ]; then rm -rf ${quote(path)} && printf 'was a dir' > ${quote(path)}; elif [ -f ${quote(path)} ]; then rm -f ${quote(path)} && mkdir ${quote(path)} && printf 'inside' > ${quote(`${path}/inner`)}; fi || true`);
        break;
      case 7:
        lines.push(`[ -L ${quote(path)} ] && ln -sfn ${quote(`retarget-${i}`)} ${quote(path)} || ln -s ${quote(`../${other}`)} ${quote(`${path}-link${i}`)} 2>/dev/null || true`);
        break;
      case 8:
        lines.push(`printf 'fresh ${i}' > ${quote(`etc/hl${i}`)} && ln ${quote(`etc/hl${i}`)} ${quote(`var/hl${i}-twin`)} 2>/dev/null || true`);
        break;
      case 9:
        lines.push(`[ -f ${quote(path)} ] && ! [ -L ${quote(path)} ] && setfattr -n user.step -v ${quote(`v${i}`)} ${quote(path)} || true`);
        break;
      default:
        lines.push(`[ -d ${quote(path)} ] && rm -rf ${quote(path)} && mkdir ${quote(path)} && printf 'again' > ${quote(`${path}/again${i}`)} || true`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function runScript(options: { readonly cwd: string; readonly script: string }): void {
  runTool('sh', ['-c', `cd ${quote(options.cwd)} && sh ${quote(options.script)}`]);
}

/** An OCI layout of the lower layer plus the step's layer; umoci unpacks it; returns the rootfs. */
async function unpackWithUmoci(options: { readonly name: string; readonly layers: readonly WrittenLayer[] }): Promise<string> {
  const layoutDir = join(dir, `${options.name}-layout`);
  const layout = await OciLayout.openOrCreate(layoutDir);
  const image = makeImage({ layers: options.layers.map((layer) => ({ descriptor: layer.descriptor, diffId: layer.diffId, bytes: readFileSync(layer.path) })) });
  await writeImage(layout, image, { tag: 'step' });
  await layout.commit();
  const bundle = join(dir, `${options.name}-bundle`);
  runTool('umoci', ['unpack', ...(root ? [] : ['--rootless']), '--image', `${layoutDir}:step`, bundle]);
  return join(bundle, 'rootfs');
}

async function lowerLayer(options: { readonly tree: string; readonly blobs: string }): Promise<WrittenLayer> {
  return writeLayer({ tar: writeTar(treeEntries({ root: options.tree, xattrs: await readTreeXattrs({ root: options.tree }) })), compression: 'gzip', format: 'oci', blobs: options.blobs });
}

const compareOptions = { mtimes: true, directoryMtimes: false, owners: root, xattrs: true } as const;
const SEEDS = [1, 2, 3, 4];
/** `full` only adds content hashes to the same comparison: fewer, different seeds. */
const SEEDS_BY_MODE: Readonly<Record<SnapshotMode, readonly number[]>> = { redo: SEEDS, full: [5, 6], time: [] };

test('a layer a stack holds twice is given to overlayfs once, where it is topmost', () => {
  assert.deepEqual(distinctLowers(['base', 'copied', 'removed', 'copied', 'run']), ['base', 'removed', 'copied', 'run']);
  assert.match(overlayMountData({ lowers: ['a', 'b', 'a'], upper: 'u', work: 'w' }), /^lowerdir=a:b,upperdir=u,/);
});

describe('walk snapshots', { skip: needsTools }, () => {
  for (const mode of ['redo', 'full'] as const satisfies readonly SnapshotMode[]) {
    const seeds = SEEDS_BY_MODE[mode];
    test(`random mutations round-trip through umoci (--snapshot-mode ${mode}, ${seeds.length} seeds)`, async () => {
      let ran = 0;
      for (const seed of seeds) {
        const name = `walk-${mode}-${seed}`;
        const lower = join(dir, `${name}-lower`);
        makeLower(lower);
        const blobs = join(dir, `${name}-blobs`);
        const base = await lowerLayer({ tree: lower, blobs });
        const indexBefore = scanTree({ root: lower, mode });
        const script = join(dir, `${name}.sh`);
        writeFileSync(script, mutations(seed));
        runScript({ cwd: lower, script });
        const step = await commitWalk({ root: lower, before: indexBefore, mode, blobs, compression: 'gzip', format: 'oci' });
        assert.ok(step.entries > 0, `seed ${seed}: the step changed something`);
        const unpacked = await unpackWithUmoci({ name, layers: [base, step.layer] });
        assert.deepEqual(await describeTree(unpacked, compareOptions), await describeTree(lower, compareOptions), `seed ${seed}\n${readFileSync(script, 'utf8')}`);
        ran += 1;
      }
      assert.equal(ran, seeds.length);
    });
  }

  test('a step that changes nothing gives an empty layer; --snapshot-mode time sees only mtimes', async () => {
    const lower = join(dir, 'walk-nothing');
    makeLower(lower);
    const redo = scanTree({ root: lower, mode: 'redo' });
    const none = await commitWalk({ root: lower, before: redo, mode: 'redo', blobs: join(dir, 'nothing-blobs'), compression: 'gzip', format: 'oci' });
    assert.equal(none.entries, 0);
    assert.equal(none.layer.uncompressedSize, 1024);
    const timed = scanTree({ root: lower, mode: 'time' });
    chmodSync(join(lower, 'etc/file0'), 0o600);
    const chmodOnly = await commitWalk({ root: lower, before: timed, mode: 'time', blobs: join(dir, 'nothing-blobs'), compression: 'gzip', format: 'oci' });
    assert.equal(chmodOnly.entries, 0, 'time mode ignores a chmod, as kaniko');
    const again = await commitWalk({ root: lower, before: redo, mode: 'redo', blobs: join(dir, 'nothing-blobs'), compression: 'gzip', format: 'oci' });
    assert.equal(again.entries, 2, 'redo mode sees the chmod (the file and its parent)');
  });
});

/** Runs `script` on an overlay of `lowers` (bottom first) with `upper`, in a private mount namespace. */
function runOnOverlay(options: { readonly lowers: readonly string[]; readonly upper: string; readonly work: string; readonly merged: string; readonly script: string }): void {
  const data = overlayMountData({ lowers: options.lowers, upper: options.upper, work: options.work });
  runTool('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount -t overlay overlay -o ${quote(data)} ${quote(options.merged)} && cd ${quote(options.merged)} && sh ${quote(options.script)}`]);
}

describe('overlay snapshots', { skip: needsTools ?? (root ? false : 'needs root (uid 0) to mount overlayfs') }, () => {
  test('overlayfs mounts here, so auto picks it and says why', async () => {
    const choice = await chooseSnapshotter({ scratch: join(dir, 'scratch') });
    assert.deepEqual(choice, { kind: 'overlay', reason: 'overlayfs mounts here (uid 0, mount namespace)' });
    assert.deepEqual(await chooseSnapshotter({ scratch: join(dir, 'scratch'), requested: 'walk' }), { kind: 'walk', reason: 'requested' });
    assert.deepEqual(readdirSync(join(dir, 'scratch')), [], 'the probe leaves nothing behind');
  });

  test(`random mutations round-trip through umoci, and the upperdir becomes the next lower (${SEEDS.length} seeds)`, async () => {
    let ran = 0;
    for (const seed of SEEDS) {
      const name = `overlay-${seed}`;
      const store = new LayerStore({ root: join(dir, `${name}-cache`) });
      const tree = join(dir, `${name}-tree`);
      makeLower(tree);
      const base = await lowerLayer({ tree, blobs: store.blobs });
      const lower = await store.unpackLayer({ diffId: base.diffId, what: base.descriptor.digest, open: async () => createReadStream(base.path) });
      assert.equal(lower.extracted, true);
      const script = join(dir, `${name}.sh`);
      writeFileSync(script, mutations(seed));
      const step = await store.stepDirectories();
      const merged = join(dir, `${name}-merged`);
      mkdirSync(merged);
      runOnOverlay({ lowers: [lower.root], upper: step.upper, work: step.work, merged, script });
      const committed = await commitUpper({ upper: step.upper, store, compression: 'gzip', format: 'oci' });
      await step.discard();
      assert.ok(committed.entries > 0);
      assert.deepEqual(readdirSync(join(store.root, 'tmp')), [], 'the step leaves no staging behind');
      // The same mutations on a plain copy: what the merged view held.
      runScript({ cwd: tree, script });
      const unpacked = await unpackWithUmoci({ name, layers: [base, committed.layer] });
      const noMtimes = { ...compareOptions, mtimes: false };
      assert.deepEqual(await describeTree(unpacked, noMtimes), await describeTree(tree, noMtimes), `seed ${seed}\n${readFileSync(script, 'utf8')}`);
      // The committed upper stacked on the lower (a second overlay, read-only) shows the same tree.
      const view = join(dir, `${name}-view`);
      mkdirSync(view);
      const listing = runTool('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount -t overlay overlay -o ${quote(`lowerdir=${committed.root}:${lower.root}`)} ${quote(view)} && cd ${quote(view)} && find . | sort`]);
      assert.equal(listing, runTool('sh', ['-c', `cd ${quote(tree)} && find . | sort`]));
      ran += 1;
    }
    assert.equal(ran, SEEDS.length);
  });
});
