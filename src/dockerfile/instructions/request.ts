/**
 * What every instruction parser receives: the syntax node, its flattened arguments, its
 * location, and `fail()` for errors that name the file and line.
 */
import { CaissonError, type ErrorCode, type SourceLocation } from '../../errors.js';
import type { InstructionNode } from '../ast.js';
import { trimSpace } from '../text.js';

export class InstructionRequest {
  readonly node: InstructionNode;
  readonly file: string;
  readonly escapeToken: '\\' | '`';
  /** The arguments; for ONBUILD the trigger's keyword followed by its arguments. */
  readonly args: readonly string[];
  readonly location: SourceLocation;
  /** The fields every typed instruction carries. */
  readonly base: { readonly keyword: string; readonly location: SourceLocation; readonly source: string; readonly comments: readonly string[] };

  constructor(options: { node: InstructionNode; file: string; escapeToken: '\\' | '`' }) {
    this.node = options.node;
    this.file = options.file;
    this.escapeToken = options.escapeToken;
    const trigger = options.node.trigger;
    this.args = trigger === undefined ? options.node.args : [trigger.command, ...trigger.args];
    this.location = { file: options.file, line: options.node.range.start, endLine: options.node.range.end };
    this.base = { keyword: options.node.command, location: this.location, source: trimSpace(options.node.original), comments: options.node.comments };
  }

  /** The instruction keyword in upper case, for messages. */
  get name(): string {
    return this.node.command.toUpperCase();
  }

  fail(message: string, hint?: string, code: ErrorCode = 'ERR_DOCKERFILE_INSTRUCTION'): never {
    throw new CaissonError({ code, message, location: this.location, ...(hint === undefined ? {} : { hint }) });
  }

  /** BuildKit's "X requires exactly one argument" (WORKDIR, USER, STOPSIGNAL, MAINTAINER). */
  requireOneArg(): string {
    const [only] = this.args;
    if (only === undefined || this.args.length !== 1) {
      this.fail(`${this.name} requires exactly one argument`, `write ${this.name} <value>, quoting or escaping any spaces`);
    }
    return only;
  }

  /** BuildKit's "X requires at least one argument". */
  requireArgs(): void {
    if (this.args.length === 0) this.fail(`${this.name} requires at least one argument`);
  }
}
