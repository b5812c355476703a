/**
 * A RUN command's output: passed on line by line to the logger as it comes, and its last lines
 * kept for the error when the command fails.
 */
import type { Logger } from '../../log.js';

const TAIL_LINES = 10;

export class RunOutput {
  readonly #logger: Logger;
  readonly #partial = new Map<string, string>();
  readonly #tail: string[] = [];

  constructor(options: { readonly logger: Logger }) {
    this.#logger = options.logger;
  }

  write(chunk: Buffer, stream: 'stdout' | 'stderr'): void {
    const text = (this.#partial.get(stream) ?? '') + chunk.toString('utf8');
    const lines = text.split('\n');
    this.#partial.set(stream, lines.pop() ?? '');
    for (const line of lines) this.#line(line);
  }

  /** Flushes unfinished lines; returns the last lines seen. */
  finish(): readonly string[] {
    for (const [stream, rest] of this.#partial) {
      if (rest !== '') this.#line(rest);
      this.#partial.delete(stream);
    }
    return this.#tail;
  }

  #line(line: string): void {
    this.#logger.info(line);
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
  }
}
