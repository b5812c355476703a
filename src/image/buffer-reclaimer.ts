/**
 * Blob streams allocate a new Buffer for every chunk (a 64 KiB file read, an HTTP body chunk).
 * The chunks die at once, but V8 frees a Buffer's memory only when the young generation is
 * scavenged, and its heuristics (which count the small JS wrappers, not the memory behind them)
 * put that off until about 64 MiB of such memory has piled up: that pile-up was over a third of
 * `caisson copy`'s peak RSS (bench/registry.sh: ~165 MiB, ~115 MiB with it reclaimed). While
 * blobs flow, a reclaimer asks for a young-generation scavenge every 20 ms, which takes well
 * under a millisecond when nearly everything in it is garbage.
 *
 * Node exposes `gc` only under `--expose-gc`; setting that flag at run time and reading `gc` from
 * a new context is the documented V8 way (Jest's leak detector does the same). Without it (a
 * runtime that refuses), the reclaimer does nothing and memory is what it was.
 */
type Collect = (options: { readonly type: 'minor'; readonly execution: 'sync' }) => void;

/** node:v8 and node:vm load here, when a blob first flows, not at every start. */
function youngGenerationCollector(): Collect | undefined {
  try {
    process.getBuiltinModule('node:v8').setFlagsFromString('--expose-gc');
    const collect: unknown = process.getBuiltinModule('node:vm').runInNewContext('gc');
    return typeof collect === 'function' ? (collect as Collect) : undefined;
  } catch {
    return undefined;
  }
}

export interface BufferReclaimer {
  stop(): void;
}

/** Scavenges every `intervalMs` (default 20) until stopped; the timer never keeps the process alive. */
export function startBufferReclaimer(options: { readonly intervalMs?: number } = {}): BufferReclaimer {
  const collect = youngGenerationCollector();
  if (collect === undefined) return { stop: () => undefined };
  const timer = setInterval(() => collect({ type: 'minor', execution: 'sync' }), options.intervalMs ?? 20);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
