// Durations as Go's time.ParseDuration reads them (kaniko's --cache-ttl), plus days, never negative.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDuration } from '../../src/cli/units.js';
import { CaissonError } from '../../src/errors.js';

describe('parseDuration', () => {
  test("takes Go's forms and d, in milliseconds", () => {
    const cases: ReadonlyArray<readonly [string, number]> = [
      ['0', 0],
      ['+0', 0],
      ['-0', 0],
      ['0s', 0],
      ['336h', 336 * 3_600_000],
      ['14d', 14 * 86_400_000],
      ['1h30m', 5_400_000],
      ['1.5h', 5_400_000],
      ['.5h', 1_800_000],
      ['1.h', 3_600_000],
      ['+1h', 3_600_000],
      ['90m', 5_400_000],
      ['2s', 2000],
      ['250ms', 250],
      ['1us', 0.001],
      ['1\u00b5s', 0.001],
      ['1\u03bcs', 0.001],
      ['10ns', 0.00001],
      ['1d2h3m4s5ms6us7ns', 86_400_000 + 7_200_000 + 180_000 + 4000 + 5 + 0.006007],
      [' 2h ', 7_200_000],
    ];
    for (const [text, ms] of cases) assert.equal(parseDuration({ flag: '--cache-ttl', text }), ms, text);
  });

  test('refuses what Go refuses, naming the flag', () => {
    for (const text of ['', ' ', '5', '1y', '1H', '1h 30m', '.h', '.', 'h', '1.5.5h', '+-1h', '--1h', 'forever', '1hm']) {
      assert.throws(
        () => parseDuration({ flag: '--max-age', text }),
        (error: unknown) => error instanceof CaissonError && error.code === 'ERR_USAGE' && error.message === `--max-age ${JSON.stringify(text)} is not a duration`,
        JSON.stringify(text),
      );
    }
  });

  test('refuses a negative duration, naming the flag', () => {
    for (const text of ['-1h', '-.5s', '-1ns']) {
      assert.throws(
        () => parseDuration({ flag: '--cache-ttl', text }),
        (error: unknown) => error instanceof CaissonError && error.code === 'ERR_USAGE' && error.message === `--cache-ttl ${JSON.stringify(text)}: a duration must not be negative`,
        text,
      );
    }
  });
});
