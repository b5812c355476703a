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

function extractBuilderFlags(line: string, escapeToken: string): { flags: string[]; rest: string } {
  const chars = Array.from(line);
  const flags: string[] = [];
  let word = '';
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOk = false;
  let offset = 0; // UTF-16 offset of chars[pos], to slice the rest
  for (let pos = 0; pos < chars.length; offset += (chars[pos] as string).length, pos++) {
    let ch = chars[pos] as string;
    if (phase === 'spaces') {
      if (isSpace(ch)) continue;
      if (ch !== '-' || chars[pos + 1] !== '-') return { flags, rest: line.slice(offset) };
      phase = 'word';
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { flags, rest: line.slice(offset) };
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
        if (pos + 1 === chars.length) continue;
        offset += ch.length;
        pos++;
        ch = chars[pos] as string;
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === escapeToken) {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      offset += ch.length;
      pos++;
      ch = chars[pos] as string;
    }
    word += ch;
  }
  if (phase !== 'spaces' && word !== '--' && (blankOk || word.length > 0)) flags.push(word);
  return { flags, rest: '' };
}
