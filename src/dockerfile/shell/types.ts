/** Public shapes of the shell-word expander (re-exported by index.ts). */

/** The Dockerfile escape token (`# escape=` directive). */
export type EscapeToken = '\\' | '`';

/** How a word is lexed; the flags mirror the fields of BuildKit's `shell.Lex`. */
export interface ShellLexOptions {
  readonly escapeToken: EscapeToken;
  /** Keep quote characters in the output. */
  readonly rawQuotes?: boolean;
  /** Keep escape tokens in the output. */
  readonly rawEscapes?: boolean;
  /** Treat quotes as ordinary characters. */
  readonly skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written. */
  readonly skipUnsetEnv?: boolean;
}

/** Read-only variable lookup; keys() in definition order. */
export interface EnvLookup {
  get(name: string): string | undefined;
  keys(): readonly string[];
}

export interface ExpandResult {
  /** The word after expansion (BuildKit's ProcessWord). */
  readonly result: string;
  /** The word split into fields after expansion (BuildKit's ProcessWords). */
  readonly words: readonly string[];
  /** Variable names that were found. */
  readonly matched: ReadonlySet<string>;
  /** Variable names looked up but unset. */
  readonly unmatched: ReadonlySet<string>;
}
