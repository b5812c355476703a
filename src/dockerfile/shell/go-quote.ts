/**
 * goQuote: Go's strconv.Quote, so messages quote their input exactly as BuildKit's `%q` does.
 * `\a \b \f \n \r \t \v \\ \"`; other controls below U+0020 and U+007F as `\xNN`; other
 * non-printable code points as `\uNNNN` or `\UNNNNNNNN`; printable Unicode as is. A lone UTF-16
 * surrogate (no valid rune in Go) is written as `\ufffd`.
 */

import { isPrint } from './unicode.js';

const NAMED: ReadonlyMap<number, string> = new Map([
  [0x07, '\\a'],
  [0x08, '\\b'],
  [0x0c, '\\f'],
  [0x0a, '\\n'],
  [0x0d, '\\r'],
  [0x09, '\\t'],
  [0x0b, '\\v'],
]);

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

export function goQuote(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0xfffd;
    if (char === '"' || char === '\\') {
      out += `\\${char}`;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += '\\ufffd';
    } else if (isPrint(code)) {
      out += char;
    } else {
      const named = NAMED.get(code);
      if (named !== undefined) out += named;
      else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`;
      else if (code < 0x10000) out += `\\u${hex(code, 4)}`;
      else out += `\\U${hex(code, 8)}`;
    }
  }
  return `${out}"`;
}
