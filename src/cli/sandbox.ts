/**
 * `caisson build --sandbox`: the facts about this process (uid, user namespace) given to
 * exec/sandbox-mode.ts's resolution. bin/caisson.js asks first (through `buildNeedsUserNamespace`)
 * whether to re-run the build in a user namespace; the build asks again and logs the answer.
 */
import { resolveSandboxMode, type SandboxChoice, type SandboxDecision } from '../exec/index.js';
import { initialUserNamespace } from '../fs/index.js';
import type { ParsedArgs } from './spec.js';

/** The sandbox `--sandbox` means for this process; throws the CaissonError when it cannot be had. */
export function sandboxDecision(args: ParsedArgs): SandboxDecision {
  return resolveSandboxMode({ requested: (args.string('sandbox') ?? 'auto') as SandboxChoice, uid: process.getuid?.() ?? 0, userNamespace: !initialUserNamespace() });
}
