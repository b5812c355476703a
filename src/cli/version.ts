/** caisson's version, read from package.json once per call. */
import { readFileSync } from 'node:fs';

export function caissonVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
