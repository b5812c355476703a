/**
 * One Dockerfile instruction applied to a stage: each step gets the instruction (variables
 * already expanded), the stage's state and the build session, changes the state, and says what
 * its history entry reads and whether it made a layer.
 */
import type { StageInstruction } from '../../dockerfile/index.js';
import type { BuildSession } from '../build-session.js';
import type { ContextTree, SourceTree } from '../context-tree.js';
import type { StageLayer, StageState } from '../stage-state.js';

/**
 * What a COPY --from or bind mount reads, for the cache key: a context directory (its files are
 * hashed), or a stage's or image's filesystem, named by its layers without extracting them.
 */
export type SourceIdentity = { readonly kind: 'context'; readonly tree: ContextTree } | { readonly kind: 'layers'; readonly identity: string };

/** Finished stages, by index, for COPY --from and RUN --mount from=. */
export type StageLookup = (index: number) => Promise<StageState>;

export interface StepInput<I extends StageInstruction> {
  readonly instruction: I;
  readonly state: StageState;
  readonly session: BuildSession;
  readonly stages: StageLookup;
  /** What COPY/ADD read: the context (no --from), or the stage, image or named context --from names. */
  readonly sourceTree: (from: string | undefined) => Promise<SourceTree>;
  /** What `sourceTree(from)` would read, as a cache key input (nothing is extracted). */
  readonly sourceIdentity: (from: string | undefined) => Promise<SourceIdentity>;
  /** `[stage 2/3] RUN …`-style label for progress lines. */
  readonly label: string;
  /** The step's place (`<stage> <n>`), for --cache-explain. */
  readonly slot: string;
}

/**
 * `createdBy` is the history entry (undefined: none, as for ARG); `layer` is the layer made,
 * 'empty' when a filesystem step changed nothing, undefined for config-only steps.
 */
export interface StepResult {
  readonly createdBy?: string;
  readonly layer?: StageLayer | 'empty';
  /** The history entry's time when it is not this build's (a cache hit). */
  readonly created?: string;
  /** Where a cache hit came from (`local`, the cache repository). */
  readonly cachedFrom?: string;
}

export type Step<I extends StageInstruction> = (input: StepInput<I>) => Promise<StepResult>;

/** Go's `%q` of a string slice, as BuildKit writes CMD and ENTRYPOINT history: `["a" "b"]`. */
export function quotedList(values: readonly string[]): string {
  return `[${values.map((value) => JSON.stringify(value)).join(' ')}]`;
}
