/**
 * Names in the order of their UTF-8 bytes (tar and layer order, Go's sort of strings), without
 * encoding them: UTF-8 byte order is code point order, and UTF-16 code unit order differs from it
 * only where a surrogate (a code point above U+FFFF) meets a unit from U+E000 to U+FFFF.
 */

/** A code unit's place in code point order: surrogates after U+E000..U+FFFF. */
function rank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/** Negative, zero or positive as `a` sorts before, with or after `b` by UTF-8 bytes. */
export function compareBytes(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const left = a.charCodeAt(i);
    const right = b.charCodeAt(i);
    if (left !== right) return rank(left) - rank(right);
  }
  return a.length - b.length;
}
