/**
 * Splits an instruction line into its keyword, its leading `--flags` and the rest, as BuildKit
 * does: flags are words starting with `--` before the first other word; quotes and the escape
 * token inside a flag are processed; a lone `--` ends the flags.
 */
import { isSpace, splitOnceOnWhitespace, trimSpace } from './text.js';

export interface SplitLine {
  readonly command: string;
  readonly flags: string[];
  readonly rest: string;
}

export function splitCommand(line: string, escapeToken: string): SplitLine {
  const parts = splitOnceOnWhitespace(trimSpace(line));
  if (parts.length === 1) return { command: parts[0], flags: [], rest: '' };
  const { flags, rest } = extractBuilderFlags(parts[1], escapeToken);
  return { command: parts[0], flags, rest: trimSpace(rest) };
}

/** Walks UTF-16 units (everything it acts on is ASCII; see parseWords). */
function extractBuilderFlags(line: string, escapeToken: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let word = '';
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOk = false;
  for (let pos = 0; pos < line.length; pos++) {
    let ch = line[pos] as string;
    if (phase === 'spaces') {
      if (isSpace(ch)) continue;
      if (ch !== '-' || line[pos + 1] !== '-') return { flags, rest: line.slice(pos) };
      phase = 'word';
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { flags, rest: line.slice(pos) };
        if (blankOk || word.length > 0) flags.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
        continue;
      }
      if (ch === escapeToken) {
        if (pos + 1 === line.length) continue;
        ch = line[++pos] as string;
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === escapeToken) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      ch = line[++pos] as string;
    }
    word += ch;
  }
  if (phase !== 'spaces' && word !== '--' && (blankOk || word.length > 0)) flags.push(word);
  return { flags, rest: '' };
}
