/**
 * gzip layers are compressed in parallel 1 MiB blocks (src/fs/parallel-gzip.ts). Checked through
 * writeLayer: the system's `gzip -dc` (an independent reader) gives back exactly the input at
 * every size around the block boundary, and the blob's digest does not depend on how the input
 * was chunked (reproducible builds).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { writeLayer } from '../../src/fs/index.js';

const BLOCK = 1 << 20;

function textBytes(size: number): Buffer {
  const line = Buffer.from('usr/lib/x86_64-linux-gnu/libexample.so.1 0644 root root\n');
  const data = Buffer.alloc(size);
  for (let offset = 0; offset < size; offset += line.length) line.copy(data, offset, 0, Math.min(line.length, size - offset));
  return data;
}

async function* chunks(data: Buffer, size: number): AsyncIterable<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

describe('parallel gzip layers', () => {
  const work = mkdtempSync(join(tmpdir(), 'caisson-gzip-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  const sizes = [0, 1, BLOCK, BLOCK + 1, 2 * BLOCK + 777];
  for (const size of sizes) {
    test(`${size} bytes: gzip -dc reads back the input, and the digest does not depend on the chunking`, async () => {
      for (const [kind, data] of [['text', textBytes(size)], ['random', randomBytes(size)]] as const) {
        const small = await writeLayer({ tar: chunks(data, 65536), compression: 'gzip', format: 'oci', blobs: join(work, `${kind}-${size}-a`) });
        const odd = await writeLayer({ tar: chunks(data, BLOCK + 13), compression: 'gzip', format: 'oci', blobs: join(work, `${kind}-${size}-b`) });
        assert.equal(odd.descriptor.digest, small.descriptor.digest, `${kind}: same bytes whatever the chunking`);
        assert.equal(small.diffId, `sha256:${createHash('sha256').update(data).digest('hex')}`, `${kind}: diffID`);
        const back = execFileSync('gzip', ['-dc', small.path], { maxBuffer: 64 * BLOCK });
        assert.ok(back.equals(data), `${kind}: gzip -dc gives the input back`);
      }
    });
  }

  test('blocks that do not compress are stored: random data grows by under 0.1%, text still compresses', async () => {
    const random = randomBytes(3 * BLOCK + 5);
    const stored = await writeLayer({ tar: chunks(random, 65536), compression: 'gzip', format: 'oci', blobs: join(work, 'stored') });
    assert.ok(stored.descriptor.size < random.length * 1.001, `${stored.descriptor.size} bytes for ${random.length}`);
    assert.ok(execFileSync('gzip', ['-dc', stored.path], { maxBuffer: 8 * BLOCK }).equals(random));
    const text = textBytes(3 * BLOCK);
    const deflated = await writeLayer({ tar: chunks(text, 65536), compression: 'gzip', format: 'oci', blobs: join(work, 'deflated') });
    assert.ok(deflated.descriptor.size < text.length / 10, `${deflated.descriptor.size} bytes for ${text.length}`);
  });

  test('levels 1 and 9 give valid members, and 9 is no bigger than 1 on text', async () => {
    const data = textBytes(2 * BLOCK + 5);
    const fast = await writeLayer({ tar: chunks(data, 65536), compression: 'gzip', level: 1, format: 'oci', blobs: join(work, 'level-1') });
    const best = await writeLayer({ tar: chunks(data, 65536), compression: 'gzip', level: 9, format: 'oci', blobs: join(work, 'level-9') });
    for (const layer of [fast, best]) assert.ok(execFileSync('gzip', ['-dc', layer.path], { maxBuffer: 64 * BLOCK }).equals(data));
    assert.ok(best.descriptor.size <= fast.descriptor.size, `level 9 ${best.descriptor.size} bytes, level 1 ${fast.descriptor.size}`);
  });
});
