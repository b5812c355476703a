/**
 * The command-line specification: each command declares its positional and options once; the
 * same declarations drive argv parsing, validation, `--help`, and (later) the Tekton params.
 */
import type { CommandContext } from './context.js';

export interface OptionSpec {
  /** The long name: `--build-arg`. */
  readonly name: string;
  /** A one-letter alias: `-v`. */
  readonly short?: string;
  /** Other long names for the same option (Docker's spellings: `--file`, `--tag`). */
  readonly aliases?: readonly string[];
  /**
   * A kaniko flag caisson accepts in name only to refuse it: giving it is a usage error that
   * says this, never a silent no-op.
   */
  readonly unsupported?: string;
  readonly type: 'string' | 'boolean';
  /** May be given several times (strings only); values are collected in order. */
  readonly multiple?: boolean;
  readonly choices?: readonly string[];
  /** The value when the option is absent (documented in --help). */
  readonly default?: string;
  /** How the value is written in --help: `KEY=VALUE`. */
  readonly placeholder?: string;
  readonly describe: string;
  /** Options that may not be given together with this one. */
  readonly conflicts?: readonly string[];
}

export interface PositionalSpec {
  readonly name: string;
  readonly describe: string;
  /** Must be given (a usage error names it otherwise). */
  readonly required?: boolean;
  /** The last positional only: takes every remaining argument (`<source>...`). */
  readonly variadic?: boolean;
  /**
   * The option (without a default) that gives the same value, as `-c/--context` gives build's
   * context: giving both is a usage error, never one of them silently dropped.
   */
  readonly option?: string;
}

export interface CommandSpec {
  readonly name: string;
  /** One line, shown in `caisson --help`. */
  readonly describe: string;
  /** Positional arguments, in order. */
  readonly positionals?: readonly PositionalSpec[];
  /**
   * What the arguments after `--` are (each one a value; e.g. build args from a Tekton array
   * param). Without it, arguments after `--` are positionals.
   */
  readonly rest?: PositionalSpec;
  readonly options: readonly OptionSpec[];
  /** The command's code, imported only when it runs. */
  readonly load: () => Promise<CommandModule>;
}

export interface CommandModule {
  run(args: ParsedArgs, context: CommandContext): Promise<void>;
}

/** Parsed option values, looked up by long name. */
export class ParsedArgs {
  readonly #values: ReadonlyMap<string, string | boolean | string[]>;
  readonly positionals: readonly string[];
  /** The arguments after `--`, for a command that declares `rest`. */
  readonly rest: readonly string[];

  constructor(values: ReadonlyMap<string, string | boolean | string[]>, positionals: readonly string[], rest: readonly string[] = []) {
    this.#values = values;
    this.positionals = positionals;
    this.rest = rest;
  }

  /** The first positional argument. */
  get positional(): string | undefined {
    return this.positionals[0];
  }

  string(name: string): string | undefined {
    const value = this.#values.get(name);
    return typeof value === 'string' ? value : undefined;
  }

  strings(name: string): string[] {
    const value = this.#values.get(name);
    return Array.isArray(value) ? value : [];
  }

  bool(name: string): boolean {
    return this.#values.get(name) === true;
  }

  /** Every option given (or defaulted) and its value, sorted by name. */
  entries(): [string, string | boolean | string[]][] {
    return [...this.#values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
