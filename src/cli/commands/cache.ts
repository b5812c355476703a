/**
 * `caisson cache du` and `caisson cache gc [--max-age D] [--max-size S]`: what the local layer
 * store and build cache under the cache directory hold, and removing what has not been used
 * lately. Without flags, gc removes what no build used for 336h (kaniko's default --cache-ttl),
 * build cache entries stored longer ago than that or whose layer is gone, build records written
 * longer ago, staging left by killed builds, and node's compiled caisson code unused as long
 * (compile-cache.ts).
 */
import { buildRecordsUsage, collectBuildRecords, collectFileDigests, fileDigestsUsage, LocalCache } from '../../cache/index.js';
import { LayerStore, type StoreEntry } from '../../fs/index.js';
import { CaissonError } from '../../errors.js';
import { cacheDirectory } from '../cache-directory.js';
import { DEFAULT_MAX_AGE } from '../command-specs.js';
import { collectCompileCache, compileCacheUsage } from '../compile-cache.js';
import type { CommandContext } from '../context.js';
import type { ParsedArgs } from '../spec.js';
import { formatSize, parseDuration, parseSize } from '../units.js';

function openStore(args: ParsedArgs, context: CommandContext): { store: LayerStore; steps: LocalCache } {
  const store = new LayerStore({ root: cacheDirectory(args, context) });
  return { store, steps: new LocalCache({ root: store.root, blobs: store, logger: context.logger }) };
}

/**
 * What the cache directory holds: the layer store's part, the build cache entries, the remembered
 * file digests, the build records, node's compiled caisson code, and all of it.
 */
async function usageOf(options: { readonly store: LayerStore; readonly steps: LocalCache }) {
  const { store, steps } = options;
  const usage = await store.usage();
  const entries = await steps.usage();
  const files = await fileDigestsUsage(store.root);
  const builds = await buildRecordsUsage(store.root);
  const code = await compileCacheUsage(store.root);
  return { usage, entries, files, builds, code, bytes: usage.bytes + entries.bytes + files.bytes + builds.bytes + code.bytes };
}

async function du(args: ParsedArgs, context: CommandContext): Promise<void> {
  const { store, steps } = openStore(args, context);
  const { usage, entries, files, builds, code, bytes } = await usageOf({ store, steps });
  if (args.bool('json')) {
    context.stdout(`${JSON.stringify({ cacheDir: store.root, ...usage, steps: entries, files, builds, code, bytes })}\n`);
    return;
  }
  const row = (name: string, count: number, size: string): string => `  ${name.padEnd(7)}${String(count).padStart(6)}  ${size}\n`;
  context.stdout(
    `${store.root}\n` +
      row('blobs', usage.blobs.count, formatSize(usage.blobs.bytes)) +
      row('layers', usage.layers.count, `${formatSize(usage.layers.bytes)} extracted`) +
      row('mounts', usage.mounts.count, `${formatSize(usage.mounts.bytes)} in RUN cache mounts`) +
      row('steps', entries.count, `${formatSize(entries.bytes)} in build cache entries`) +
      row('files', files.count, `${formatSize(files.bytes)} of remembered context file digests (one per context directory)`) +
      row('builds', builds.count, `${formatSize(builds.bytes)} in build records (one per build command line)`) +
      (code.count > 0 ? row('code', code.count, `${formatSize(code.bytes)} of caisson's own code, compiled by node`) : '') +
      (usage.staging.count > 0 ? row('staging', usage.staging.count, '(builds running, or left by killed ones)') : '') +
      `  total          ${formatSize(bytes)}\n`,
  );
}

async function gc(args: ParsedArgs, context: CommandContext): Promise<void> {
  const { store, steps } = openStore(args, context);
  const maxSize = args.string('max-size');
  const maxAge = args.string('max-age') ?? DEFAULT_MAX_AGE;
  const maxAgeMs = parseDuration({ flag: '--max-age', text: maxAge });
  const removed: StoreEntry[] = await store.collect({ maxAgeMs, ...(maxSize === undefined ? {} : { maxBytes: parseSize({ flag: '--max-size', text: maxSize }) }) });
  for (const entry of removed) context.logger.info(`removed ${entry.kind === 'mount' ? 'cache mount' : entry.kind} ${entry.name} (${formatSize(entry.bytes)})`);
  const stale = await steps.collect({ maxAgeMs });
  if (stale > 0) context.logger.info(`removed ${stale} build cache entries (stored over ${maxAge} ago, or their layer is gone)`);
  const forgotten = await collectFileDigests({ root: store.root, maxAgeMs });
  if (forgotten > 0) context.logger.info(`removed the file digests of ${forgotten} context director${forgotten === 1 ? 'y' : 'ies'} no build read for ${maxAge}`);
  const records = await collectBuildRecords({ cacheDir: store.root, maxAgeMs });
  if (records > 0) context.logger.info(`removed ${records} build record${records === 1 ? '' : 's'} written over ${maxAge} ago`);
  const compiled = await collectCompileCache({ root: store.root, maxAgeMs });
  if (compiled.count > 0) context.logger.info(`removed ${compiled.count} compiled module${compiled.count === 1 ? '' : 's'} of caisson's own code unused for ${maxAge} (${formatSize(compiled.bytes)})`);
  const { bytes: left } = await usageOf({ store, steps });
  context.stdout(`removed ${removed.length} entries, ${formatSize(removed.reduce((total, entry) => total + entry.bytes, 0))}; ${formatSize(left)} left in ${store.root}\n`);
}

export async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const action = args.positional;
  switch (action) {
    case 'du':
      return du(args, context);
    case 'gc':
      return gc(args, context);
    default:
      throw new CaissonError({ code: 'ERR_USAGE', message: action === undefined ? 'caisson cache needs an action: du or gc' : `caisson cache ${action}: unknown action`, hint: 'Use "caisson cache du" or "caisson cache gc [--max-age 336h] [--max-size 20GiB]".' });
  }
}
