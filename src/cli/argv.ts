/**
 * argv → the command to run and its parsed options, on node's util.parseArgs (as a tokenizer)
 * with our own validation: unknown commands and options get "did you mean", booleans accept
 * `--name`, `--name=true|false` and the other spellings of Go's strconv.ParseBool (`=1`, `=t`,
 * `=0`, `=F`, …: pflag's convention, which kaniko users have in their scripts),
 * choices are checked. A single-value option given again takes the last value, as in pflag: a
 * Tekton Task's fixed args are overridden by the same flags later in EXTRA_ARGS; options declared
 * `multiple` collect every value. Conflicts are checked on the final values, and a positional
 * given again as its option (`build DIR -c DIR2`, or `build -c DIR --cache true`) is refused, never
 * one of them dropped. An empty value (`--target=`) counts as not given: Tekton passes an
 * optional param left empty that way, since a step's args cannot leave a flag out.
 */
import { parseArgs } from 'node:util';
import { CaissonError, suggest } from '../errors.js';
import { ParsedArgs, type CommandSpec, type OptionSpec } from './spec.js';

export type Invocation =
  | { readonly kind: 'help'; readonly command?: CommandSpec }
  | { readonly kind: 'version' }
  | { readonly kind: 'run'; readonly command: CommandSpec; readonly args: ParsedArgs; readonly global: ParsedArgs };

export interface ParseCommandLineOptions {
  readonly argv: readonly string[];
  readonly commands: readonly CommandSpec[];
  /** Options every command accepts (verbosity, log format, help, version). */
  readonly global: readonly OptionSpec[];
}

function usage(message: string, hint?: string): CaissonError {
  return new CaissonError({ code: 'ERR_USAGE', message, ...(hint === undefined ? {} : { hint }) });
}

/** Go's strconv.ParseBool, which pflag uses: 1, t, T, TRUE, true, True and their false twins (here any case). */
const BOOLEAN_WORDS: ReadonlyMap<string, boolean> = new Map([
  ['true', true],
  ['t', true],
  ['1', true],
  ['false', false],
  ['f', false],
  ['0', false],
]);

/** `true` or `false` in any case: the words no one means as an argument after a boolean flag. */
function isTrueOrFalse(word: string): boolean {
  return /^(true|false)$/i.test(word);
}

type ParseArgsOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function tokenize(argv: readonly string[], options: readonly OptionSpec[]) {
  const config: ParseArgsOptions = {};
  for (const option of options) {
    config[option.name] = { type: option.type, ...(option.short === undefined ? {} : { short: option.short }) };
    for (const alias of option.aliases ?? []) config[alias] = { type: option.type };
  }
  return parseArgs({ args: [...argv], options: config, strict: false, allowPositionals: true, tokens: true }).tokens;
}

interface Collected {
  readonly values: Map<string, string | boolean | string[]>;
  readonly positionals: string[];
  /** By positional index: the boolean flag given bare right before it (`--cache` of `--cache true`). */
  readonly afterBoolean: Map<number, string>;
  readonly rest: string[];
}

/** Values of the options in `argv` for `options` (of `command`, if any), validated; the positionals apart. */
function collect(argv: readonly string[], options: readonly OptionSpec[], command?: string, hasRest = false): Collected {
  const byName = new Map<string, OptionSpec>();
  for (const option of options) {
    byName.set(option.name, option);
    if (option.short !== undefined) byName.set(option.short, option);
    for (const alias of option.aliases ?? []) byName.set(alias, option);
  }
  const values = new Map<string, string | boolean | string[]>();
  const positionals: string[] = [];
  const afterBoolean = new Map<number, string>();
  const rest: string[] = [];
  let terminated = false;
  let bareBoolean: string | undefined;
  for (const token of tokenize(argv, options)) {
    const previous = bareBoolean;
    bareBoolean = undefined;
    if (token.kind === 'option-terminator') terminated = hasRest;
    if (token.kind === 'positional') {
      if (!terminated && previous !== undefined) afterBoolean.set(positionals.length, previous);
      (terminated ? rest : positionals).push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const spec = byName.get(token.name);
    if (spec === undefined) {
      const close = suggest({ value: token.name, candidates: options.map((o) => o.name), caseSensitive: true });
      const where = command === undefined ? 'caisson' : `caisson ${command}`;
      throw usage(`unknown option ${token.rawName} for ${where}`, close === undefined ? `see ${where} --help for the options` : `did you mean --${close}?`);
    }
    const flag = `--${spec.name}`;
    if (spec.unsupported !== undefined) throw usage(`${token.rawName} is not supported by caisson: ${spec.unsupported}`, `remove ${token.rawName} from the command line`);
    if (token.value === '') continue;
    let value: string | boolean;
    if (spec.type === 'boolean') {
      const parsed = token.value === undefined ? true : BOOLEAN_WORDS.get(token.value.toLowerCase());
      if (parsed === undefined) throw usage(`${flag} takes true or false (also 1, t, 0, f; any case), not "${token.value}"`, `write ${flag} or ${flag}=false`);
      value = parsed;
      if (token.value === undefined) bareBoolean = token.rawName;
    } else {
      if (token.value === undefined) throw usage(`${flag} needs a value`, `write ${flag}=${spec.placeholder ?? '<value>'}`);
      if (spec.choices !== undefined && !spec.choices.includes(token.value)) {
        throw usage(`invalid value "${token.value}" for ${flag}`, `choose one of: ${spec.choices.join(', ')}`);
      }
      value = token.value;
    }
    if (spec.multiple === true) {
      const previous = values.get(spec.name);
      values.set(spec.name, [...(Array.isArray(previous) ? previous : []), value as string]);
    } else {
      values.set(spec.name, value);
    }
  }
  for (const spec of options) {
    for (const other of spec.conflicts ?? []) {
      if (given(values.get(spec.name)) && given(values.get(other))) throw usage(`--${spec.name} and --${other} cannot be used together`, 'drop one of them');
    }
  }
  // Defaults after the conflicts, so that a default is never taken for a given option.
  for (const spec of options) {
    if (!values.has(spec.name) && spec.default !== undefined) values.set(spec.name, spec.type === 'boolean' ? spec.default === 'true' : spec.default);
  }
  return { values, positionals, afterBoolean, rest };
}

/** Whether an option's final value says it was given: a boolean true, a string, or some values of a repeated one. */
function given(value: string | boolean | string[] | undefined): boolean {
  return value === true || typeof value === 'string' || (Array.isArray(value) && value.length > 0);
}

/**
 * A hint for an argument that looks like a boolean flag's value written as a separate word
 * (`--cache true`, which pflag does not take either); undefined for any other argument.
 */
function booleanWordHint(options: { readonly word: string; readonly flag: string | undefined }): string | undefined {
  const { word, flag } = options;
  const value = BOOLEAN_WORDS.get(word.toLowerCase());
  const rule = 'a boolean flag does not take the next word as its value';
  if (flag !== undefined && value !== undefined) return value ? `write ${flag} (or ${flag}=${word}): ${rule}` : `write ${flag}=${word}: ${rule}`;
  if (isTrueOrFalse(word)) return `booleans are written --flag or --flag=${word}: ${rule}`;
  return undefined;
}

/** Usage errors for positionals: too many, a required one missing, one given again as its option (`build DIR -c DIR2`), true or false right after a boolean flag (`--cache true`). */
function checkPositionals(command: CommandSpec, parsed: Collected): void {
  const declared = command.positionals ?? [];
  const extra = parsed.positionals[declared.length];
  if (extra !== undefined && declared.at(-1)?.variadic !== true) {
    const hint = booleanWordHint({ word: extra, flag: parsed.afterBoolean.get(declared.length) });
    throw usage(`unexpected argument "${extra}" for caisson ${command.name}`, hint ?? `see caisson ${command.name} --help`);
  }
  const missing = declared.slice(parsed.positionals.length).find((positional) => positional.required === true);
  if (missing !== undefined) throw usage(`caisson ${command.name} needs the argument <${missing.name}>`, `see caisson ${command.name} --help`);
  for (const [index, positional] of declared.entries()) {
    const argument = parsed.positionals[index];
    const option = command.options.find((candidate) => candidate.name === positional.option);
    const value = option === undefined ? undefined : parsed.values.get(option.name);
    if (argument === undefined || argument === '' || option === undefined || value === undefined) continue;
    const names = `${option.short === undefined ? '' : `-${option.short}/`}--${option.name}`;
    throw usage(
      `caisson ${command.name}: the ${positional.name} is given twice, as the argument "${argument}" and as --${option.name} "${String(value)}"`,
      booleanWordHint({ word: argument, flag: parsed.afterBoolean.get(index) }) ?? `give the ${positional.name} once: as the argument or with ${names}`,
    );
  }
  // `--cache true`: the word is an argument, which no one means (kaniko's executor takes none).
  for (const [index, argument] of parsed.positionals.entries()) {
    const flag = parsed.afterBoolean.get(index);
    if (flag === undefined || !isTrueOrFalse(argument)) continue;
    const what = declared[index]?.name ?? 'argument';
    throw usage(`caisson ${command.name}: "${argument}" after ${flag} would be the ${what}, not the flag's value`, booleanWordHint({ word: argument, flag }));
  }
}

/** Works out what to do for `argv` (without node and the script). Throws CaissonError ERR_USAGE. */
export function parseCommandLine(options: ParseCommandLineOptions): Invocation {
  const { argv, commands, global } = options;
  const first = tokenize(argv, global).find((token) => token.kind === 'positional');
  const name = first?.kind === 'positional' ? first.value : undefined;
  if (name === undefined || name === 'help') {
    const preliminary = collect(argv.filter((arg) => arg !== 'help'), global);
    const topic = preliminary.positionals[0];
    if (name === 'help' && topic !== undefined) {
      const command = commands.find((c) => c.name === topic);
      if (command !== undefined) return { kind: 'help', command };
    }
    if (preliminary.values.get('version') === true) return { kind: 'version' };
    if (preliminary.values.get('help') === true || name === 'help') return { kind: 'help' };
    throw usage('give a command', 'see caisson --help');
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    const close = suggest({ value: name, candidates: commands.map((c) => c.name), caseSensitive: true });
    throw usage(`unknown command "${name}"`, close === undefined ? 'see caisson --help for the commands' : `did you mean ${close}?`);
  }
  const rest = [...argv];
  rest.splice(first?.kind === 'positional' ? first.index : 0, 1);
  const parsed = collect(rest, [...command.options, ...global], command.name, command.rest !== undefined);
  if (parsed.values.get('help') === true) return { kind: 'help', command };
  if (parsed.values.get('version') === true) return { kind: 'version' };
  checkPositionals(command, parsed);
  const globalValues = new Map([...parsed.values].filter(([key]) => global.some((g) => g.name === key)));
  return { kind: 'run', command, args: new ParsedArgs(parsed.values, parsed.positionals, parsed.rest), global: new ParsedArgs(globalValues, []) };
}
