/**
 * The pattern operators as BuildKit evaluates them: `${v#p}` and `${v##p}` trim an anchored
 * match, `${v%p}` and `${v%%p}` trim a suffix by reversing both pattern and value, `${v/p/r}`
 * and `${v//p/r}` replace like Go's Regexp.FindStringIndex and ReplaceAllString (including
 * ReplaceAllString's `$0` template expansion).
 */

import { PatternError, PatternMatcher, compileShellPattern, type ShellPattern } from './glob.js';
import { EOF, isDigit, isLetter, rune, runeString, toRunes } from './unicode.js';

const BACKSLASH = rune('\\');

function patternFailure(pattern: string, error: unknown): PatternError {
  const detail = error instanceof Error ? error.message : String(error);
  return new PatternError(`invalid pattern (${pattern}) in substitution: ${detail}`);
}

function compile(pattern: string, greedy: boolean, anchored: boolean): ShellPattern {
  try {
    return compileShellPattern(pattern, greedy, anchored);
  } catch (error) {
    throw patternFailure(pattern, error);
  }
}

/** `${v#p}` / `${v##p}`: removes the shortest (greedy: longest) prefix matching the pattern. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const matcher = new PatternMatcher(compile(pattern, greedy, true), value);
  const match = matcher.find(0);
  return match === undefined ? value : value.slice(matcher.offset(match[1]));
}

/** Reverses a pattern by runes, keeping each `\x` escape pair in order (`a\*c` -> `c\*a`). */
export function reversePattern(pattern: string): string {
  const runes = toRunes(pattern);
  const out = new Array<number>(runes.length);
  const last = runes.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = runes[i] as number;
    const at = last - i;
    if (tok === BACKSLASH && i !== last) {
      out[at - 1] = tok;
      out[at] = runes[i + 1] as number;
      i += 2;
    } else {
      out[at] = tok;
      i++;
    }
  }
  return out.map(runeString).join('');
}

/** Reverses a string by code points. */
export function reverseString(text: string): string {
  return [...text].reverse().join('');
}

/**
 * `${v%p}` / `${v%%p}`: removes the shortest (greedy: longest) matching suffix. Like BuildKit,
 * both pattern and value are reversed and the prefix is trimmed, so errors name the reversed
 * pattern.
 */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/** `${v/p/r}` / `${v//p/r}`: the greedy, unanchored pattern replaced once or everywhere. */
export function replacePattern(value: string, pattern: string, replacement: string, all: boolean): string {
  const matcher = new PatternMatcher(compile(pattern, true, false), value);
  if (all) return replaceAll(matcher, value, replacement);
  const match = matcher.find(0);
  if (match === undefined) return value;
  return value.slice(0, matcher.offset(match[0])) + replacement + value.slice(matcher.offset(match[1]));
}

/**
 * Go's Regexp.ReplaceAllString: successive non-overlapping matches, an empty match right after
 * a previous match is not replaced, and the template is expanded with Go's Expand rules.
 */
function replaceAll(matcher: PatternMatcher, src: string, template: string): string {
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= matcher.length) {
    const match = matcher.find(searchPos);
    if (match === undefined) break;
    const [start, end] = match;
    out += src.slice(matcher.offset(lastMatchEnd), matcher.offset(start));
    if (end > lastMatchEnd || start === 0) {
      out += expandTemplate(template, src.slice(matcher.offset(start), matcher.offset(end)));
    }
    lastMatchEnd = end;
    // Advance past the match, and by at least one rune.
    searchPos = end > searchPos ? end : searchPos + 1;
  }
  return out + src.slice(matcher.offset(lastMatchEnd));
}

const DOLLAR = '$';

/**
 * Go's Regexp.Expand for a pattern without groups: `$$` is `$`; `$name` / `${name}` (letters,
 * digits, `_`) is the whole match when the name is exactly `0`, otherwise empty; a malformed
 * reference keeps its `$`.
 */
function expandTemplate(template: string, whole: string): string {
  let out = '';
  let rest = template;
  for (;;) {
    const at = rest.indexOf(DOLLAR);
    if (at < 0) break;
    out += rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (rest.startsWith(DOLLAR)) {
      out += DOLLAR;
      rest = rest.slice(1);
      continue;
    }
    const reference = extractReference(rest);
    if (reference === undefined) {
      out += DOLLAR;
      continue;
    }
    rest = reference.rest;
    if (reference.name === '0') out += whole;
  }
  return out + rest;
}

function extractReference(text: string): { name: string; rest: string } | undefined {
  const brace = text.startsWith('{');
  const body = brace ? text.slice(1) : text;
  let length = 0;
  for (const char of body) {
    const code = char.codePointAt(0) ?? EOF;
    if (!isLetter(code) && !isDigit(code) && char !== '_') break;
    length += char.length;
  }
  if (length === 0) return undefined;
  const name = body.slice(0, length);
  if (!brace) return { name, rest: body.slice(length) };
  if (body[length] !== '}') return undefined;
  return { name, rest: body.slice(length + 1) };
}
