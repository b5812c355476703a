/**
 * `--build-arg KEY=VALUE` (repeatable); a bare `KEY` takes the value from the environment, as
 * kaniko and docker do (and is left unset when the environment has none).
 */
import { CaissonError } from '../errors.js';

export function parseBuildArgs(values: readonly string[], env: Readonly<Record<string, string | undefined>>): Map<string, string> {
  const args = new Map<string, string>();
  for (const value of values) {
    const equals = value.indexOf('=');
    const key = equals < 0 ? value : value.slice(0, equals);
    if (key === '') {
      throw new CaissonError({ code: 'ERR_USAGE', message: `invalid --build-arg "${value}": the name is empty`, hint: 'write --build-arg NAME=value' });
    }
    const resolved = equals < 0 ? env[key] : value.slice(equals + 1);
    if (resolved !== undefined) args.set(key, resolved);
  }
  return args;
}
