/**
 * A small, deterministic YAML emitter for plain data (the Tekton resources caisson prints): block
 * mappings in insertion order, block sequences indented under their key, strings plain when YAML
 * reads them back as the same string and double-quoted (JSON escapes) otherwise, multi-line
 * strings as literal blocks. A mapping key starting with `#` is not data: its value (a string) is
 * written as comment lines before the next key.
 */

/** The data the emitter writes. */
export type YamlValue = string | number | boolean | null | readonly YamlValue[] | YamlMap;

export interface YamlMap {
  readonly [key: string]: YamlValue;
}

/** Words YAML 1.1/1.2 readers turn into booleans or null. */
const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|~)$/i;
const NUMERIC = /^[-+]?(?:\.?\d|0x|0o|\.inf|\.nan)/i;

function isPlainSafe(text: string): boolean {
  if (text === '' || text !== text.trim() || RESERVED.test(text) || NUMERIC.test(text)) return false;
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(text)) return false;
  if (text.includes(': ') || text.includes(' #') || text.endsWith(':')) return false;
  return /^[\x20-\x7e]*$/.test(text);
}

function scalar(value: string | number | boolean | null): string {
  if (value === null) return 'null';
  if (typeof value !== 'string') return String(value);
  return isPlainSafe(value) ? value : JSON.stringify(value);
}

function isLiteralBlock(text: string): boolean {
  return text.includes('\n') && !text.endsWith('\n\n') && !/^\s/.test(text) && text.split('\n').every((line) => line === line.trimEnd() && /^[\x20-\x7e]*$/.test(line));
}

function isMap(value: YamlValue): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `key: value` (or `- value`) for a value that fits after the indicator; undefined when it needs lines of its own. */
function inline(value: YamlValue): string | undefined {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined;
  if (isMap(value)) return Object.keys(value).length === 0 ? '{}' : undefined;
  if (typeof value === 'string' && value.includes('\n') && isLiteralBlock(value)) return undefined;
  return scalar(value as string | number | boolean | null);
}

function emitLiteral(text: string, indent: string): string[] {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  return body.split('\n').map((line) => (line === '' ? '' : `${indent}${line}`));
}

function emitMap(map: YamlMap, indent: string): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(map)) {
    if (key.startsWith('#')) {
      for (const line of String(value).split('\n')) lines.push(`${indent}# ${line}`.trimEnd());
      continue;
    }
    const name = scalar(key);
    const short = inline(value);
    if (short !== undefined) lines.push(`${indent}${name}: ${short}`);
    else if (typeof value === 'string') lines.push(`${indent}${name}: |${value.endsWith('\n') ? '' : '-'}`, ...emitLiteral(value, `${indent}  `));
    else lines.push(`${indent}${name}:`, ...emitNode(value, `${indent}  `));
  }
  return lines;
}

function emitSequence(items: readonly YamlValue[], indent: string): string[] {
  const lines: string[] = [];
  for (const item of items) {
    if (typeof item === 'string' && isLiteralBlock(item)) {
      lines.push(`${indent}- |${item.endsWith('\n') ? '' : '-'}`, ...emitLiteral(item, `${indent}  `));
      continue;
    }
    const short = inline(item);
    if (short !== undefined) {
      lines.push(`${indent}- ${short}`);
      continue;
    }
    const nested = emitNode(item, `${indent}  `);
    if (!isMap(item)) {
      lines.push(`${indent}-`, ...nested);
      continue;
    }
    // Comments before the item's first key go above its dash.
    const start = nested.findIndex((line) => !line.trimStart().startsWith('#'));
    lines.push(...nested.slice(0, start).map((line) => line.slice(2)), `${indent}- ${(nested[start] ?? '').slice(indent.length + 2)}`, ...nested.slice(start + 1));
  }
  return lines;
}

function emitNode(value: YamlValue, indent: string): string[] {
  if (Array.isArray(value)) return emitSequence(value, indent);
  if (isMap(value)) return emitMap(value, indent);
  if (typeof value === 'string' && isLiteralBlock(value)) return emitLiteral(value, indent);
  return [`${indent}${scalar(value as string | number | boolean | null)}`];
}

/** The YAML document for `value` (a mapping), ending with a newline. */
export function toYaml(value: YamlMap): string {
  return `${emitMap(value, '').join('\n')}\n`;
}
