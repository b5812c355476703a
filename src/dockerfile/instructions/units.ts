/**
 * Go-compatible value parsers used by instruction flags: durations (time.ParseDuration, in
 * nanoseconds), RAM sizes (docker/go-units RAMInBytes), unsigned integers (strconv.ParseUint).
 */

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration in nanoseconds, or undefined when invalid. */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  const part = /^(\d*)(?:\.(\d*))?([^\d.]+)/;
  while (rest !== '') {
    const match = part.exec(rest);
    if (match === null) return undefined;
    const [all, whole = '', fraction, unit = ''] = match;
    if (whole === '' && (fraction === undefined || fraction === '')) return undefined;
    const scale = DURATION_UNITS[unit];
    if (scale === undefined) return undefined;
    total += Number(`${whole === '' ? '0' : whole}.${fraction ?? '0'}`) * scale;
    rest = rest.slice(all.length);
  }
  return sign * Math.round(total);
}

const RAM_SIZE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const RAM_UNITS: Readonly<Record<string, number>> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** docker/go-units RAMInBytes (`64m`, `1GiB`, `512`), or undefined when invalid. */
export function parseRamSize(text: string): number | undefined {
  const match = RAM_SIZE.exec(text);
  if (match === null) return undefined;
  const unit = match[2]?.toLowerCase();
  return Math.trunc(Number.parseFloat(match[1] as string) * (unit === undefined ? 1 : (RAM_UNITS[unit] as number)));
}

/** strconv.ParseUint(text, radix, 32), or undefined when invalid or out of range. */
export function parseUint32(text: string, radix: 8 | 10): number | undefined {
  const digits = radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  if (!digits.test(text)) return undefined;
  const value = Number.parseInt(text, radix);
  return value <= 0xffffffff ? value : undefined;
}
