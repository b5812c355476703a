/**
 * Test helper (never a test itself): golden files under test/golden/<area>/. `matchGolden`
 * compares bytes with the stored file; with UPDATE_GOLDEN=1 in the environment it (re)writes the
 * file instead, so a deliberate format change is one command and a reviewed diff.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectRoot } from './paths.js';

export function goldenPath(options: { readonly area: string; readonly name: string }): string {
  return join(projectRoot(), 'test', 'golden', options.area, options.name);
}

/** Asserts `actual` equals the golden file byte for byte (JSON files: also compared parsed, for a readable diff). */
export function matchGolden(options: { readonly area: string; readonly name: string; readonly actual: Buffer | string }): void {
  const path = goldenPath(options);
  const actual = Buffer.from(options.actual);
  if (process.env['UPDATE_GOLDEN'] === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  assert.ok(existsSync(path), `golden file ${path} is missing; run the test with UPDATE_GOLDEN=1 to write it`);
  const expected = readFileSync(path);
  if (path.endsWith('.json')) assert.deepEqual(JSON.parse(actual.toString('utf8')), JSON.parse(expected.toString('utf8')), `${options.name} differs from its golden file`);
  assert.ok(actual.equals(expected), `${options.name}: the bytes differ from the golden file (same JSON, other key order or spacing)`);
}
