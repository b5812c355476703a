/**
 * The lexer proper: BuildKit's shell.Lex (frontend/dockerfile/shell/lex.go) reimplemented on
 * code points. One call gets one LexState; nested `${…}` operands re-enter processStopOn with
 * the same state, as BuildKit's recursive descent does.
 */

import { CaissonError } from '../../errors.js';
import { goQuote } from './go-quote.js';
import { LexFailure, unterminated } from './failure.js';
import { processDollar } from './dollar.js';
import { RuneScanner } from './scanner.js';
import type { EnvLookup, ExpandResult, ShellLexOptions } from './types.js';
import { EOF, rune, runeString } from './unicode.js';
import { WordCollector, type WordBuffer } from './words.js';

/** Everything one expansion reads and updates. */
export interface LexState {
  readonly scanner: RuneScanner;
  readonly env: EnvLookup;
  readonly escapeToken: number;
  readonly rawQuotes: boolean;
  readonly skipProcessQuotes: boolean;
  readonly skipUnsetEnv: boolean;
  /** Whether escape tokens are kept; switched for pattern operands, restored after. */
  rawEscapes: boolean;
  readonly wordBuffer: WordBuffer;
  readonly matched: Set<string>;
  readonly unmatched: Set<string>;
}

export interface StopOnResult {
  readonly result: string;
  readonly words: string[];
}

const DOLLAR = rune('$');
const LESS = rune('<');
const SINGLE = rune("'");
const DOUBLE = rune('"');
/** The heredoc `<<` may be followed by these before its word (BuildKit's isWhitespace). */
const HEREDOC_SPACE: ReadonlySet<number> = new Set([rune('\t'), rune('\r'), rune(' ')]);

/** Expands one word; throws CaissonError ERR_DOCKERFILE_EXPANSION with BuildKit's message. */
export function lexWord(word: string, env: EnvLookup, options: ShellLexOptions): ExpandResult {
  const state: LexState = {
    scanner: new RuneScanner(word),
    env,
    escapeToken: rune(options.escapeToken),
    rawQuotes: options.rawQuotes === true,
    skipProcessQuotes: options.skipProcessQuotes === true,
    skipUnsetEnv: options.skipUnsetEnv === true,
    rawEscapes: options.rawEscapes === true,
    wordBuffer: { text: '' },
    matched: new Set(),
    unmatched: new Set(),
  };
  try {
    const { result, words } = processStopOn(state, EOF, state.rawEscapes);
    return { result, words, matched: state.matched, unmatched: state.unmatched };
  } catch (error) {
    if (!(error instanceof LexFailure)) throw error;
    throw new CaissonError({
      code: 'ERR_DOCKERFILE_EXPANSION',
      message: `failed to process ${goQuote(word)}: ${error.message}`,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    });
  }
}

type Special = (state: LexState) => string;

function specialFor(state: LexState, ch: number): Special | undefined {
  if (ch === DOLLAR) return processDollar;
  if (ch === LESS) return processPossibleHeredoc;
  if (state.skipProcessQuotes) return undefined;
  if (ch === SINGLE) return processSingleQuote;
  if (ch === DOUBLE) return processDoubleQuote;
  return undefined;
}

/**
 * Reads up to `stopChar` (consumed) or the end of input (stopChar EOF), expanding as it goes;
 * returns the expanded text and its split words. Reaching the end while looking for a stop
 * character is an error.
 */
export function processStopOn(state: LexState, stopChar: number, rawEscapes: boolean): StopOnResult {
  const { scanner } = state;
  let result = '';
  state.wordBuffer.text = '';
  const words = new WordCollector(state.wordBuffer);
  const savedRawEscapes = state.rawEscapes;
  state.rawEscapes = rawEscapes;
  try {
    while (scanner.peek() !== EOF) {
      let ch = scanner.peek();
      if (stopChar !== EOF && ch === stopChar) {
        scanner.next();
        return { result, words: words.finish() };
      }
      const special = specialFor(state, ch);
      if (special !== undefined) {
        const text = special(state);
        result += text;
        if (ch === DOLLAR) words.addString(text);
        else words.addRawString(text);
        continue;
      }
      ch = scanner.next();
      if (ch === state.escapeToken) {
        if (state.rawEscapes) {
          words.addRawChar(ch);
          result += runeString(ch);
        }
        // The escape token escapes the next character; at the very end it is dropped.
        ch = scanner.next();
        if (ch === EOF) break;
        words.addRawChar(ch);
      } else {
        words.addChar(ch);
      }
      result += runeString(ch);
    }
    if (stopChar !== EOF) {
      throw new LexFailure(`unexpected end of statement while looking for matching ${runeString(stopChar)}`);
    }
    return { result, words: words.finish() };
  } finally {
    state.rawEscapes = savedRawEscapes;
  }
}

/** '…': everything literal up to the next single quote, which cannot be escaped. */
function processSingleQuote(state: LexState): string {
  const { scanner } = state;
  let result = '';
  const open = scanner.next();
  if (state.rawQuotes) result += runeString(open);
  for (;;) {
    const ch = scanner.next();
    if (ch === EOF) throw unterminated('single-quote', runeString(state.escapeToken));
    if (ch === SINGLE) {
      if (state.rawQuotes) result += runeString(ch);
      return result;
    }
    result += runeString(ch);
  }
}

/**
 * "…": literal except `$` expansions; the escape token escapes only `"`, `$` and itself, and
 * stays as written before anything else (twice when escapes are kept).
 */
function processDoubleQuote(state: LexState): string {
  const { scanner } = state;
  let result = '';
  const open = scanner.next();
  if (state.rawQuotes) result += runeString(open);
  for (;;) {
    const peeked = scanner.peek();
    if (peeked === EOF) throw unterminated('double-quote', runeString(state.escapeToken));
    if (peeked === DOUBLE) {
      const close = scanner.next();
      if (state.rawQuotes) result += runeString(close);
      return result;
    }
    if (peeked === DOLLAR) {
      result += processDollar(state);
      continue;
    }
    let ch = scanner.next();
    if (ch === state.escapeToken) {
      if (state.rawEscapes) result += runeString(ch);
      const following = scanner.peek();
      // A trailing escape token is dropped; the loop then reports the missing quote.
      if (following === EOF) continue;
      if (following === DOUBLE || following === DOLLAR || following === state.escapeToken) {
        ch = scanner.next();
      }
    }
    result += runeString(ch);
  }
}

/** `<<` (a heredoc marker) passes through with the tabs, CRs and spaces after it. */
function processPossibleHeredoc(state: LexState): string {
  const { scanner } = state;
  scanner.next();
  if (scanner.peek() !== LESS) return '<';
  scanner.next();
  let result = '<<';
  while (HEREDOC_SPACE.has(scanner.peek())) result += runeString(scanner.next());
  return result;
}
