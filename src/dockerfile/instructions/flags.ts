/**
 * Instruction flags (`COPY --from=build`), with BuildKit's rules: `--name=value` for strings,
 * `--name` / `--name=true|false` for booleans, repeatable lists, `--` ends the flags, unknown
 * flags are errors with a suggestion, and a flag that belongs to another instruction says so.
 */
import { suggest } from '../../errors.js';
import type { InstructionRequest } from './request.js';

export type FlagKind = 'bool' | 'string' | 'strings';
export type FlagSpec = Readonly<Record<string, FlagKind>>;

/** The flags of every instruction that has any (the others take none). */
export const FLAG_SPECS = {
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string', device: 'strings' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  ADD: { chown: 'string', chmod: 'string', link: 'bool', checksum: 'string', 'keep-git-dir': 'bool', unpack: 'bool', exclude: 'strings' },
  HEALTHCHECK: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
} as const satisfies Record<string, FlagSpec>;

/** For instructions without flags. */
export const NO_FLAGS: FlagSpec = {};

/** The flags given to one instruction; immutable. */
export class ParsedFlags {
  readonly #values: ReadonlyMap<string, string | string[]>;

  constructor(values: ReadonlyMap<string, string | string[]>) {
    this.#values = values;
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  /** The names given, in the order first seen. */
  get used(): string[] {
    return [...this.#values.keys()];
  }

  string(name: string): string | undefined {
    const value = this.#values.get(name);
    return typeof value === 'string' ? value : undefined;
  }

  /** A boolean flag; undefined when not given. */
  bool(name: string): boolean | undefined {
    const value = this.#values.get(name);
    return value === undefined ? undefined : value === 'true';
  }

  strings(name: string): string[] {
    const value = this.#values.get(name);
    return Array.isArray(value) ? value : [];
  }
}

function unknownFlagHint(request: InstructionRequest, name: string, spec: FlagSpec): string {
  const close = suggest({ value: name, candidates: Object.keys(spec), caseSensitive: true });
  if (close !== undefined) return `did you mean --${close}?`;
  const owners = Object.entries(FLAG_SPECS)
    .filter(([instruction, flags]) => instruction !== request.name && Object.hasOwn(flags, name))
    .map(([instruction]) => instruction);
  const known = Object.keys(spec);
  const accepted = known.length === 0 ? `${request.name} takes no flags` : `${request.name} accepts ${known.map((f) => `--${f}`).join(', ')}`;
  return owners.length > 0 ? `--${name} is a flag of ${owners.join(' and ')}; ${accepted}` : accepted;
}

/** Parses `request.node.flags` against `spec`. */
const NO_FLAGS_GIVEN = new ParsedFlags(new Map());

export function parseFlags(request: InstructionRequest, spec: FlagSpec): ParsedFlags {
  if (request.node.flags.length === 0) return NO_FLAGS_GIVEN;
  const parsed = new Map<string, string | string[]>();
  for (const flag of request.node.flags) {
    if (flag === '--') break;
    if (!flag.startsWith('--')) request.fail(`arg should start with -- : ${flag}`);
    const equals = flag.indexOf('=');
    const flagName = equals < 0 ? flag : flag.slice(0, equals);
    const value = equals < 0 ? undefined : flag.slice(equals + 1);
    const name = flagName.slice(2);
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (kind === undefined) {
      request.fail(`unknown flag ${flagName} for ${request.name}`, unknownFlagHint(request, name, spec));
    }
    if (parsed.has(name) && kind !== 'strings') {
      request.fail(`duplicate flag specified: ${flagName}`, `give ${flagName} once`);
    }
    switch (kind) {
      case 'bool': {
        if (value === '') request.fail(`missing a value on flag: ${flagName}`, `write ${flagName} or ${flagName}=true|false`);
        const lower = value?.toLowerCase() ?? 'true';
        if (lower !== 'true' && lower !== 'false') {
          request.fail(`expecting boolean value for flag ${flagName}, not: ${value}`, `write ${flagName}=true or ${flagName}=false`);
        }
        parsed.set(name, lower);
        break;
      }
      case 'string':
        if (value === undefined) request.fail(`missing a value on flag: ${flagName}`, `write ${flagName}=<value>`);
        parsed.set(name, value);
        break;
      case 'strings':
        if (value === undefined) request.fail(`missing a value on flag: ${flagName}`, `write ${flagName}=<value>`);
        parsed.set(name, [...((parsed.get(name) as string[] | undefined) ?? []), value]);
        break;
    }
  }
  return new ParsedFlags(parsed);
}
