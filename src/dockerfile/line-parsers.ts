/**
 * Per-instruction argument splitting, as BuildKit's line parsers do it: JSON arrays (exec form)
 * with the shell-form fallback, whitespace lists, `key=value` pairs (and the legacy `key value`),
 * ARG names, HEALTHCHECK's type word. Values keep their quotes; expansion happens later.
 */
import type { InstructionNode } from './ast.js';
import { goQuote } from './shell/index.js';
import { isSpace, splitOnceOnWhitespace, splitOnWhitespace, trimLeadingSpace } from './text.js';

export interface LineArgs {
  readonly args: string[];
  readonly json: boolean;
  readonly trigger?: InstructionNode;
}

/** What a line parser may need besides the text. */
export interface LineParserContext {
  readonly escapeToken: string;
  /** Parses ONBUILD's trigger as a line of its own. */
  readonly parseTrigger: (line: string) => InstructionNode;
}

/** A syntax problem inside one instruction's arguments; the parser adds the location. */
export class LineSyntaxError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

type LineParser = (rest: string, context: LineParserContext) => LineArgs;

const NONE: LineArgs = { args: [], json: false };

/**
 * Splits into words on unquoted whitespace, keeping quotes and escapes in the words (they are
 * processed by expansion later), so each word is a slice of `rest`; BuildKit only drops an escape
 * token that ends the text. Walks UTF-16 units: every character it acts on is ASCII and no
 * whitespace lies outside the BMP.
 */
export function parseWords(rest: string, escapeToken: string): string[] {
  const words: string[] = [];
  let start = -1; // start of the current word, -1 between words
  let quote = '';
  let quoted = false; // the word had quotes: keep it even when empty
  const end = (pos: number): void => {
    const word = rest.slice(start, pos);
    if (quoted || word.length > 0) words.push(word);
    start = -1;
    quoted = false;
  };
  for (let pos = 0; pos < rest.length; pos++) {
    const ch = rest[pos] as string;
    if (quote === '' && isSpace(ch)) {
      if (start >= 0) end(pos);
      continue;
    }
    if (start < 0) start = pos;
    if (ch === escapeToken && (quote === '' || quote === '"')) {
      if (pos + 1 === rest.length) {
        end(pos); // an escape token at the very end is dropped
        return words;
      }
      pos++;
    } else if (quote === '' && (ch === "'" || ch === '"')) {
      quote = ch;
      quoted = true;
    } else if (ch === quote) {
      quote = '';
    }
  }
  if (start >= 0) end(rest.length);
  return words;
}

/** ENV and LABEL: `key=value ...` triples (key, value, "="), or legacy `key value` (key, value, ""). */
function parseNameVal(instruction: string): LineParser {
  return (rest, context) => {
    const words = parseWords(rest, context.escapeToken);
    const first = words[0];
    if (first === undefined) return NONE;
    if (!first.includes('=')) {
      const [key, value] = splitOnceOnWhitespace(rest);
      if (value === undefined) {
        throw new LineSyntaxError(`${instruction} must have two arguments`, `write ${instruction} ${first}=<value>`);
      }
      return { args: [key, value, ''], json: false };
    }
    const args: string[] = [];
    for (const word of words) {
      const equals = word.indexOf('=');
      if (equals < 0) {
        throw new LineSyntaxError(
          `Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`,
          `quote values that contain spaces: ${instruction} key="a value"`,
        );
      }
      args.push(word.slice(0, equals), word.slice(equals + 1), '=');
    }
    return { args, json: false };
  };
}

/** ARG: a list of `name` or `name=value` words. */
const parseNameOrNameVal: LineParser = (rest, context) => ({
  args: parseWords(rest, context.escapeToken),
  json: false,
});

/** FROM and EXPOSE: whitespace separated, no quote handling. */
const parseWhitespaceList: LineParser = (rest) => (rest === '' ? NONE : { args: splitOnWhitespace(rest), json: false });

/** USER, WORKDIR, MAINTAINER, STOPSIGNAL: the rest of the line as one argument. */
const parseString: LineParser = (rest) => (rest === '' ? NONE : { args: [rest], json: false });

const NOT_STRINGS = 'when using JSON array syntax, arrays must be comprised of strings only';

/** A JSON array of strings, or undefined when the text is not a JSON array (shell form). */
function parseJsonArray(rest: string): string[] | undefined {
  const text = trimLeadingSpace(rest);
  if (!text.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  const strings: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string') {
      throw new LineSyntaxError(NOT_STRINGS, 'quote every element: ["executable", "arg"]');
    }
    strings.push(item);
  }
  return strings;
}

/** RUN, CMD, ENTRYPOINT, SHELL: exec form, or the whole rest as one shell-form argument. */
const parseMaybeJson: LineParser = (rest) => {
  if (rest === '') return NONE;
  const array = parseJsonArray(rest);
  return array === undefined ? { args: [rest], json: false } : { args: array, json: true };
};

/** ADD, COPY, VOLUME: exec form, or a whitespace list. */
const parseMaybeJsonToList: LineParser = (rest, context) => {
  const array = parseJsonArray(rest);
  return array === undefined ? parseWhitespaceList(rest, context) : { args: array, json: true };
};

/** HEALTHCHECK: a type word (NONE, CMD) then, for CMD, exec or shell form. */
const parseHealthConfig: LineParser = (rest, context) => {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest[sep] as string)) sep++;
  if (sep === 0) return NONE;
  let next = sep;
  while (next < rest.length && isSpace(rest[next] as string)) next++;
  const command = parseMaybeJson(rest.slice(next), context);
  return { args: [rest.slice(0, sep), ...command.args], json: command.json };
};

/** ONBUILD: the rest is an instruction of its own. */
const parseSubCommand: LineParser = (rest, context) =>
  rest === '' ? NONE : { args: [], json: false, trigger: context.parseTrigger(rest) };

/** An unknown instruction keeps one empty argument, as BuildKit's dump shows it. */
const parseIgnore: LineParser = () => ({ args: [''], json: false });

const LINE_PARSERS: ReadonlyMap<string, LineParser> = new Map([
  ['add', parseMaybeJsonToList],
  ['arg', parseNameOrNameVal],
  ['cmd', parseMaybeJson],
  ['copy', parseMaybeJsonToList],
  ['entrypoint', parseMaybeJson],
  ['env', parseNameVal('ENV')],
  ['expose', parseWhitespaceList],
  ['from', parseWhitespaceList],
  ['healthcheck', parseHealthConfig],
  ['label', parseNameVal('LABEL')],
  ['maintainer', parseString],
  ['onbuild', parseSubCommand],
  ['run', parseMaybeJson],
  ['shell', parseMaybeJson],
  ['stopsignal', parseString],
  ['user', parseString],
  ['volume', parseMaybeJsonToList],
  ['workdir', parseString],
]);

/** Splits `rest` the way BuildKit does for `command` (unknown commands keep one empty argument). */
export function parseLineArgs(command: string, rest: string, context: LineParserContext): LineArgs {
  const parser = LINE_PARSERS.get(command.toLowerCase()) ?? parseIgnore;
  return parser(rest, context);
}

/** The instruction names BuildKit knows, lower case. */
export const KNOWN_INSTRUCTIONS: readonly string[] = [...LINE_PARSERS.keys()];
