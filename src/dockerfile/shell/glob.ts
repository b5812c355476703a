/**
 * Shell patterns compiled and matched in linear time with Go's regexp semantics: BuildKit turns
 * a pattern into a Go regular expression (`?` is `.`, `*` is `.*` or `.*?`, other runes are
 * literal) and Go finds the leftmost match, preferring longer (greedy) or shorter (lazy) stars
 * in order, with `.` never matching a newline. A backtracking JS RegExp takes exponential time
 * on patterns like `*a*a*a*b`, so matching is done here over a memo of (token, position) states.
 */

import { RuneScanner } from './scanner.js';
import { EOF, rune, runeString, toRunes } from './unicode.js';

/** A pattern that cannot be converted; `message` is Go's error text. */
export class PatternError extends Error {
  override readonly name = 'PatternError';
}

const STAR = rune('*');
const QUESTION = rune('?');
const BACKSLASH = rune('\\');
const RBRACE = rune('}');
const SLASH = rune('/');
const NEWLINE = rune('\n');

/** A literal rune, one rune other than a newline, or a run of such runes. */
type Token =
  | { readonly kind: 'rune'; readonly rune: number }
  | { readonly kind: 'any' }
  | { readonly kind: 'star' };

export interface ShellPattern {
  readonly tokens: readonly Token[];
  /** Stars take as many runes as they can (`.*`) rather than as few (`.*?`). */
  readonly greedy: boolean;
  /** Matches only at the start of the subject (`^`). */
  readonly anchored: boolean;
}

/**
 * Compiles a shell pattern like BuildKit's convertShellPatternToRegex: `?` one rune, `*` any
 * run, `\*` `\?` `\\` literal, `\}` and `\/` the bare character; any other escape, or a `\` at
 * the end, is an error. No bracket expressions.
 */
export function compileShellPattern(pattern: string, greedy: boolean, anchored: boolean): ShellPattern {
  const scanner = new RuneScanner(pattern);
  const tokens: Token[] = [];
  for (let tok = scanner.next(); tok !== EOF; tok = scanner.next()) {
    if (tok === STAR) {
      tokens.push({ kind: 'star' });
      continue;
    }
    if (tok === QUESTION) {
      tokens.push({ kind: 'any' });
      continue;
    }
    if (tok === BACKSLASH) {
      const following = scanner.peek();
      if (following === RBRACE || following === SLASH) continue;
      tok = scanner.next();
      if (tok !== STAR && tok !== QUESTION && tok !== BACKSLASH) {
        throw new PatternError(`invalid escape '\\${runeString(tok)}'`);
      }
    }
    tokens.push({ kind: 'rune', rune: tok });
  }
  return { tokens, greedy, anchored };
}

const UNKNOWN = -2;
const FAIL = -1;

/** Finds matches of one pattern in one subject; positions are rune indices. */
export class PatternMatcher {
  private readonly pattern: ShellPattern;
  private readonly runes: readonly number[];
  private readonly offsets: readonly number[];
  /** Per (token, position) state: the end of the preferred match from there, FAIL or UNKNOWN. */
  private readonly memo: Int32Array;

  constructor(pattern: ShellPattern, subject: string) {
    this.pattern = pattern;
    const offsets = [0];
    for (const char of subject) offsets.push((offsets.at(-1) ?? 0) + char.length);
    this.offsets = offsets;
    this.runes = toRunes(subject);
    this.memo = new Int32Array((pattern.tokens.length + 1) * (this.runes.length + 1)).fill(UNKNOWN);
  }

  /** The number of runes in the subject. */
  get length(): number {
    return this.runes.length;
  }

  /** The UTF-16 offset of a rune index, for slicing the subject. */
  offset(index: number): number {
    return this.offsets[index] ?? 0;
  }

  /** The leftmost match starting at or after `from`, as [start, end], or undefined. */
  find(from: number): readonly [number, number] | undefined {
    const last = this.pattern.anchored ? Math.min(from, 0) : this.runes.length;
    for (let start = from; start <= last; start++) {
      const end = this.evaluate(0, start);
      if (end !== FAIL) return [start, end];
    }
    return undefined;
  }

  private index(token: number, at: number): number {
    return token * (this.runes.length + 1) + at;
  }

  /** Whether a wildcard may take the rune at `at`. */
  private takes(at: number): boolean {
    return at < this.runes.length && this.runes[at] !== NEWLINE;
  }

  /**
   * The successor states of (token, at) in order of preference; a state's result is that of
   * the first successor that matches. A literal or `?` has one; a star has "take one more rune
   * and stay" and "move on", greedy preferring the first, lazy the second.
   */
  private successors(token: number, at: number): readonly (readonly [number, number])[] {
    const tok = this.pattern.tokens[token];
    if (tok === undefined) return [];
    switch (tok.kind) {
      case 'rune':
        return at < this.runes.length && this.runes[at] === tok.rune ? [[token + 1, at + 1]] : [];
      case 'any':
        return this.takes(at) ? [[token + 1, at + 1]] : [];
      case 'star': {
        const stay: readonly [number, number][] = this.takes(at) ? [[token, at + 1]] : [];
        const next: readonly [number, number] = [token + 1, at];
        return this.pattern.greedy ? [...stay, next] : [next, ...stay];
      }
    }
  }

  /** The end of the preferred match from (token, at), or FAIL; iterative, each state once. */
  private evaluate(token: number, at: number): number {
    const { memo } = this;
    const final = this.pattern.tokens.length;
    const stack: [number, number][] = [[token, at]];
    while (stack.length > 0) {
      const [t, a] = stack[stack.length - 1] as [number, number];
      const here = this.index(t, a);
      if (memo[here] !== UNKNOWN) {
        stack.pop();
        continue;
      }
      if (t === final) {
        memo[here] = a;
        stack.pop();
        continue;
      }
      let result = FAIL;
      let pending: [number, number] | undefined;
      for (const [nt, na] of this.successors(t, a)) {
        const known = memo[this.index(nt, na)] ?? UNKNOWN;
        if (known === UNKNOWN) {
          pending = [nt, na];
          break;
        }
        if (known !== FAIL) {
          result = known;
          break;
        }
      }
      if (pending !== undefined) {
        stack.push(pending);
        continue;
      }
      memo[here] = result;
      stack.pop();
    }
    return memo[this.index(token, at)] ?? FAIL;
  }
}
