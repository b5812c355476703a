/**
 * Go's `path/filepath.Match` as it behaves on Linux, the matcher behind COPY/ADD wildcards, and
 * `filepath.Clean`, which Docker applies to ignore patterns.
 *
 * Syntax: `*` any run of non-`/` characters, `?` one non-`/` character, `[...]` a non-empty class of
 * characters and `lo-hi` ranges (`[^...]` negates; `!` is an ordinary character), `\c` the literal
 * `c` (also inside classes). A class matches any character, `/` included. Matching works on the
 * UTF-8 bytes of the name, as Go does: literals compare bytes, `?` and classes read one rune, and
 * a `*` gives back one byte at a time, so it can stop inside a multi-byte character.
 *
 * A malformed pattern (Go's `ErrBadPattern`) is a CaissonError `ERR_BUILD_PATTERN`; unlike Go,
 * which may answer `false` before it notices, `goMatch` always checks the whole pattern first.
 */
import { CaissonError } from '../../errors.js';

/** One single-character operator of a chunk. */
type Atom =
  | { readonly kind: 'byte'; readonly value: number }
  | { readonly kind: 'rune' }
  | { readonly kind: 'class'; readonly negated: boolean; readonly ranges: readonly CharRange[] };

type CharRange = readonly [lo: number, hi: number];

/** A run of atoms, preceded by a `*` or not (Go's scanChunk unit). */
interface Segment {
  readonly star: boolean;
  readonly atoms: readonly Atom[];
}

const STAR = 0x2a;
const QUESTION = 0x3f;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const BACKSLASH = 0x5c;
const CARET = 0x5e;
const DASH = 0x2d;
const SLASH = 0x2f;
const RUNE_ERROR = 0xfffd;

/** Stateless: encodes strings to UTF-8 (lone surrogates become U+FFFD). */
const UTF8 = new TextEncoder();

export interface GoMatchOptions {
  readonly pattern: string;
  readonly name: string;
}

/** Whether `name` matches `pattern` entirely, as Go's `filepath.Match` decides on Linux. */
export function goMatch(options: GoMatchOptions): boolean {
  const segments = compileGoPattern(options.pattern);
  return matchSegments(segments, UTF8.encode(options.name));
}

/** Throws CaissonError `ERR_BUILD_PATTERN` when `pattern` is malformed for `filepath.Match`. */
export function checkGoPattern(pattern: string): void {
  compileGoPattern(pattern);
}

/**
 * Whether `pattern` has a `*`, `?` or `[` that is not escaped by a backslash: BuildKit's test for
 * "this COPY/ADD source is a wildcard".
 */
export function hasGlob(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      i++;
    } else if (ch === '*' || ch === '?' || ch === '[') {
      return true;
    }
  }
  return false;
}

function badPattern(pattern: string, reason: string): never {
  throw new CaissonError({
    code: 'ERR_BUILD_PATTERN',
    message: `syntax error in pattern ${JSON.stringify(pattern)}: ${reason}`,
    hint: 'Patterns follow Go filepath.Match: escape a literal *, ?, [ or \\ with a backslash; a [...] class needs a closing ] and at least one character.',
  });
}

function compileGoPattern(pattern: string): Segment[] {
  const bytes = UTF8.encode(pattern);
  const segments: Segment[] = [];
  let i = 0;
  while (i < bytes.length) {
    let star = false;
    while (bytes[i] === STAR) {
      star = true;
      i++;
    }
    const atoms: Atom[] = [];
    for (let b = bytes[i]; b !== undefined && b !== STAR; b = bytes[i]) {
      if (b === LBRACKET) {
        i = parseClass({ bytes, start: i + 1, pattern, atoms });
      } else if (b === QUESTION) {
        atoms.push({ kind: 'rune' });
        i++;
      } else if (b === BACKSLASH) {
        const escaped = bytes[i + 1];
        if (escaped === undefined) badPattern(pattern, 'it ends with a lone backslash');
        atoms.push({ kind: 'byte', value: escaped });
        i += 2;
      } else {
        atoms.push({ kind: 'byte', value: b });
        i++;
      }
    }
    segments.push({ star, atoms });
  }
  return segments;
}

interface ParseClassOptions {
  readonly bytes: Uint8Array;
  /** Index just after the `[`. */
  readonly start: number;
  readonly pattern: string;
  readonly atoms: Atom[];
}

/** Parses `[^lo-hi...]` into a class atom; returns the index after the closing `]`. */
function parseClass(options: ParseClassOptions): number {
  const { bytes, pattern } = options;
  let i = options.start;
  const negated = bytes[i] === CARET;
  if (negated) i++;
  const ranges: CharRange[] = [];
  for (;;) {
    if (bytes[i] === RBRACKET && ranges.length > 0) {
      i++;
      break;
    }
    const lo = classChar({ bytes, at: i, pattern, role: ranges.length === 0 ? 'first' : 'next' });
    i = lo.next;
    let hi = lo.rune;
    if (bytes[i] === DASH) {
      const upper = classChar({ bytes, at: i + 1, pattern, role: 'upper' });
      hi = upper.rune;
      i = upper.next;
    }
    ranges.push([lo.rune, hi]);
  }
  options.atoms.push({ kind: 'class', negated, ranges });
  return i;
}

interface ClassCharOptions {
  readonly bytes: Uint8Array;
  readonly at: number;
  readonly pattern: string;
  readonly role: 'first' | 'next' | 'upper';
}

/** One possibly escaped character of a class (Go's getEsc), with the index after it. */
function classChar(options: ClassCharOptions): { rune: number; next: number } {
  const { bytes, pattern } = options;
  let i = options.at;
  const b = bytes[i];
  if (b === undefined) badPattern(pattern, 'unclosed character class');
  if (b === DASH) badPattern(pattern, "a '-' in a character class must be escaped or stand between two characters");
  if (b === RBRACKET) {
    badPattern(pattern, options.role === 'upper' ? 'a character range has no upper bound' : 'empty character class');
  }
  if (b === BACKSLASH) {
    i++;
    if (i >= bytes.length) badPattern(pattern, 'unclosed character class');
  }
  const { rune, size } = decodeRune(bytes, i);
  if (rune === RUNE_ERROR && size === 1) badPattern(pattern, 'invalid UTF-8 in a character class');
  const next = i + size;
  if (next >= bytes.length) badPattern(pattern, 'unclosed character class');
  return { rune, next };
}

/** Go's Match loop over compiled segments: leftmost chunk matches, `*` never skips a `/`. */
function matchSegments(segments: readonly Segment[], name: Uint8Array): boolean {
  let pos = 0;
  for (let k = 0; k < segments.length; k++) {
    const { star, atoms } = segments[k]!;
    const last = k === segments.length - 1;
    if (star && atoms.length === 0) {
      // A trailing `*` takes the rest of the name unless it holds a `/`.
      return !name.subarray(pos).includes(SLASH);
    }
    const here = matchAtoms(atoms, name, pos);
    if (here >= 0 && (here === name.length || !last)) {
      pos = here;
      continue;
    }
    let advanced = false;
    if (star) {
      for (let i = pos; i < name.length && name[i] !== SLASH; i++) {
        const end = matchAtoms(atoms, name, i + 1);
        if (end < 0 || (last && end < name.length)) continue;
        pos = end;
        advanced = true;
        break;
      }
    }
    if (!advanced) return false;
  }
  return pos === name.length;
}

/** Matches `atoms` at the start of `name[from..]`; the index after the match, or -1. */
function matchAtoms(atoms: readonly Atom[], name: Uint8Array, from: number): number {
  let s = from;
  for (const atom of atoms) {
    if (s >= name.length) return -1;
    switch (atom.kind) {
      case 'byte':
        if (name[s] !== atom.value) return -1;
        s++;
        break;
      case 'rune':
        if (name[s] === SLASH) return -1;
        s += decodeRune(name, s).size;
        break;
      case 'class': {
        const { rune, size } = decodeRune(name, s);
        s += size;
        const inside = atom.ranges.some(([lo, hi]) => lo <= rune && rune <= hi);
        if (inside === atom.negated) return -1;
        break;
      }
    }
  }
  return s;
}

/** Go's utf8.DecodeRune: an invalid or truncated sequence reads as U+FFFD of size 1. */
function decodeRune(bytes: Uint8Array, at: number): { rune: number; size: number } {
  const b0 = bytes[at]!;
  if (b0 < 0x80) return { rune: b0, size: 1 };
  let extra: number;
  let rune: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    extra = 1;
    rune = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    extra = 2;
    rune = b0 & 0x0f;
    if (b0 === 0xe0) lo = 0xa0;
    if (b0 === 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    extra = 3;
    rune = b0 & 0x07;
    if (b0 === 0xf0) lo = 0x90;
    if (b0 === 0xf4) hi = 0x8f;
  } else {
    return { rune: RUNE_ERROR, size: 1 };
  }
  for (let k = 1; k <= extra; k++) {
    const c = bytes[at + k];
    const min = k === 1 ? lo : 0x80;
    const max = k === 1 ? hi : 0xbf;
    if (c === undefined || c < min || c > max) return { rune: RUNE_ERROR, size: 1 };
    rune = (rune << 6) | (c & 0x3f);
  }
  return { rune, size: extra + 1 };
}

/** Go's `filepath.Clean` on Linux: drops `.` and empty elements, folds `..`, no trailing `/`. */
export function cleanPath(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const out: string[] = [];
  for (const element of path.split('/')) {
    if (element === '' || element === '.') continue;
    if (element === '..') {
      if (out.length > 0 && out.at(-1) !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(element);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}
