/**
 * `.dockerignore` semantics as Docker/BuildKit apply them (moby/patternmatcher's
 * `MatchesOrParentMatches` over the lines read by its `ignorefile` package).
 *
 * A pattern is Go-cleaned (`filepath.Clean`), so `foo/`, `./foo` and `foo/./` are `foo`. It is
 * matched against the whole slash-separated path relative to the context root, and against each of
 * the path's parent directories: excluding a directory excludes everything below it. The last pattern
 * that matches a path decides; a `!` pattern re-includes. Inside a pattern `*` and `?` never match
 * `/`, `**` matches any number of directories (`**` at the start or end matches everything there:
 * `**foo` is any path ending in `foo`, `foo**` any path starting with `foo`), `[...]` and `\c` are as
 * in Go's `filepath.Match`.
 *
 * patternmatcher turns a pattern into a Go regular expression text; where that text would mean
 * something other than `filepath.Match` syntax (`\d`, a `^` outside a class, a `*` or `?` inside a
 * class, `[[:alpha:]]`) this follows `filepath.Match`: `\c` is always the literal `c`, a class holds
 * the characters written in it. A reversed range such as `[z-a]`, which makes Docker fail when it
 * first matches, is rejected when the pattern is read.
 */
import { CaissonError, type SourceLocation } from '../../errors.js';
import { checkGoPattern, cleanPath } from './go-match.js';

/** One `.dockerignore` line, cleaned as BuildKit cleans it. */
export interface IgnorePattern {
  /** The cleaned pattern without its `!`. */
  readonly pattern: string;
  /** A `!` line: re-includes what earlier lines excluded. */
  readonly negated: boolean;
  /** Where the line came from, when it came from a file. */
  readonly location?: SourceLocation;
}

export interface ParseIgnoreFileOptions {
  /** The file's text (a leading UTF-8 BOM is dropped). */
  readonly text: string;
  /** The file's name, used in error locations. */
  readonly file: string;
}

/**
 * Reads ignore-file text: one pattern a line; a line starting with `#` is a comment; lines are
 * trimmed, empty ones skipped; a leading `/` is dropped. Throws CaissonError `ERR_BUILD_PATTERN`
 * naming file:line for a lone `!` or a malformed pattern.
 */
export function parseIgnoreFile(options: ParseIgnoreFileOptions): IgnorePattern[] {
  const text = options.text.startsWith('\uFEFF') ? options.text.slice(1) : options.text;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const patterns: IgnorePattern[] = [];
  lines.forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('#')) return;
    let pattern = trimGoSpace(line);
    if (pattern === '') return;
    const negated = pattern.startsWith('!');
    if (negated) pattern = trimGoSpace(pattern.slice(1));
    if (pattern !== '') {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    const location: SourceLocation = { file: options.file, line: index + 1 };
    const parsed = toIgnorePattern({ pattern: negated ? `!${pattern}` : pattern, location });
    if (parsed !== undefined) patterns.push(parsed);
  });
  return patterns;
}

export interface ToIgnorePatternsOptions {
  /** Raw patterns, `!` allowed (COPY --exclude, a CLI flag): trimmed and cleaned, no comments. */
  readonly patterns: readonly string[];
}

/** Patterns given as a list (patternmatcher's `New`): trimmed, cleaned, empty ones skipped. */
export function toIgnorePatterns(options: ToIgnorePatternsOptions): IgnorePattern[] {
  const patterns: IgnorePattern[] = [];
  for (const pattern of options.patterns) {
    const parsed = toIgnorePattern({ pattern });
    if (parsed !== undefined) patterns.push(parsed);
  }
  return patterns;
}

export interface IgnoreFileForOptions {
  /** The Dockerfile's path, relative to the context or absolute; `-` for stdin. */
  readonly dockerfile: string;
}

/**
 * The ignore files to try, first found wins: `<Dockerfile path>.dockerignore` (BuildKit's
 * Dockerfile-specific ignore file, e.g. `build/app.Dockerfile.dockerignore`), then `.dockerignore`
 * at the context root. Names only; the caller reads them.
 */
export function ignoreFileFor(options: IgnoreFileForOptions): string[] {
  if (options.dockerfile === '-' || options.dockerfile === '') return ['.dockerignore'];
  return [`${cleanPath(options.dockerfile)}.dockerignore`, '.dockerignore'];
}

/** patternmatcher's cleanup of one pattern; undefined for an empty one. */
function toIgnorePattern(options: { pattern: string; location?: SourceLocation }): IgnorePattern | undefined {
  const { location } = options;
  let pattern = trimGoSpace(options.pattern);
  if (pattern === '') return undefined;
  pattern = cleanPath(pattern);
  const negated = pattern.startsWith('!');
  if (negated) {
    if (pattern.length === 1) {
      throw patternError({ message: 'illegal exclusion pattern: "!"', location, hint: 'A `!` line needs a pattern after it, e.g. `!keep.txt`.' });
    }
    pattern = pattern.slice(1);
  }
  compileIgnorePattern({ pattern, location });
  return location === undefined ? { pattern, negated } : { pattern, negated, location };
}

function patternError(options: { message: string; location: SourceLocation | undefined; hint?: string | undefined; cause?: unknown }): CaissonError {
  return new CaissonError({
    code: 'ERR_BUILD_PATTERN',
    message: options.message,
    ...(options.hint === undefined ? {} : { hint: options.hint }),
    ...(options.location === undefined ? {} : { location: options.location }),
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  });
}

/** One character test of a compiled pattern. */
type CharTest =
  | { readonly kind: 'literal'; readonly char: number }
  | { readonly kind: 'not-slash' }
  | { readonly kind: 'class'; readonly negated: boolean; readonly ranges: readonly (readonly [number, number])[] };

/** The regular-expression pieces patternmatcher builds, as NFA tokens. */
type Token =
  | { readonly kind: 'char'; readonly test: CharTest }
  /** `*`: `[^/]*` */
  | { readonly kind: 'star' }
  /** A trailing `**` after other pieces: `.*` */
  | { readonly kind: 'rest' }
  /** A `**` before more pieces (a slash after it is eaten): zero or more whole directories, `(.*\/)?` */
  | { readonly kind: 'dirs' };

/**
 * patternmatcher's match types: plain string tests where it can, else the tokens, as a JavaScript
 * regular expression that matches a path or one of its parents, and as an NFA that answers whether
 * a path's prefix can still match.
 */
type CompiledPattern =
  | { readonly kind: 'exact'; readonly text: string }
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'suffix'; readonly suffix: string }
  | { readonly kind: 'regexp'; readonly tokens: readonly Token[]; readonly selfOrParent: RegExp };

const SLASH = 0x2f;
const NEWLINE = 0x0a;

function compileIgnorePattern(options: { pattern: string; location: SourceLocation | undefined }): CompiledPattern {
  const { pattern, location } = options;
  try {
    checkGoPattern(pattern);
  } catch (error) {
    if (error instanceof CaissonError) throw patternError({ message: error.message, location, hint: error.hint, cause: error });
    throw error;
  }
  const chars = Array.from(pattern);
  let kind: CompiledPattern['kind'] = 'exact';
  const tokens: Token[] = [];
  let k = 0;
  for (let piece = 0; k < chars.length; piece++) {
    const ch = chars[k++]!;
    if (ch === '*' && chars[k] === '*') {
      k++;
      if (chars[k] === '/') k++;
      if (k < chars.length) {
        tokens.push({ kind: 'dirs' });
        kind = 'regexp';
      } else if (kind === 'exact') {
        kind = 'prefix';
      } else {
        tokens.push({ kind: 'rest' });
        kind = 'regexp';
      }
      if (piece === 0) kind = 'suffix';
      continue;
    }
    if (ch === '*') {
      tokens.push({ kind: 'star' });
      kind = 'regexp';
    } else if (ch === '?') {
      tokens.push({ kind: 'char', test: { kind: 'not-slash' } });
      kind = 'regexp';
    } else if (ch === '\\') {
      tokens.push({ kind: 'char', test: { kind: 'literal', char: chars[k++]!.codePointAt(0)! } });
      kind = 'regexp';
    } else if (ch === '[') {
      k = compileClass({ chars, start: k, tokens, pattern, location });
      kind = 'regexp';
    } else {
      tokens.push({ kind: 'char', test: { kind: 'literal', char: ch.codePointAt(0)! } });
      if (ch === ']') kind = 'regexp';
    }
  }
  switch (kind) {
    case 'exact':
      return { kind, text: pattern };
    case 'prefix':
      return { kind, prefix: pattern.slice(0, -2) };
    case 'suffix':
      return { kind, suffix: pattern.slice(2) };
    case 'regexp':
      return { kind, tokens, selfOrParent: selfOrParentExpression(tokens) };
  }
}

function hex(code: number): string {
  return `\\u{${code.toString(16)}}`;
}

function charExpression(test: CharTest): string {
  switch (test.kind) {
    case 'literal':
      return hex(test.char);
    case 'not-slash':
      return '[^/]';
    case 'class':
      return `[${test.negated ? '^' : ''}${test.ranges.map(([lo, hi]) => `${hex(lo)}-${hex(hi)}`).join('')}]`;
  }
}

/**
 * The tokens as a regular expression over code points that matches a path whose whole, or whose
 * part before some `/` (a parent directory), the pattern matches: `.` is `[^\n]`, as in Go.
 */
function selfOrParentExpression(tokens: readonly Token[]): RegExp {
  const body = tokens
    .map((token) => {
      switch (token.kind) {
        case 'char':
          return charExpression(token.test);
        case 'star':
          return '[^/]*';
        case 'rest':
          return '[^\\n]*';
        case 'dirs':
          return '(?:[^\\n]*/)?';
      }
    })
    .join('');
  return new RegExp(`^(?:${body})(?:/|$)`, 'u');
}

interface CompileClassOptions {
  readonly chars: readonly string[];
  /** Index just after the `[`. */
  readonly start: number;
  readonly tokens: Token[];
  readonly pattern: string;
  readonly location: SourceLocation | undefined;
}

/** A class already validated by checkGoPattern; returns the index after its `]`. */
function compileClass(options: CompileClassOptions): number {
  const { chars } = options;
  let k = options.start;
  const member = (): number => {
    if (chars[k] === '\\') k++;
    return chars[k++]!.codePointAt(0)!;
  };
  const negated = chars[k] === '^';
  if (negated) k++;
  const ranges: (readonly [number, number])[] = [];
  while (!(chars[k] === ']' && ranges.length > 0)) {
    const lo = member();
    let hi = lo;
    if (chars[k] === '-') {
      k++;
      hi = member();
    }
    if (lo > hi) {
      throw patternError({
        message: `syntax error in pattern ${JSON.stringify(options.pattern)}: the character range ${JSON.stringify(`${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)}`)} is reversed`,
        location: options.location,
        hint: 'Write a range low to high, e.g. [a-z].',
      });
    }
    ranges.push([lo, hi]);
  }
  options.tokens.push({ kind: 'char', test: { kind: 'class', negated, ranges } });
  return k + 1;
}

export interface IgnoreMatcherOptions {
  readonly patterns: readonly IgnorePattern[];
}

/** Decides which context paths an ignore file excludes. Immutable once built. */
export class IgnoreMatcher {
  /** A matcher that excludes nothing. */
  static readonly empty: IgnoreMatcher = new IgnoreMatcher({ patterns: [] });

  readonly patterns: readonly IgnorePattern[];
  readonly #compiled: readonly { readonly negated: boolean; readonly compiled: CompiledPattern }[];

  constructor(options: IgnoreMatcherOptions) {
    this.patterns = options.patterns;
    this.#compiled = options.patterns.map((p) => ({
      negated: p.negated,
      compiled: compileIgnorePattern({ pattern: p.pattern, location: p.location }),
    }));
  }

  /** True when there are no patterns. */
  get isEmpty(): boolean {
    return this.#compiled.length === 0;
  }

  /**
   * Whether `path` (slash-separated, relative to the context root) is excluded: the last pattern
   * matching it or one of its parent directories decides. The root itself is never excluded.
   */
  matches(path: string): boolean {
    const clean = cleanRelative(path);
    if (clean === '.') return false;
    let excluded = false;
    for (const { negated, compiled } of this.#compiled) {
      // A pattern that cannot change the answer is not evaluated.
      if (negated !== excluded) continue;
      if (matchesSelfOrParent(compiled, clean)) excluded = !negated;
    }
    return excluded;
  }

  /**
   * Whether some `!` pattern could match a path strictly below directory `dirPath`: when false,
   * a walker that found `dirPath` excluded can skip it whole, since nothing under it comes back.
   */
  mayIncludeChildren(dirPath: string): boolean {
    const clean = cleanRelative(dirPath);
    const below = clean === '.' ? '' : `${clean}/`;
    return this.#compiled.some(({ negated, compiled }) => negated && canMatchBelow(compiled, below));
  }
}

/** The pattern matches `path` or one of its parent directories (MatchesOrParentMatches). */
function matchesSelfOrParent(compiled: CompiledPattern, path: string): boolean {
  if (compiled.kind === 'regexp') return compiled.selfOrParent.test(path);
  if (matchesWhole(compiled, path)) return true;
  for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
    if (matchesWhole(compiled, path.slice(0, i))) return true;
  }
  return false;
}

function matchesWhole(compiled: Exclude<CompiledPattern, { kind: 'regexp' }>, path: string): boolean {
  switch (compiled.kind) {
    case 'exact':
      return path === compiled.text;
    case 'prefix':
      return path.startsWith(compiled.prefix);
    case 'suffix':
      return path.endsWith(compiled.suffix) || (compiled.suffix.startsWith('/') && path === compiled.suffix.slice(1));
  }
}

/** Whether some path starting with `below` (a directory plus `/`, or '' for the root) can match. */
function canMatchBelow(compiled: CompiledPattern, below: string): boolean {
  switch (compiled.kind) {
    case 'exact':
      return compiled.text.startsWith(below) && compiled.text.length > below.length;
    case 'prefix':
      return below.startsWith(compiled.prefix) || compiled.prefix.startsWith(below);
    case 'suffix':
      return true;
    case 'regexp':
      return canExtend(compiled.tokens, below);
  }
}

/**
 * Whether `input` can be extended to a path the pattern matches: simulates the pattern's NFA.
 * State 2j: before token j; state 2j+1: inside the `.*` of a `(.*\/)?` token j.
 */
function canExtend(tokens: readonly Token[], input: string): boolean {
  const size = 2 * tokens.length + 2;
  let current = closure(tokens, new Uint8Array(size), [0]);
  for (const ch of input) {
    const c = ch.codePointAt(0)!;
    const next: number[] = [];
    for (let state = 0; state < size; state++) {
      if (current[state] !== 1) continue;
      const j = state >> 1;
      const token = tokens[j];
      if (token === undefined) continue;
      if (state % 2 === 1) {
        if (c !== NEWLINE) next.push(state);
        if (c === SLASH) next.push(2 * (j + 1));
        continue;
      }
      switch (token.kind) {
        case 'char':
          if (testChar(token.test, c)) next.push(2 * (j + 1));
          break;
        case 'star':
          if (c !== SLASH) next.push(state);
          break;
        case 'rest':
          if (c !== NEWLINE) next.push(state);
          break;
        case 'dirs':
          break;
      }
    }
    if (next.length === 0) return false;
    current = closure(tokens, new Uint8Array(size), next);
  }
  return true;
}

/** Marks `seeds` and every state reachable from them without reading a character. */
function closure(tokens: readonly Token[], set: Uint8Array, seeds: number[]): Uint8Array {
  const stack = seeds;
  while (stack.length > 0) {
    const state = stack.pop()!;
    if (set[state] === 1) continue;
    set[state] = 1;
    if (state % 2 === 1) continue;
    const token = tokens[state >> 1];
    if (token === undefined || token.kind === 'char') continue;
    stack.push(state + 2);
    if (token.kind === 'dirs') stack.push(state + 1);
  }
  return set;
}

function testChar(test: CharTest, c: number): boolean {
  switch (test.kind) {
    case 'literal':
      return c === test.char;
    case 'not-slash':
      return c !== SLASH;
    case 'class':
      return test.ranges.some(([lo, hi]) => lo <= c && c <= hi) !== test.negated;
  }
}

/** A path as the matcher wants it: Go-cleaned, relative (no leading `/`), `.` for the root. */
function cleanRelative(path: string): string {
  // Already clean (a walk's paths are): no empty, `.` or `..` element, no leading or trailing slash.
  if (path !== '' && !UNCLEAN.test(path)) return path;
  const clean = cleanPath(path).replace(/^\/+/, '');
  return clean === '' ? '.' : clean;
}

const UNCLEAN = /(^|\/)\.{0,2}(\/|$)/;

/** Go's strings.TrimSpace: Unicode White_Space at both ends (not U+FEFF, unlike String.trim). */
function trimGoSpace(text: string): string {
  return text.replace(/^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g, '');
}
