// --chmod values: octal and symbolic modes, parsed and applied as chmod(1) and BuildKit do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChmod, parseChmod } from '../../src/dockerfile/index.js';

function apply(mode: string, current: number, isDirectory = false): number {
  const spec = parseChmod(mode);
  assert.ok(spec !== undefined, `${mode} should parse`);
  return applyChmod({ spec, mode: current, isDirectory });
}

test('octal modes up to 07777', () => {
  assert.deepEqual(parseChmod('0755'), { kind: 'octal', mode: 0o755 });
  assert.deepEqual(parseChmod('4755'), { kind: 'octal', mode: 0o4755 });
  assert.equal(parseChmod('10000'), undefined);
  assert.equal(parseChmod('0789'), undefined);
  assert.equal(apply('644', 0o777), 0o644);
});

test('symbolic modes', () => {
  assert.equal(apply('u=rwx,g=rx,o=', 0o000), 0o750);
  assert.equal(apply('a+x', 0o644), 0o755);
  assert.equal(apply('+x', 0o644), 0o755);
  assert.equal(apply('go-w', 0o777), 0o755);
  assert.equal(apply('u+s', 0o755), 0o4755);
  assert.equal(apply('g+s,+t', 0o755), 0o3755);
  assert.equal(apply('o+t', 0o755), 0o755); // t only applies with u, g, a or nobody
  assert.equal(apply('g=u', 0o740), 0o770);
  assert.equal(apply('u=rw,go=r', 0o777), 0o644);
  assert.equal(apply('u+r-w', 0o277), 0o477);
  assert.equal(apply('a=', 0o777), 0o000);
});

test('X adds execute for directories and already-executable files only', () => {
  assert.equal(apply('a+X', 0o644), 0o644);
  assert.equal(apply('a+X', 0o644, true), 0o755);
  assert.equal(apply('a+X', 0o744), 0o755);
});

test('invalid symbolic modes', () => {
  for (const mode of ['', 'u', 'u+z', 'z+x', 'u+r,', ',u+r', 'u*r']) assert.equal(parseChmod(mode), undefined, mode);
});
