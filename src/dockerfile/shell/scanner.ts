/**
 * The part of Go's text/scanner that BuildKit's lexer uses: Peek and Next over code points,
 * EOF (-1) at the end, a byte order mark at the very start skipped. Lone UTF-16 surrogates read
 * as U+FFFD, as Go reads invalid UTF-8.
 */

import { EOF, toRunes } from './unicode.js';

const BOM = 0xfeff;

export class RuneScanner {
  private readonly runes: readonly number[];
  private pos = 0;

  constructor(text: string) {
    const runes = toRunes(text);
    if (runes[0] === BOM) runes.shift();
    this.runes = runes;
  }

  /** The next code point without consuming it, or EOF. */
  peek(): number {
    return this.runes[this.pos] ?? EOF;
  }

  /** Consumes and returns the next code point, or EOF (repeatedly) at the end. */
  next(): number {
    const rune = this.peek();
    if (rune !== EOF) this.pos++;
    return rune;
  }
}
