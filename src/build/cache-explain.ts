/**
 * --cache-explain: for a step that missed, its key inputs, and which of them differ from the
 * nearest entry the local cache holds for the same step (same stage and position) or the same
 * instruction. Values are shown redacted (secret-looking variables as digests, no URL
 * credentials), and long ones shortened.
 */
import { redactInputs, type CacheInputs, type CacheInputValue, type FileChange, type InputDifference } from '../cache/index.js';
import type { StageInstruction } from '../dockerfile/index.js';
import type { StepInput } from './steps/step.js';

const WIDTH = 160;

function shorten(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > WIDTH ? `${line.slice(0, WIDTH - 3)}...` : line;
}

function show(value: CacheInputValue): string {
  if (typeof value === 'string') return shorten(value === '' ? '""' : value);
  return value.length === 0 ? '(none)' : value.map((item) => shorten(item)).join('\n      ');
}

function difference(change: InputDifference): string[] {
  if (change.removed !== undefined || change.added !== undefined) {
    return [`    ${change.name}:`, ...(change.removed ?? []).map((item) => `      - ${shorten(item)}`), ...(change.added ?? []).map((item) => `      + ${shorten(item)}`)];
  }
  return [`    ${change.name}:`, `      - ${change.before === undefined ? '(absent)' : shorten(change.before)}`, `      + ${change.after === undefined ? '(absent)' : shorten(change.after)}`];
}

const NAMED_FILES = 10;

/** The files behind a changed source, each once, the first few by name. */
function changedFiles(changed: readonly FileChange[]): string[] {
  const unique = [...new Map(changed.map((change) => [change.path, change])).values()];
  if (unique.length === 0) return [];
  const named = unique.slice(0, NAMED_FILES).map((change) => `      ${change.kind} ${change.path}`);
  const more = unique.length > NAMED_FILES ? [`      and ${unique.length - NAMED_FILES} more`] : [];
  return ['  context files changed since the last build of this context directory:', ...named, ...more];
}

/** The explanation's lines (without the logger's prefix). */
export async function explainMiss(options: { readonly input: StepInput<StageInstruction>; readonly key: string; readonly inputs: CacheInputs; readonly changed: readonly FileChange[] }): Promise<void> {
  const { input, key } = options;
  const inputs = redactInputs(options.inputs);
  const lines = [`${input.label} cache miss, key ${key.slice(0, 12)}; its inputs:`];
  for (const name of Object.keys(inputs).sort()) lines.push(`    ${name}: ${show(inputs[name] as CacheInputValue)}`);
  const nearest = await input.session.cache.local.nearest({ slot: input.slot, inputs });
  const entry = nearest === undefined ? undefined : `nearest stored entry ${nearest.entry.key.slice(0, 12)} (stored ${nearest.entry.stored})`;
  if (nearest === undefined) {
    lines.push('  no stored entry of this step or instruction in the local cache to compare with');
  } else if (nearest.differences.length === 0) {
    const why = input.session.cache.settings.lookup ? 'it was stored longer ago than --cache-ttl, or found corrupt and evicted' : '--no-cache';
    lines.push(`  ${entry} has the same inputs; not used: ${why}`);
  } else {
    lines.push(`  ${entry} differs in ${nearest.differences.map((change) => change.name).join(', ')}:`);
    for (const change of nearest.differences) lines.push(...difference(change));
  }
  lines.push(...changedFiles(options.changed));
  input.session.options.logger.info(lines.join('\n'));
}
