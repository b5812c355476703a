/**
 * Here-document headers on RUN, COPY and ADD lines: `<<EOF`, `<<-EOF` (strip leading tabs),
 * `3<<EOF` (file descriptor), `<<"EOF"` / `<<'EOF'` / `<<E"OF"` (any quoting: the body is not
 * expanded), several per line. The bodies are read by the parser.
 */
import { emptyEnv, expandWords } from './shell/index.js';

export interface HeredocHeader {
  readonly name: string;
  readonly fileDescriptor: number;
  readonly expand: boolean;
  readonly chomp: boolean;
}

const HEREDOC_WORD = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const QUOTES = /['"]/g;

function countQuotes(text: string): number {
  return text.match(QUOTES)?.length ?? 0;
}

/** The heredoc a single word opens (`<<EOF`, `<<-"EOF"`), or undefined when it opens none. */
export function parseHeredocWord(word: string): HeredocHeader | undefined {
  const match = HEREDOC_WORD.exec(word);
  if (match === null) return undefined;
  const rest = match[3] ?? '';
  if (rest === '') return undefined;
  // Lex the delimiter with and without its quotes: a difference means part of it was quoted.
  const words = expandWords(rest, emptyEnv, { escapeToken: '\\', skipUnsetEnv: true });
  if (words.length !== 1) return undefined;
  const raw = expandWords(rest, emptyEnv, { escapeToken: '\\', skipUnsetEnv: true, rawQuotes: true });
  const name = words[0] as string;
  return {
    name,
    fileDescriptor: match[1] === '' ? 0 : Number(match[1]),
    chomp: match[2] === '-',
    expand: countQuotes(name) === countQuotes(raw[0] ?? ''),
  };
}

/** Every heredoc a line opens, in order. */
export function heredocsFromLine(line: string): HeredocHeader[] {
  let words: string[];
  try {
    words = expandWords(line, emptyEnv, { escapeToken: '\\', rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  } catch {
    return []; // BuildKit ignores a line its lexer cannot split: it opens no heredoc
  }
  const headers: HeredocHeader[] = [];
  for (const word of words) {
    const header = parseHeredocWord(word);
    if (header !== undefined) headers.push(header);
  }
  return headers;
}

/** `<<-` bodies: leading tabs removed from every line. */
export function chompHeredocContent(content: string): string {
  return content.replace(/^\t+/gm, '');
}
