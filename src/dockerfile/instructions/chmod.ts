/**
 * `COPY/ADD --chmod`: an octal mode (`0755`, at most 07777) or a symbolic one as chmod(1) and
 * BuildKit take it (`u=rwx,go=rx`, `a+X`, `g=u`, `+t`). `parseChmod` validates; `applyChmod`
 * computes the resulting mode for a file or directory.
 */
import { CaissonError, type SourceLocation } from '../../errors.js';
import { parseUint32 } from './units.js';

type Op = '+' | '-' | '=';

interface Action {
  readonly op: Op;
  /** r/w/x/s/t bits, replicated to all classes before masking. */
  readonly bits: number;
  /** `X`: execute if a directory or already executable by someone. */
  readonly conditionalExecute: boolean;
  /** `u`, `g`, `o` as perms: copy that class's current bits. */
  readonly copyFrom: readonly ('u' | 'g' | 'o')[];
  /** The sticky bit is part of this action's mask (`t` given to u, g, a or nobody). */
  readonly sticky: boolean;
}

interface Clause {
  /** The classes affected: a mask over the permission and set-id bits. */
  readonly mask: number;
  readonly actions: readonly Action[];
}

export type ChmodSpec =
  | { readonly kind: 'octal'; readonly mode: number }
  | { readonly kind: 'symbolic'; readonly clauses: readonly Clause[] };

const WHO_BITS: Readonly<Record<string, number>> = { u: 0o4700, g: 0o2070, o: 0o0007, a: 0o6777 };
const PERM_BITS: Readonly<Record<string, number>> = { r: 0o444, w: 0o222, x: 0o111 };
const SHIFT = { u: 6, g: 3, o: 0 } as const;

/** The parsed mode, or undefined when `text` is neither octal nor a valid symbolic mode. */
export function parseChmod(text: string): ChmodSpec | undefined {
  if (/^\d/.test(text)) {
    const mode = parseUint32(text, 8);
    return mode === undefined || mode > 0o7777 ? undefined : { kind: 'octal', mode };
  }
  const clauses: Clause[] = [];
  let pos = 0;
  for (;;) {
    let who = 0;
    let hasUserOrGroup = false;
    while (pos < text.length && Object.hasOwn(WHO_BITS, text[pos] as string)) {
      who |= WHO_BITS[text[pos] as string] as number;
      if (text[pos] !== 'o') hasUserOrGroup = true;
      pos++;
    }
    if (pos >= text.length) return undefined;
    const mask = who === 0 ? 0o6777 : who;
    const stickyAllowed = who === 0 || hasUserOrGroup;
    const actions: Action[] = [];
    do {
      const op = text[pos];
      if (op !== '+' && op !== '-' && op !== '=') return undefined;
      pos++;
      let bits = 0;
      let conditionalExecute = false;
      let sticky = false;
      const copyFrom: ('u' | 'g' | 'o')[] = [];
      for (; pos < text.length; pos++) {
        const perm = text[pos] as string;
        if (Object.hasOwn(PERM_BITS, perm)) bits |= PERM_BITS[perm] as number;
        else if (perm === 's') bits |= stickyAllowed ? 0o6000 : 0;
        else if (perm === 't') sticky ||= stickyAllowed;
        else if (perm === 'X') conditionalExecute ||= op === '+';
        else if (perm === 'u' || perm === 'g' || perm === 'o') copyFrom.push(perm);
        else break;
      }
      actions.push({ op, bits: bits | (sticky ? 0o1000 : 0), conditionalExecute, copyFrom, sticky });
    } while (pos < text.length && text[pos] !== ',');
    clauses.push({ mask, actions });
    if (pos >= text.length) return { kind: 'symbolic', clauses };
    pos++; // the comma; a trailing comma fails on the next round
  }
}

export interface ApplyChmodOptions {
  readonly spec: ChmodSpec;
  /** The current permission bits (07777 part of the mode). */
  readonly mode: number;
  readonly isDirectory: boolean;
}

/** The permission bits after applying `spec` to `mode`. */
export function applyChmod(options: ApplyChmodOptions): number {
  const { spec } = options;
  if (spec.kind === 'octal') return spec.mode;
  const original = options.mode & 0o7777;
  let mode = original;
  for (const clause of spec.clauses) {
    for (const action of clause.actions) {
      const mask = clause.mask | (action.sticky ? 0o1000 : 0);
      let value = action.bits;
      for (const source of action.copyFrom) value |= ((mode >> SHIFT[source]) & 0o7) * 0o111;
      if (action.conditionalExecute && (options.isDirectory || (original & 0o111) !== 0)) value |= 0o111;
      if (action.op === '+') mode |= value & mask;
      else if (action.op === '-') mode &= ~(value & mask);
      else mode = (mode & ~mask) | (value & mask);
    }
  }
  return mode & 0o7777;
}

/** Fails unless `chmod` is a valid octal or symbolic mode (BuildKit's message, plus a hint). */
export function assertChmod(chmod: string, location: SourceLocation): void {
  if (parseChmod(chmod) !== undefined) return;
  throw new CaissonError({
    code: 'ERR_DOCKERFILE_INSTRUCTION',
    message: `invalid chmod parameter: '${chmod}'. it should be octal string and between 0 and 07777, or a symbolic mode`,
    hint: 'for example --chmod=0644, --chmod=755 or --chmod=u=rwx,go=rx',
    location,
  });
}
