// The buffer reclaimer: while it runs, the memory of dropped chunk-sized Buffers is freed within a
// few intervals (process.memoryUsage().arrayBuffers); stopped, it leaves no timer behind.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBufferReclaimer } from '../../src/image/buffer-reclaimer.js';

test('dropped buffers are freed while it runs: 32 MiB of dead 64 KiB chunks are gone within a few intervals', async () => {
  const before = process.memoryUsage().arrayBuffers;
  const reclaimer = startBufferReclaimer({ intervalMs: 5 });
  try {
    let kept = 0;
    for (let i = 0; i < 512; i += 1) kept += Buffer.allocUnsafe(1 << 16).length;
    assert.equal(kept, 32 << 20);
    let now = process.memoryUsage().arrayBuffers;
    for (let waited = 0; now - before > 8 << 20 && waited < 2000; waited += 10) {
      await sleep(10);
      now = process.memoryUsage().arrayBuffers;
    }
    assert.ok(now - before <= 8 << 20, `array buffer memory ${((now - before) / 1048576).toFixed(1)} MiB above the start, expected at most 8`);
  } finally {
    reclaimer.stop();
  }
});

test('stop ends it; a stopped reclaimer can be stopped again', () => {
  const reclaimer = startBufferReclaimer();
  reclaimer.stop();
  reclaimer.stop();
  assert.ok(process.getActiveResourcesInfo().every((kind) => kind !== 'Timeout'), 'no interval is left');
});
