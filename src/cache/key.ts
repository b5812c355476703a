/**
 * Cache keys: a step's key is the sha256 of its named inputs (the parent's key, the instruction
 * after expansion, the variables it sees, the content it reads, …), written canonically. The
 * inputs are kept with a local entry, so a miss can say which of them changed.
 */
import { createHash } from 'node:crypto';

/** One input: a single value, or a list (variables, sources) compared element by element. */
export type CacheInputValue = string | readonly string[];

/** A step's key inputs by name. Names and values are plain text; nothing machine-specific. */
export type CacheInputs = Readonly<Record<string, CacheInputValue>>;

/** Bumped when what goes into a key changes, so old entries simply stop matching. */
const KEY_VERSION = 'caisson-cache-v1';

/** The key (64 hex digits) of a set of inputs: their names sorted, so the order they were given in does not matter. */
export function cacheKey(inputs: CacheInputs): string {
  const canonical = Object.keys(inputs).sort().map((name) => [name, inputs[name]]);
  return createHash('sha256').update(`${KEY_VERSION}\n${JSON.stringify(canonical)}`).digest('hex');
}

/** How one input differs between a stored entry and this step. */
export interface InputDifference {
  readonly name: string;
  /** Single values: before and after (undefined when absent on that side). */
  readonly before?: string;
  readonly after?: string;
  /** Lists: the elements only one side has. */
  readonly removed?: readonly string[];
  readonly added?: readonly string[];
}

function asText(value: CacheInputValue | undefined): string | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? value : value.join('\n');
}

/** The inputs that differ, by name (sorted). */
export function compareInputs(options: { readonly stored: CacheInputs; readonly current: CacheInputs }): InputDifference[] {
  const { stored, current } = options;
  const names = [...new Set([...Object.keys(stored), ...Object.keys(current)])].sort();
  const differences: InputDifference[] = [];
  for (const name of names) {
    const before = stored[name];
    const after = current[name];
    if (Array.isArray(before) && Array.isArray(after)) {
      const removed = (before as readonly string[]).filter((value) => !after.includes(value));
      const added = (after as readonly string[]).filter((value) => !before.includes(value));
      if (removed.length > 0 || added.length > 0) differences.push({ name, removed, added });
      else if (before.join('\n') !== after.join('\n')) differences.push({ name, before: 'the same values in another order', after: after.join(', ') });
      continue;
    }
    const was = asText(before);
    const now = asText(after);
    if (was === now) continue;
    differences.push({ name, ...(was === undefined ? {} : { before: was }), ...(now === undefined ? {} : { after: now }) });
  }
  return differences;
}

const SECRET_NAME = /secret|token|passw|pwd|credential|auth|private|api_?key|access_?key/i;

/**
 * Inputs as they may be stored or printed: values of variables whose names look secret become
 * their digest, and credentials in URLs (`//user:pass@`) are hidden. The key itself is computed
 * from the real values.
 */
export function redactInputs(inputs: CacheInputs): CacheInputs {
  const hideUrl = (text: string): string => text.replace(/\/\/[^/@\s"]+@/g, '//***@').replace(/(https?:\/\/[^\s"?]*)\?[^\s"]*/g, '$1?***');
  const hideVariable = (pair: string): string => {
    const equals = pair.indexOf('=');
    if (equals < 0 || !SECRET_NAME.test(pair.slice(0, equals))) return hideUrl(pair);
    return `${pair.slice(0, equals)}=<sha256:${createHash('sha256').update(pair.slice(equals + 1)).digest('hex').slice(0, 12)}>`;
  };
  return Object.fromEntries(Object.entries(inputs).map(([name, value]) => [name, typeof value === 'string' ? hideUrl(value) : value.map(hideVariable)]));
}
