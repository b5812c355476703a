/**
 * Character classes with Go's semantics, so splitting and trimming match BuildKit's parser.
 * Loops with an ASCII fast path: these run for every line of a Dockerfile.
 */
import { isSpaceRune } from './shell/index.js';

/**
 * Go's unicode.IsSpace for one UTF-16 unit. Every white-space code point is in the BMP, so a
 * surrogate (half of a pair) is never one.
 */
export function isSpace(char: string): boolean {
  return isSpaceRune(char.charCodeAt(0));
}

function leadingSpaceEnd(text: string): number {
  let start = 0;
  while (start < text.length && isSpaceRune(text.charCodeAt(start))) start++;
  return start;
}

/** Go's strings.TrimSpace. */
export function trimSpace(text: string): string {
  const start = leadingSpaceEnd(text);
  let end = text.length;
  while (end > start && isSpaceRune(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** Go's bytes.TrimLeftFunc(s, unicode.IsSpace). */
export function trimLeadingSpace(text: string): string {
  const start = leadingSpaceEnd(text);
  return start === 0 ? text : text.slice(start);
}

/** Trailing `\r` and `\n` removed (Go's bytes.TrimRight(s, "\r\n")). */
export function trimNewline(text: string): string {
  let end = text.length;
  while (end > 0 && (text.charCodeAt(end - 1) === 0x0a || text.charCodeAt(end - 1) === 0x0d)) end--;
  return end === text.length ? text : text.slice(0, end);
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
