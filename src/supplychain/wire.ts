/**
 * Byte-level helpers shared by the supply-chain formats: JSON written as Go's encoding/json
 * writes it (cosign, Rekor and ggcr are Go), strict base64 decoding, and JSON parsing that fails
 * with a named problem.
 */
import { SignatureFormatError } from './format-error.js';

/** A JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `value` with every object's keys sorted, as Go writes a `map[string]…`. Use it on map-shaped
 * data only (annotations, simple-signing `optional`); struct-shaped objects are built in their
 * Go field order instead.
 */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeysDeep(value[key])]));
}

/**
 * JSON text as Go's `json.Marshal` writes it: no spaces, and `<`, `>`, `&`, U+2028 and U+2029
 * escaped as `\u003c`-style sequences. Those characters can only occur inside strings in
 * `JSON.stringify` output, so replacing them there is exact.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Decodes standard or URL-safe base64, padded or not; undefined when `text` is not exactly that. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) return undefined;
  if (/[+/]/.test(text) && /[_-]/.test(text)) return undefined;
  const bare = text.replace(/=+$/, '');
  if (text.length !== bare.length && text.length % 4 !== 0) return undefined;
  if (bare.length % 4 === 1) return undefined;
  const decoded = Buffer.from(bare.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  // Trailing bits that are not zero would be dropped silently; refuse them, as Go's strict decoder does.
  return decoded.toString('base64').replace(/=+$/, '') === bare.replace(/-/g, '+').replace(/_/g, '/') ? decoded : undefined;
}

/** Parses JSON bytes into an object; `not-json` / `not-object` problems otherwise. */
export function parseJsonObject(options: { readonly bytes: Buffer | string; readonly what: string; readonly kind: string }): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof options.bytes === 'string' ? options.bytes : options.bytes.toString('utf8'));
  } catch {
    throw new SignatureFormatError({ problem: 'not-json', what: options.what, detail: `the ${options.kind} is not JSON` });
  }
  if (!isObject(value)) throw new SignatureFormatError({ problem: 'not-object', what: options.what, detail: `the ${options.kind} is not a JSON object` });
  return value;
}

/** `YYYY-MM-DDThh:mm:ssZ` (RFC 3339, UTC, whole seconds), as SLSA and cosign's created annotation want. */
export function formatTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
