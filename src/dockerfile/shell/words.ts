/**
 * Word splitting as BuildKit's lexer does it while it expands. Quirk kept on purpose: the buffer
 * of the word being built is shared by every nesting level of one expansion, and each level
 * clears it when it starts, so text gathered before a `${v:-…}`-style operand is dropped from
 * the split words (never from the expanded string).
 */

import { isSpace, runeString } from './unicode.js';

/** The shared buffer of the word being built (BuildKit's `shellWord.wordsBuffer`). */
export interface WordBuffer {
  text: string;
}

export class WordCollector {
  private readonly buffer: WordBuffer;
  private readonly words: string[] = [];
  private inWord = false;

  constructor(buffer: WordBuffer) {
    this.buffer = buffer;
  }

  /** A character that splits words when it is white space. */
  addChar(rune: number): void {
    if (isSpace(rune)) {
      if (this.inWord && this.buffer.text.length !== 0) {
        this.words.push(this.buffer.text);
        this.buffer.text = '';
        this.inWord = false;
      }
      return;
    }
    this.addRawChar(rune);
  }

  /** A character that never splits (escaped). */
  addRawChar(rune: number): void {
    this.buffer.text += runeString(rune);
    this.inWord = true;
  }

  /** Expanded text: each character may split. */
  addString(text: string): void {
    for (const char of text) this.addChar(char.codePointAt(0) ?? 0xfffd);
  }

  /** Quoted text: kept whole, and marks a word as started even when empty. */
  addRawString(text: string): void {
    this.buffer.text += text;
    this.inWord = true;
  }

  /** The words so far, the pending one included when it is not empty. */
  finish(): string[] {
    if (this.buffer.text.length > 0) {
      this.words.push(this.buffer.text);
      this.buffer.text = '';
      this.inWord = false;
    }
    return this.words;
  }
}
