/**
 * `$…` expansions: `$name`, `${name}`, `${name<modifier>word}` and `${name/pattern/replacement}`,
 * names being letters/digits/`_`, a run of digits, or one special parameter.
 */

import {
  LexFailure,
  badSubstitution,
  invalidPattern,
  missingBrace,
  missingSlash,
  requiredVariable,
  unsupportedModifier,
} from './failure.js';
import { processStopOn, type LexState } from './lex.js';
import { PatternError } from './glob.js';
import { replacePattern, trimPrefix, trimSuffix } from './pattern.js';
import { EOF, isDigit, isLetter, rune, runeString } from './unicode.js';

const LBRACE = rune('{');
const RBRACE = rune('}');
const COLON = rune(':');
const SLASH = rune('/');
const UNDERSCORE = rune('_');
const PLUS = rune('+');
const MINUS = rune('-');
const QUESTION = rune('?');
const HASH = rune('#');
const PERCENT = rune('%');
/** POSIX special parameters (`$@ $* $# $? $- $$ $! $0`): never set in a Dockerfile. */
const SPECIAL_PARAMS: ReadonlySet<number> = new Set([...'@*#?-$!0'].map(rune));
const MODIFIERS: ReadonlySet<number> = new Set([PLUS, MINUS, QUESTION, HASH, PERCENT]);

/** Expands the `$…` at the scanner (the `$` not yet consumed). */
export function processDollar(state: LexState): string {
  const { scanner } = state;
  scanner.next();

  if (scanner.peek() !== LBRACE) {
    const name = processName(state);
    if (name === '') return '$';
    const value = getEnv(state, name);
    if (value === undefined && state.skipUnsetEnv) return `$${name}`;
    return value ?? '';
  }

  scanner.next();
  const first = scanner.peek();
  if (first === EOF) throw missingBrace();
  if (first === LBRACE || first === RBRACE || first === COLON) throw badSubstitution();

  const name = processName(state);
  let ch = scanner.next();
  let modifier = runeString(ch);

  if (ch === RBRACE) {
    const value = getEnv(state, name);
    if (value === undefined && state.skipUnsetEnv) return `\${${name}}`;
    return value ?? '';
  }
  if (ch === SLASH) return processReplace(state, name);

  let nullIsUnset = false;
  if (ch === COLON) {
    // `:` makes an empty value count as unset; whatever follows is the modifier proper.
    nullIsUnset = true;
    ch = scanner.next();
    modifier += runeString(ch);
  } else if (!MODIFIERS.has(ch)) {
    throw unsupportedModifier(modifier);
  }
  return processModifier(state, { name, ch, modifier, nullIsUnset });
}

interface Modifier {
  readonly name: string;
  /** The modifier character (after any `:`). */
  readonly ch: number;
  /** The modifier as written, `:` included. */
  readonly modifier: string;
  readonly nullIsUnset: boolean;
}

/** The operand up to `stopChar` (consumed); any failure once the input is used up becomes `atEnd()`. */
function readOperand(
  state: LexState,
  stopChar: number,
  rawEscapes: boolean,
  atEnd: () => LexFailure,
): string {
  try {
    return processStopOn(state, stopChar, rawEscapes).result;
  } catch (error) {
    if (error instanceof LexFailure && state.scanner.peek() === EOF) throw atEnd();
    throw error;
  }
}

function processModifier(state: LexState, { name, ch, modifier, nullIsUnset }: Modifier): string {
  // Pattern operands keep their escapes so the pattern can see them.
  const rawEscapes = ch === HASH || ch === PERCENT;
  if (nullIsUnset && rawEscapes) throw unsupportedModifier(modifier);
  let word = readOperand(state, RBRACE, rawEscapes, missingBrace);

  const value = getEnv(state, name);
  if (state.skipUnsetEnv && value === undefined) return `\${${name}${modifier}${word}}`;
  const unset = value === undefined || (nullIsUnset && value === '');

  switch (ch) {
    case MINUS:
      return unset ? word : (value ?? '');
    case PLUS:
      return unset ? '' : word;
    case QUESTION:
      if (value === undefined) {
        throw requiredVariable(name, word === '' ? 'is not allowed to be unset' : word);
      }
      if (nullIsUnset && value === '') {
        throw requiredVariable(name, word === '' ? 'is not allowed to be empty' : word);
      }
      return value;
    case PERCENT:
    case HASH: {
      // `%`/`#` remove the shortest match, `%%`/`##` the longest.
      const greedy = word.length > 0 && word.codePointAt(0) === ch;
      if (greedy) word = word.slice(1);
      return withPattern(() =>
        ch === PERCENT ? trimSuffix(word, value ?? '', greedy) : trimPrefix(word, value ?? '', greedy),
      );
    }
    default:
      throw unsupportedModifier(modifier);
  }
}

/** `${name/pattern/replacement}` and `${name//pattern/replacement}` (first `/` consumed). */
function processReplace(state: LexState, name: string): string {
  const { scanner } = state;
  const all = scanner.peek() === SLASH;
  if (all) scanner.next();
  const pattern = readOperand(state, SLASH, true, missingSlash);
  const replacement = readOperand(state, RBRACE, true, missingBrace);

  const value = getEnv(state, name);
  // BuildKit writes one `/` back even for `//`.
  if (state.skipUnsetEnv && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
  return withPattern(() => replacePattern(value ?? '', pattern, replacement, all));
}

function withPattern(apply: () => string): string {
  try {
    return apply();
  } catch (error) {
    if (error instanceof PatternError) throw invalidPattern(error.message);
    throw error;
  }
}

/** A name: a run of digits, one special parameter, or letters, digits and `_`; may be empty. */
function processName(state: LexState): string {
  const { scanner } = state;
  let name = '';
  for (let ch = scanner.peek(); ch !== EOF; ch = scanner.peek()) {
    if (name === '' && isDigit(ch)) {
      while (scanner.peek() !== EOF && isDigit(scanner.peek())) name += runeString(scanner.next());
      return name;
    }
    if (name === '' && SPECIAL_PARAMS.has(ch)) return runeString(scanner.next());
    if (!isLetter(ch) && !isDigit(ch) && ch !== UNDERSCORE) break;
    name += runeString(scanner.next());
  }
  return name;
}

/** Looks a variable up and records it as matched or unmatched. */
function getEnv(state: LexState, name: string): string | undefined {
  const value = state.env.get(name);
  if (value === undefined) state.unmatched.add(name);
  else state.matched.add(name);
  return value;
}
