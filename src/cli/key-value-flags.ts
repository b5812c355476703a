/** Repeatable `--flag KEY=VALUE` options (`--label`, `--annotation`, `-a`): one parser for every command. */
import { CaissonError } from '../errors.js';

/** The pairs in order given (a later KEY wins); a value without `=` or with an empty key is a usage error naming it. */
export function keyValueFlags(options: { readonly flag: string; readonly values: readonly string[]; readonly hint: string }): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const value of options.values) {
    const equals = value.indexOf('=');
    if (equals <= 0) throw new CaissonError({ code: 'ERR_USAGE', message: `--${options.flag} "${value}": expected KEY=VALUE`, hint: options.hint });
    pairs.set(value.slice(0, equals), value.slice(equals + 1));
  }
  return pairs;
}
