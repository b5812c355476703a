/** EnvLookup implementations: over `KEY=value` strings, over a Map, and the empty one. */

import type { EnvLookup } from './types.js';

/**
 * An EnvLookup over `KEY=value` strings, like BuildKit's EnvsFromSlice: the key is everything
 * before the first `=`, an entry without `=` defines the key with an empty value, and later
 * entries win. keys() lists each key once, in order of first definition.
 */
export function envFromList(entries: readonly string[]): EnvLookup {
  const values = new Map<string, string>();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    const value = eq < 0 ? '' : entry.slice(eq + 1);
    values.set(key, value);
  }
  return envFromMap(values);
}

/** An EnvLookup over a Map (copied, so later changes to the map are not seen). */
export function envFromMap(map: ReadonlyMap<string, string>): EnvLookup {
  const values = new Map(map);
  const keys = Object.freeze([...values.keys()]);
  return {
    get: (name) => values.get(name),
    keys: () => keys,
  };
}

const NO_KEYS: readonly string[] = Object.freeze([]);

/** The lookup in which no variable is set. */
export const emptyEnv: EnvLookup = Object.freeze({
  get: (): string | undefined => undefined,
  keys: () => NO_KEYS,
});
