/**
 * Variable expansion applied to exactly the instructions and positions BuildKit expands
 * (dockerfile2llb `dispatch`): ENV and LABEL keys and values; ADD/COPY sources, destination,
 * --chown, --chmod (and ADD --checksum); unquoted COPY/ADD heredoc bodies (quotes kept);
 * WORKDIR; USER; VOLUME; STOPSIGNAL; EXPOSE (then split into words); RUN --mount values.
 * RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK commands are left to the shell; FROM and ARG are
 * resolved by the stage planner; ONBUILD and MAINTAINER are literal.
 */
import { CaissonError } from '../errors.js';
import type { Instruction, KeyValue, InlineFile, FileTransfer } from './instructions/types.js';
import { assertChmod } from './instructions/chmod.js';
import { parseMount } from './instructions/mount.js';
import { expandWord, type EnvLookup } from './shell/index.js';

export interface ExpandOptions {
  readonly env: EnvLookup;
  readonly escapeToken: '\\' | '`';
  /** Called with the names of variables that were referenced but are not set. */
  readonly onUnmatched?: (names: ReadonlySet<string>) => void;
}

type Expander = (word: string) => string;

function expanders(instruction: Instruction, options: ExpandOptions): { word: Expander; words: (word: string) => string[]; raw: Expander } {
  const note = (unmatched: ReadonlySet<string>): void => {
    if (unmatched.size > 0) options.onUnmatched?.(unmatched);
  };
  const located = <T>(run: () => T): T => {
    try {
      return run();
    } catch (error) {
      if (error instanceof CaissonError && error.location === undefined) {
        throw new CaissonError({
          code: error.code,
          message: error.message,
          location: instruction.location,
          ...(error.hint === undefined ? {} : { hint: error.hint }),
          cause: error,
        });
      }
      throw error;
    }
  };
  const lex = { escapeToken: options.escapeToken };
  return {
    word: (word) =>
      located(() => {
        const result = expandWord(word, options.env, lex);
        note(result.unmatched);
        return result.result;
      }),
    words: (word) =>
      located(() => {
        const result = expandWord(word, options.env, lex);
        note(result.unmatched);
        return [...result.words];
      }),
    // Heredoc bodies: backslash escapes only, quotes are ordinary characters.
    raw: (word) =>
      located(() => {
        const result = expandWord(word, options.env, { escapeToken: '\\', skipProcessQuotes: true });
        note(result.unmatched);
        return result.result;
      }),
  };
}

function expandKeyValues(pairs: readonly KeyValue[], word: Expander): KeyValue[] {
  return pairs.map((pair) => ({ key: word(pair.key), value: word(pair.value), legacy: pair.legacy }));
}

function expandTransfer(instruction: Instruction & FileTransfer, word: Expander, raw: Expander): FileTransfer {
  const chmod = instruction.chmod === undefined ? undefined : word(instruction.chmod);
  if (chmod !== undefined && chmod !== '') assertChmod(chmod, instruction.location);
  const chown = instruction.chown === undefined ? undefined : word(instruction.chown);
  const inline = instruction.inline.map((file): InlineFile => (file.expand ? { ...file, content: raw(file.content) } : file));
  return {
    sources: instruction.sources.map(word),
    inline,
    destination: word(instruction.destination),
    ...(chown === undefined || chown === '' ? {} : { chown }),
    ...(chmod === undefined || chmod === '' ? {} : { chmod }),
    link: instruction.link,
    exclude: instruction.exclude,
    json: instruction.json,
  };
}

/** The instruction with variables replaced where BuildKit replaces them. */
export function expandInstruction<T extends Instruction>(instruction: T, options: ExpandOptions): T {
  return expandAny(instruction, options) as T;
}

function expandAny(i: Instruction, options: ExpandOptions): Instruction {
  const { word, words, raw } = expanders(i, options);
  switch (i.kind) {
    case 'env':
      return { ...i, env: expandKeyValues(i.env, word) };
    case 'label':
      return { ...i, labels: expandKeyValues(i.labels, word) };
    case 'copy':
      return { ...i, ...expandTransfer(i, word, raw) };
    case 'add': {
      const checksum = i.checksum === undefined ? undefined : word(i.checksum);
      const { checksum: _unexpanded, ...rest } = i;
      return { ...rest, ...expandTransfer(i, word, raw), ...(checksum === undefined || checksum === '' ? {} : { checksum }) };
    }
    case 'workdir':
      return { ...i, path: word(i.path) };
    case 'user':
      return { ...i, user: word(i.user) };
    case 'volume':
      return { ...i, volumes: i.volumes.map(word) };
    case 'stopsignal':
      return { ...i, signal: word(i.signal) };
    case 'expose':
      return { ...i, ports: i.ports.flatMap(words) };
    case 'run':
      return {
        ...i,
        mounts: i.mounts.map((mount) => parseMount({ spec: mount.spec, location: i.location, expand: word })),
      };
    case 'from':
    case 'arg':
    case 'cmd':
    case 'entrypoint':
    case 'shell':
    case 'healthcheck':
    case 'onbuild':
    case 'maintainer':
      return i;
  }
}
