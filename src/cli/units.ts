/**
 * Sizes and durations as flags spell them: `10GiB`, `500MB`, `1048576`; `336h`, `14d`, `90m`,
 * `1h30m` (Go's duration syntax, as kaniko's `--cache-ttl`, plus `d` for days).
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

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Bytes for `--flag text`; a usage error naming the flag otherwise. */
export function parseSize(options: { readonly flag: string; readonly text: string }): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(options.text.trim());
  const unit = SIZE_UNITS[match?.[2]?.toLowerCase() ?? 'none'];
  if (match === null || unit === undefined) {
    throw new CaissonError({ code: 'ERR_USAGE', message: `${options.flag} ${JSON.stringify(options.text)} is not a size`, hint: 'Write a number with an optional unit: 500MB, 10GiB, 1048576.' });
  }
  return Math.floor(Number(match[1]) * unit);
}

/** Milliseconds for `--flag text`; a usage error naming the flag otherwise. */
export function parseDuration(options: { readonly flag: string; readonly text: string }): number {
  const text = options.text.trim();
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (text === '' || parts.map((part) => part[0]).join('') !== text) {
    throw new CaissonError({ code: 'ERR_USAGE', message: `${options.flag} ${JSON.stringify(options.text)} is not a duration`, hint: 'Write a number with a unit: 336h, 14d, 90m, 1h30m.' });
  }
  return parts.reduce((total, part) => total + Number(part[1]) * (DURATION_UNITS[part[2] as string] as number), 0);
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
