/**
 * A filesystem step through the build cache. Its key is a sha256 over the parent's key (the base
 * image's manifest digest at the start of a stage), the instruction after expansion, the variables,
 * USER, WORKDIR and SHELL the step sees, the platform, how layers are written, and what the step
 * reads (`extra`: COPY/ADD sources, RUN bind mounts). On a hit the step does not run: its layer is
 * described from the entry and fetched only if a later step needs the files. Lookups go on after
 * a miss; a miss stores what the step made, locally and (with --cache) in the cache repository.
 */
import { createReadStream } from 'node:fs';
import { cacheKey, redactInputs, type CacheEntry, type CacheHit, type CacheInputs, type CacheStore, type FileChange } from '../cache/index.js';
import type { StageInstruction } from '../dockerfile/index.js';
import { BLOB_STREAM_BUFFER, formatPlatform, sha256 } from '../image/index.js';
import type { LayerStore } from '../fs/index.js';
import { explainMiss } from './cache-explain.js';
import { EntrySource, type CacheRepairs } from './cache-repairs.js';
import type { CachedStepKind } from './options.js';
import type { StageLayer } from './stage-state.js';
import { StoreFirstSource } from './store-image.js';
import type { StepInput, StepResult } from './steps/step.js';

export interface CachedStepOptions {
  /** What the step reads beyond the instruction, or undefined when it cannot be keyed (a URL with no validator). */
  readonly extra: CacheInputs | undefined;
  /** Why `extra` is undefined, for the log. */
  readonly uncacheable?: string;
  /** The context files read that differ from the last build of their directory, for --cache-explain (asked only of a miss). */
  readonly changed?: () => readonly FileChange[];
  /** Runs the step (a miss). */
  readonly build: () => Promise<StepResult>;
  /**
   * `extra`'s context part read again once the step ran (a miss): a context file changed between
   * its hashing and the step's reading of it makes them differ, and the layer, made of other
   * content than the key says, is then not stored.
   */
  readonly recheck?: () => Promise<CacheInputs>;
}

/** The instruction as a key input: its kind and expanded fields, without its text and location. */
function instructionText(instruction: StageInstruction): string {
  const { location: _location, source: _source, ...fields } = instruction as StageInstruction & { readonly source?: string };
  return JSON.stringify(fields);
}

/**
 * Every input of the step's key. Only RUN sees the variables (ENV and ARGs) and the shell, and
 * runs as USER; WORKDIR makes its directory as USER; COPY and ADD see none of them (what they
 * expand is in the instruction), so an ARG or ENV they do not use leaves their entries valid, as
 * in BuildKit.
 */
export function stepInputs(input: StepInput<StageInstruction>, extra: CacheInputs): CacheInputs {
  const { state, session, instruction } = input;
  const build = session.options;
  const run = instruction.kind === 'run';
  return {
    parent: state.cacheKey,
    platform: formatPlatform(state.platform),
    instruction: instructionText(instruction),
    ...(run ? { variables: [...state.scope.variables].map(([name, value]) => `${name}=${value}`).sort(), shell: JSON.stringify(state.shell) } : {}),
    ...(run || instruction.kind === 'workdir' ? { user: state.config.User ?? '' } : {}),
    workdir: state.config.WorkingDir ?? '/',
    layers: `compression=${build.compression} level=${build.compressionLevel ?? 'default'} clamp=${build.clampTime ?? 'none'} ignore=${JSON.stringify(build.ignorePaths ?? [])}`,
    ...extra,
  };
}

function kindOf(instruction: StageInstruction): CachedStepKind | 'workdir' {
  switch (instruction.kind) {
    case 'run':
    case 'copy':
    case 'add':
      return instruction.kind;
    default:
      return 'workdir';
  }
}

/**
 * The step's result from a hit. A layer in a cache repository is read from the layer store when
 * the store has its blob, and from the repository (or mounted from it) otherwise; a blob the
 * repository lacks or has corrupt marks the entry as broken (cache-repairs.ts).
 */
function hitResult(options: { readonly hit: CacheHit; readonly store: LayerStore; readonly repairs: CacheRepairs }): StepResult {
  const { hit, store, repairs } = options;
  const { entry } = hit;
  const source = hit.blob?.kind === 'source' ? new EntrySource({ source: hit.blob.source, key: entry.key, repairs }) : undefined;
  const origin = source?.origin;
  const blob = source === undefined ? hit.blob : { kind: 'source' as const, source: origin === undefined ? source : new StoreFirstSource({ store, name: source.name, origin, upstream: async () => source, repairs, keepLayers: true }) };
  const layer: StageLayer | 'empty' = entry.layer === undefined || blob === undefined ? 'empty' : { descriptor: entry.layer.descriptor, diffId: entry.layer.diffId, blob };
  return { createdBy: entry.createdBy, created: entry.created, layer, cachedFrom: hit.from };
}

async function lookup(input: StepInput<StageInstruction>, key: string): Promise<CacheHit | undefined> {
  const cache = input.session.cache;
  if (!cache.settings.lookup) return undefined;
  // An entry of the cache repository found broken earlier in this build is not used again.
  const remote = input.session.repairs.distrusts(key) ? undefined : await cache.remote();
  const stores: (CacheStore | undefined)[] = [cache.local, remote];
  for (const store of stores) {
    const hit = await store?.lookup({ key, ttlMs: cache.settings.ttlMs, now: Date.now() });
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** Stores what a missed step made: locally at once, in the cache repository in the background. */
async function store(input: StepInput<StageInstruction>, options: { readonly key: string; readonly inputs: CacheInputs; readonly result: StepResult }): Promise<void> {
  const { session } = input;
  const { result } = options;
  const layer = result.layer === undefined || result.layer === 'empty' ? undefined : result.layer;
  if (result.createdBy === undefined) return;
  const entry: CacheEntry = {
    key: options.key,
    stored: new Date().toISOString(),
    createdBy: result.createdBy,
    created: session.created,
    ...(layer === undefined ? {} : { layer: { descriptor: layer.descriptor, diffId: layer.diffId } }),
  };
  await session.cache.local.save({ entry: { ...entry, slot: input.slot, inputs: redactInputs(options.inputs) } });
  if (!session.cache.pushes) return;
  const remote = await session.cache.remote();
  if (remote === undefined) return;
  const path = layer?.blob.kind === 'file' ? layer.blob.path : undefined;
  session.cache.background(remote.save({ entry, ...(path === undefined ? {} : { open: async () => createReadStream(path, { highWaterMark: BLOB_STREAM_BUFFER }) }) }));
}

export async function cachedStep(input: StepInput<StageInstruction>, options: CachedStepOptions): Promise<StepResult> {
  const { state, session } = input;
  const logger = session.options.logger;
  const kind = kindOf(input.instruction);
  const off = !session.cache.caches(kind);
  if (options.extra === undefined || off) {
    const why = off ? `--cache-${kind === 'run' ? 'run' : 'copy'}-layers=false` : (options.uncacheable ?? 'its inputs cannot be keyed');
    logger.info(`${input.label} not cached: ${why}`);
    session.options.journal?.unrecordable(`${input.label} is not cached (${why})`);
    const result = await options.build();
    state.cacheKey = layerKey(state.cacheKey, input.instruction, result);
    return result;
  }
  const inputs = stepInputs(input, options.extra);
  const key = cacheKey(inputs);
  const hit = await lookup(input, key);
  if (hit !== undefined) {
    session.options.journal?.cached(hit.entry.stored);
    state.cacheKey = key;
    return hitResult({ hit, store: session.store, repairs: session.repairs });
  }
  if (session.cache.settings.explain) await explainMiss({ input, key, inputs, changed: options.changed?.() ?? [] });
  const result = await options.build();
  if (options.recheck !== undefined && JSON.stringify(await options.recheck()) !== JSON.stringify(options.extra)) {
    logger.warn(`${input.label} not cached: a context file it read changed while it ran; build again once the context is still`);
    session.options.journal?.unrecordable(`a context file ${input.label} read changed while it ran`);
    state.cacheKey = layerKey(state.cacheKey, input.instruction, result);
    return result;
  }
  await store(input, { key, inputs, result });
  state.cacheKey = key;
  return result;
}

/** The key of what follows a step that cannot be keyed by its inputs: by what it made. */
function layerKey(parent: string, instruction: StageInstruction, result: StepResult): string {
  const layer = result.layer === undefined || result.layer === 'empty' ? 'empty' : result.layer.diffId;
  return sha256(`${parent}\n${instructionText(instruction)}\n${layer}`);
}
