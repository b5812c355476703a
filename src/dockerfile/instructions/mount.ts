/**
 * `RUN --mount=<csv>` with BuildKit's keys, aliases, defaults and checks (types bind, cache,
 * tmpfs, secret, ssh). Values may hold variables: at parse time a value with `$` is left for
 * the expansion step (which parses the spec again with values expanded).
 */
import { CaissonError, type SourceLocation, suggest } from '../../errors.js';
import { parseCsvRecord } from './csv.js';
import type { CacheSharing, MountType, RunMount } from './types.js';
import { parseRamSize, parseUint32 } from './units.js';

const MOUNT_TYPES: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING: readonly CacheSharing[] = ['shared', 'private', 'locked'];
const KEYS = [
  'type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid',
  'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env',
];

/** A mount spec is wrong; `hint` says how to fix it. Becomes a located CaissonError. */
class MountSpecError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

function didYouMean(value: string, candidates: readonly string[]): string | undefined {
  const close = suggest({ value, candidates, caseSensitive: true });
  return close === undefined ? `one of: ${candidates.join(', ')}` : `did you mean ${close}?`;
}

function parseBool(key: string, value: string): boolean {
  // strconv.ParseBool
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new MountSpecError(`invalid value for ${key}: ${value}`, `write ${key}=true or ${key}=false`);
}

function parseId(key: 'uid' | 'gid' | 'mode', value: string): number {
  const parsed = parseUint32(value, key === 'mode' ? 8 : 10);
  if (parsed === undefined) {
    throw new MountSpecError(`invalid value ${value} for ${key}`, key === 'mode' ? 'give an octal mode such as 0755' : `give a numeric ${key}`);
  }
  return parsed;
}

interface MountFields {
  type: MountType;
  from?: string;
  source?: string;
  target?: string;
  readOnly?: boolean;
  sizeLimit?: number;
  id?: string;
  sharing?: CacheSharing;
  required: boolean;
  env?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface ParseMountOptions {
  readonly spec: string;
  /** The RUN instruction, for error messages. */
  readonly location: SourceLocation;
  /**
   * Replaces variables in values. Without it (parse time) values containing `$` are deferred
   * and cross-field checks wait for the expansion step.
   */
  readonly expand?: (word: string) => string;
}

/** Parses one `--mount` value; throws CaissonError (ERR_DOCKERFILE_INSTRUCTION) naming it. */
export function parseMount(options: ParseMountOptions): RunMount {
  try {
    return parseMountFields(options.spec, options.expand);
  } catch (error) {
    if (!(error instanceof MountSpecError)) throw error;
    throw new CaissonError({
      code: 'ERR_DOCKERFILE_INSTRUCTION',
      message: `${error.message} in --mount=${options.spec}`,
      location: options.location,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    });
  }
}

function parseMountFields(spec: string, expand: ((word: string) => string) | undefined): RunMount {
  let fields: string[];
  try {
    fields = parseCsvRecord(spec);
  } catch (error) {
    throw new MountSpecError(`failed to parse csv mounts: ${(error as Error).message}`, 'quote a value containing commas as a whole field: target="/a,b"');
  }
  const m: MountFields = { type: 'bind', required: false };
  let deferred = false;
  for (const field of fields) {
    const equals = field.indexOf('=');
    const key = (equals < 0 ? field : field.slice(0, equals)).toLowerCase();
    if (equals < 0) {
      if (key === 'readonly' || key === 'ro') m.readOnly = true;
      else if (key === 'readwrite' || key === 'rw') m.readOnly = false;
      else if (key === 'required' && (m.type === 'secret' || m.type === 'ssh')) m.required = true;
      else if (key === 'required') throw new MountSpecError(`unexpected key '${key}' for mount type '${m.type}'`, 'required applies to secret and ssh mounts');
      else throw new MountSpecError(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    let value = field.slice(equals + 1);
    if (key === 'from' && expand === undefined) {
      const dollar = value.indexOf('$');
      if (dollar !== -1 && dollar !== value.length - 1) {
        throw new MountSpecError(`'${key}' doesn't support variable expansion, define alias stage instead`, `add a stage "FROM \${...} AS name" and mount from=name`);
      }
    }
    if (expand !== undefined) value = expand(value);
    else if (value.includes('$') && key !== 'from') {
      deferred = true;
      continue;
    }
    setField(m, key, field, value);
  }
  if (!deferred) validate(m);
  const readOnly = m.readOnly ?? !(m.type === 'cache' || m.type === 'tmpfs');
  return { spec, ...m, readOnly };
}

function setField(m: MountFields, key: string, field: string, value: string): void {
  switch (key) {
    case 'type': {
      const type = value.toLowerCase() as MountType;
      if (!MOUNT_TYPES.includes(type)) throw new MountSpecError(`unsupported mount type "${value}"`, didYouMean(value, MOUNT_TYPES));
      m.type = type;
      return;
    }
    case 'from':
      m.from = value;
      return;
    case 'source':
    case 'src':
      m.source = value;
      return;
    case 'target':
    case 'dst':
    case 'destination':
      m.target = value;
      return;
    case 'readonly':
    case 'ro':
      m.readOnly = parseBool(key, value);
      return;
    case 'readwrite':
    case 'rw':
      m.readOnly = !parseBool(key, value);
      return;
    case 'required':
      if (m.type !== 'secret' && m.type !== 'ssh') throw new MountSpecError(`unexpected key '${key}' for mount type '${m.type}'`, 'required applies to secret and ssh mounts');
      m.required = parseBool(key, value);
      return;
    case 'size': {
      if (m.type !== 'tmpfs') throw new MountSpecError(`unexpected key '${key}' for mount type '${m.type}'`, 'size applies to tmpfs mounts');
      const size = parseRamSize(value);
      if (size === undefined) throw new MountSpecError(`invalid value for ${key}: ${value}`, 'give a size such as 64m or 1g');
      m.sizeLimit = size;
      return;
    }
    case 'id':
      m.id = value;
      return;
    case 'sharing': {
      const sharing = value.toLowerCase() as CacheSharing;
      if (!SHARING.includes(sharing)) throw new MountSpecError(`unsupported sharing value "${value}"`, didYouMean(value, SHARING));
      m.sharing = sharing;
      return;
    }
    case 'mode':
    case 'uid':
    case 'gid':
      m[key] = parseId(key, value);
      return;
    case 'env':
      m.env = value;
      return;
    default:
      throw new MountSpecError(`unexpected key '${key}' in '${field}'`, didYouMean(key, KEYS));
  }
}

function validate(m: MountFields): void {
  if (m.type !== 'secret' && m.type !== 'ssh' && m.type !== 'cache') {
    for (const key of ['mode', 'uid', 'gid'] as const) {
      if (m[key] !== undefined) throw new MountSpecError(`${key} not allowed for "${m.type}" type mounts`, `${key} applies to cache, secret and ssh mounts`);
    }
  }
  if (m.type === 'secret') {
    if (m.from) throw new MountSpecError('secret mount should not have a from');
    if (m.sharing !== undefined) throw new MountSpecError('secret mount should not define sharing');
    if (!m.source && !m.target && !m.id) {
      throw new MountSpecError('invalid secret mount. one of source, target required', 'write --mount=type=secret,id=<name>');
    }
    if (m.source && m.id) throw new MountSpecError("both source and id can't be set");
  }
  if (m.sharing !== undefined && m.type !== 'cache') {
    throw new MountSpecError(`invalid cache sharing set for ${m.type} mount`, 'sharing applies to cache mounts');
  }
}
