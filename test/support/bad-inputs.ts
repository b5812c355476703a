/**
 * Test helper (never a test itself): one test per bad command line — the exit code, the message
 * naming the input, and a hint.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CliResult } from './cli.js';

/** [what the case is, argv, exit code, what stderr must say]. */
export type BadInput = readonly [string, string[], number, RegExp];

export function testBadInputs(cases: readonly BadInput[], run: (argv: string[]) => Promise<CliResult>): void {
  for (const [name, argv, code, message] of cases) {
    test(`bad input: ${name}`, async () => {
      const result = await run(argv);
      assert.equal(result.code, code, result.stderr);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /hint: /);
    });
  }
}
