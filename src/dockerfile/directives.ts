/**
 * Parser directives (`# syntax=`, `# escape=`, `# check=`) with BuildKit's rules: only at the very
 * top of the file, case-insensitive names, optional spaces around `=`, each at most once; the
 * first line that is not a directive (an instruction, an empty line, any other comment) ends them.
 */
import { CaissonError } from '../errors.js';
import type { Directive } from './ast.js';
import { trimLeadingSpace } from './text.js';

const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const NAMES = new Set(['syntax', 'escape', 'check']);

/** Reads directives line by line; one per parse, holds only its own state. */
export class DirectiveScanner {
  readonly #file: string;
  readonly #seen = new Set<string>();
  #done = false;
  readonly directives: Directive[] = [];

  constructor(file: string) {
    this.#file = file;
  }

  /**
   * Looks at one line (newline and, for top-level lines, leading space already trimmed).
   * Returns the directive when the line is one.
   */
  scan(line: string, lineNumber: number): Directive | undefined {
    if (this.#done) return undefined;
    if (!line.startsWith('#')) {
      this.#done = true;
      return undefined;
    }
    const match = DIRECTIVE.exec(trimLeadingSpace(line.slice(1)));
    const name = match?.[1]?.toLowerCase();
    const value = match?.[2];
    if (name === undefined || value === undefined || !NAMES.has(name)) {
      this.#done = true;
      return undefined;
    }
    if (this.#seen.has(name)) {
      throw new CaissonError({
        code: 'ERR_DOCKERFILE_SYNTAX',
        message: `only one ${name} parser directive can be used`,
        hint: `remove the second "# ${name}=" line`,
        location: { file: this.#file, line: lineNumber },
      });
    }
    this.#seen.add(name);
    const directive: Directive = { name: name as Directive['name'], value, line: lineNumber };
    this.directives.push(directive);
    return directive;
  }
}
