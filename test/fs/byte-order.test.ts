// Name order by UTF-8 bytes without encoding: the same order as Buffer.compare over every pair of
// names, surrogate pairs and the code points from U+E000 to U+FFFF included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareBytes } from '../../src/fs/index.js';

test('compareBytes orders names as their UTF-8 bytes do', () => {
  const names = ['', 'a', 'A', 'a.txt', 'a/b', 'ab', 'abc', 'b', 'Z', '~', 'é', 'e\u0301', 'ø', '中文', '\u00ff', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uff21', '\uffff', '\u{10000}', '😀', '😀a', 'x😀', 'x\uffff', 'x\ue000'];
  let pairs = 0;
  for (const a of names) {
    for (const b of names) {
      const expected = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.equal(Math.sign(compareBytes(a, b)), expected, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      pairs += 1;
    }
  }
  assert.equal(pairs, names.length ** 2);
  assert.deepEqual(['😀', '\uffff', 'z', '\ue000'].sort(compareBytes), ['z', '\ue000', '\uffff', '😀']);
});
