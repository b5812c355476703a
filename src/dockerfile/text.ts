/**
 * Character classes with Go's semantics, so splitting and trimming match BuildKit's parser
 * (Go's unicode.IsSpace is exactly the Unicode White_Space property).
 */
import { isSpaceRune } from './shell/index.js';

const LEADING_SPACE = /^\p{White_Space}+/u;
const TRAILING_SPACE = /\p{White_Space}+$/u;

/** Go's unicode.IsSpace for one character (a code point). */
export function isSpace(char: string): boolean {
  return isSpaceRune(char.codePointAt(0) ?? -1);
}

/** Go's strings.TrimSpace. */
export function trimSpace(text: string): string {
  return text.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '');
}

/** Go's bytes.TrimLeftFunc(s, unicode.IsSpace). */
export function trimLeadingSpace(text: string): string {
  return text.replace(LEADING_SPACE, '');
}

/** Trailing `\r` and `\n` removed (Go's bytes.TrimRight(s, "\r\n")). */
export function trimNewline(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === '\n' || text[end - 1] === '\r')) end--;
  return text.slice(0, end);
}

/** BuildKit's reWhitespace: runs of tab, vertical tab, form feed, carriage return and space. */
export const WHITESPACE_RUN = /[\t\v\f\r ]+/;

/** Go's regexp.Split(s, 2) with WHITESPACE_RUN: at most two parts. */
export function splitOnceOnWhitespace(text: string): [string] | [string, string] {
  const match = WHITESPACE_RUN.exec(text);
  if (match === null) return [text];
  return [text.slice(0, match.index), text.slice(match.index + match[0].length)];
}

/** Go's regexp.Split(s, -1) with WHITESPACE_RUN (an empty string gives one empty part). */
export function splitOnWhitespace(text: string): string[] {
  return text.split(WHITESPACE_RUN);
}
