/**
 * Go's rune classes, on code points: unicode.IsSpace, IsLetter, IsDigit and strconv.IsPrint,
 * plus Go's `string(rune)` conversion.
 */

/** text/scanner's end of input (scanner.EOF). */
export const EOF = -1;

// unicode.IsSpace: '\t' '\n' '\v' '\f' '\r' ' ' U+0085 U+00A0 and the White_Space property.
const SPACE = /^\p{White_Space}$/u;
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;
// unicode.IsPrint: categories L, M, N, P, S and the ASCII space.
const PRINT = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function test(pattern: RegExp, rune: number): boolean {
  return rune >= 0 && rune <= 0x10ffff && pattern.test(String.fromCodePoint(rune));
}

export function isSpace(rune: number): boolean {
  if (rune < 0x80) return rune === 0x20 || (rune >= 0x09 && rune <= 0x0d);
  return test(SPACE, rune);
}

export function isLetter(rune: number): boolean {
  if (rune < 0x80) return (rune >= 0x41 && rune <= 0x5a) || (rune >= 0x61 && rune <= 0x7a);
  return test(LETTER, rune);
}

export function isDigit(rune: number): boolean {
  if (rune < 0x80) return rune >= 0x30 && rune <= 0x39;
  return test(DIGIT, rune);
}

export function isPrint(rune: number): boolean {
  if (rune < 0x80) return rune >= 0x20 && rune < 0x7f;
  return test(PRINT, rune);
}

/** Go's string(r): the UTF-8 of r, or U+FFFD for an invalid rune such as EOF. */
export function runeString(rune: number): string {
  const valid = rune >= 0 && rune <= 0x10ffff && !(rune >= 0xd800 && rune <= 0xdfff);
  return String.fromCodePoint(valid ? rune : 0xfffd);
}

/** The code point of a one-character string (for readable constants). */
export function rune(char: string): number {
  return char.codePointAt(0) ?? EOF;
}

/** The code points of a string, as Go's []rune(s): a lone surrogate reads as U+FFFD. */
export function toRunes(text: string): number[] {
  const runes: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0xfffd;
    runes.push(code >= 0xd800 && code <= 0xdfff ? 0xfffd : code);
  }
  return runes;
}
