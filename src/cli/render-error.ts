/**
 * Renders a failure for a person: `error: <file:line>: <message> [CODE]`, the source lines it
 * points at, and the hint. Internal bugs (not CaissonError) get the stack.
 */
import { CaissonError, formatLocation } from '../errors.js';

const MAX_EXCERPT_LINES = 4;

function excerpt(error: CaissonError, sources: ReadonlyMap<string, string>): string {
  const location = error.location;
  const text = location === undefined ? undefined : sources.get(location.file);
  if (location === undefined || text === undefined) return '';
  const lines = text.split('\n');
  const first = location.line;
  const last = Math.min(location.endLine ?? first, first + MAX_EXCERPT_LINES - 1);
  const width = String(last).length;
  let out = '';
  for (let line = first; line <= last && line <= lines.length; line++) {
    out += ` ${String(line).padStart(width)} | ${(lines[line - 1] ?? '').replace(/\r$/, '')}\n`;
  }
  return out;
}

export function renderError(error: unknown, sources: ReadonlyMap<string, string>): string {
  if (!(error instanceof CaissonError)) {
    const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return `error: internal error in caisson (a bug; please report it with this output)\n${stack}\n`;
  }
  const where = error.location === undefined ? '' : `${formatLocation(error.location)}: `;
  let out = `error: ${where}${error.message} [${error.code}]\n`;
  out += excerpt(error, sources);
  if (error.hint !== undefined) out += `hint: ${error.hint.replaceAll('\n', '\n      ')}\n`;
  return out;
}
