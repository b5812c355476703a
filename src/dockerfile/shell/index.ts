/**
 * shell: BuildKit-exact expansion of Dockerfile words ($v, ${v:-d}, ${v#p}, ${v/p/r}, quotes,
 * escapes, `<<` pass-through) and the splitting of the result into words.
 *
 * Exports expandWord, expandWords, envFromList, envFromMap, emptyEnv, goQuote (Go's
 * strconv.Quote), isSpaceRune (Go's unicode.IsSpace) and the types
 * EscapeToken, ShellLexOptions, EnvLookup, ExpandResult. Imports only ../../errors.js from
 * outside this folder; failures are CaissonError ERR_DOCKERFILE_EXPANSION whose message is
 * BuildKit's (`failed to process "<word>": <reason>`).
 */

import { lexWord } from './lex.js';
import type { EnvLookup, ExpandResult, ShellLexOptions } from './types.js';

export type { EnvLookup, EscapeToken, ExpandResult, ShellLexOptions } from './types.js';
export { emptyEnv, envFromList, envFromMap } from './env.js';
export { goQuote } from './go-quote.js';
export { isSpace as isSpaceRune } from './unicode.js';

/** Expands `word` (BuildKit's ProcessWordWithMatches), with its split words and the names seen. */
export function expandWord(word: string, env: EnvLookup, options: ShellLexOptions): ExpandResult {
  return lexWord(word, env, options);
}

/** Expands `word` and splits it into words (BuildKit's ProcessWords). */
export function expandWords(word: string, env: EnvLookup, options: ShellLexOptions): string[] {
  return [...lexWord(word, env, options).words];
}
