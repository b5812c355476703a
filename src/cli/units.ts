/**
 * Sizes and durations as flags spell them: `10GiB`, `500MB`, `1048576`; `336h`, `14d`, `90m`,
 * `1h30m`, `1.5h`, `.5h`, `250ms`, `0` (Go's time.ParseDuration syntax, as kaniko's `--cache-ttl`,
 * plus `d` for days; never negative).
 */
import { CaissonError } from '../errors.js';

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gib: 2 ** 30,
  t: 1e12,
  tb: 1e12,
  tib: 2 ** 40,
};

/** Nanoseconds per unit: Go's units (µs as U+00B5 micro sign and U+03BC mu, as Go takes both), and days. */
const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, '\u00b5s': 1e3, '\u03bcs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9, d: 86_400e9 };

/** One `<number><unit>` of a duration: a number with digits before or after an optional dot (`1`, `1.5`, `.5`, `1.`). */
const DURATION_PART = '(\\d+\\.?\\d*|\\.\\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h|d)';

/** Bytes for `--flag text`; a usage error naming the flag otherwise. */
export function parseSize(options: { readonly flag: string; readonly text: string }): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(options.text.trim());
  const unit = SIZE_UNITS[match?.[2]?.toLowerCase() ?? 'none'];
  if (match === null || unit === undefined) {
    throw new CaissonError({ code: 'ERR_USAGE', message: `${options.flag} ${JSON.stringify(options.text)} is not a size`, hint: 'Write a number with an optional unit: 500MB, 10GiB, 1048576.' });
  }
  return Math.floor(Number(match[1]) * unit);
}

/**
 * Milliseconds (a fraction below 1 ms for ns and µs) for `--flag text`, as Go's time.ParseDuration
 * reads it plus `d`; a usage error naming the flag for anything else, and for a negative duration.
 */
export function parseDuration(options: { readonly flag: string; readonly text: string }): number {
  const text = options.text.trim();
  const sign = text.startsWith('-') || text.startsWith('+') ? text.charAt(0) : '';
  const nanoseconds = durationNanoseconds(text.slice(sign.length));
  if (nanoseconds === undefined) {
    throw new CaissonError({
      code: 'ERR_USAGE',
      message: `${options.flag} ${JSON.stringify(options.text)} is not a duration`,
      hint: 'Write numbers with units (ns, us, ms, s, m, h, d): 336h, 14d, 90m, 1h30m, 1.5h; or 0.',
    });
  }
  if (sign === '-' && nanoseconds > 0) {
    throw new CaissonError({ code: 'ERR_USAGE', message: `${options.flag} ${JSON.stringify(options.text)}: a duration must not be negative`, hint: `Give ${options.flag} 0 or more, e.g. 336h or 14d.` });
  }
  return nanoseconds / 1e6;
}

/** The nanoseconds `body` (a duration without its sign) spells: `0`, or `<number><unit>` parts; undefined when it is not that. */
function durationNanoseconds(body: string): number | undefined {
  if (body === '0') return 0;
  const parts = new RegExp(DURATION_PART, 'y');
  let total = 0;
  let end = 0;
  for (let part = parts.exec(body); part !== null; part = parts.exec(body)) {
    total += Number(part[1]) * (DURATION_UNITS[part[2] as string] as number);
    end = parts.lastIndex;
  }
  return body !== '' && end === body.length && Number.isFinite(total) ? total : undefined;
}

/** `1.5 GiB`, `320 KiB`, `12 B`. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
