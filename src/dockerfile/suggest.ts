/**
 * "Did you mean …?": the closest candidate within an edit distance of 2, as BuildKit suggests
 * instructions, flags, stage names and variables.
 */

function levenshtein(a: readonly string[], b: readonly string[]): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

function matchCase(candidate: string, original: string): string {
  if (original === original.toLowerCase()) return candidate.toLowerCase();
  if (original === original.toUpperCase()) return candidate.toUpperCase();
  return candidate;
}

export interface SuggestOptions {
  readonly value: string;
  readonly candidates: Iterable<string>;
  readonly caseSensitive: boolean;
}

/** The best candidate, or undefined when none is close or `value` is itself a candidate. */
export function suggest(options: SuggestOptions): string | undefined {
  const fold = (text: string): string => (options.caseSensitive ? text : text.toLowerCase());
  const value = Array.from(fold(options.value));
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of options.candidates) {
    const folded = fold(candidate);
    if (folded === fold(options.value)) return undefined;
    const distance = levenshtein(value, Array.from(folded));
    if (distance < bestDistance) {
      best = options.caseSensitive ? candidate : matchCase(folded, options.value);
      bestDistance = distance;
    }
  }
  return best;
}
