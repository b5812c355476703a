/**
 * Cache key inputs for what COPY, ADD and RUN --mount=type=bind read. From a context directory:
 * a digest over every entry a source brings, walked as the copy walks (.dockerignore and
 * --exclude applied): its path relative to the source, type, permission bits, and content digest
 * or link target — never its mtime, owner or absolute path, so two checkouts of one commit give
 * the same key. From a stage or image: its layers' diffIDs, so nothing is extracted to key it.
 */
import { readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import type { FileChange, FileDigests, WalkScope } from '../cache/index.js';
import type { SourceLocation } from '../errors.js';
import type { ContextTree } from './context-tree.js';
import { copiedChildren, matchSources, sourceParts } from './copy-files.js';
import { goMatch, hasGlob, type IgnoreMatcher } from './patterns/index.js';
import type { SourceIdentity } from './steps/step.js';

interface Walk {
  readonly tree: ContextTree;
  readonly exclude: IgnoreMatcher | undefined;
  readonly digests: FileDigests;
  readonly hash: Hash;
}

function walkEntry(walk: Walk, source: string, relative: string): void {
  const entry = walk.tree.lstat(source);
  if (entry === undefined) return;
  const { stats, hostPath } = entry;
  const permissions = (stats.mode & 0o7777).toString(8);
  if (stats.isDirectory()) {
    walk.hash.update(`${relative}\0dir\0${permissions}\n`);
    for (const child of copiedChildren({ ...walk, source, relative })) walkEntry(walk, child.source, child.relative);
  } else if (stats.isSymbolicLink()) {
    walk.hash.update(`${relative}\0link\0${permissions}\0${readlinkSync(hostPath)}\n`);
  } else if (stats.isFile()) {
    walk.hash.update(`${relative}\0file\0${permissions}\0${walk.digests.digest(hostPath, stats)}\n`);
  }
}

/** `<source> sha256:<hex>`: one source (a path or wildcard) of the context, as a key input. */
export function contextSourceDigest(options: { readonly tree: ContextTree; readonly source: string; readonly location: SourceLocation; readonly exclude: IgnoreMatcher | undefined; readonly digests: FileDigests }): string {
  const walk: Walk = { ...options, hash: createHash('sha256') };
  for (const match of matchSources(options)) {
    walk.hash.update(`match\0${match.matched}\0${match.path}\n`);
    const entry = options.tree.lstat(match.path);
    if (entry?.stats.isDirectory() !== true && options.exclude?.matches(posix.basename(match.matched)) === true) continue;
    walkEntry(walk, match.path, '');
  }
  const scope = sourceScope(options.tree, options.source);
  if (scope !== undefined) options.digests.walked(scope);
  return `${options.source} sha256:${walk.hash.digest('hex')}`;
}

/**
 * What a source's walk answers for (a file deleted there is its to notice): a directory's tree,
 * or what a wildcard names under the directory before it; undefined for a single file.
 */
function sourceScope(tree: ContextTree, source: string): WalkScope | undefined {
  const parts = sourceParts(source);
  const first = parts.findIndex((part) => hasGlob(part));
  const entry = tree.lstat(tree.resolve({ path: (first === -1 ? parts : parts.slice(0, first)).join('/'), followFinal: true }));
  if (entry?.stats.isDirectory() !== true) return undefined;
  if (first === -1) return { directory: entry.hostPath };
  const pattern = parts.slice(first);
  return {
    directory: entry.hostPath,
    includes: (relative) => {
      const names = relative.split('/');
      return names.length >= pattern.length && goMatch({ pattern: pattern.join('/'), name: names.slice(0, pattern.length).join('/') });
    },
  };
}

/** What sources read from the context: their key inputs, and (asked only for a miss) the files behind a change. */
export interface SourceInputs {
  readonly inputs: string[];
  /** The context files that differ from the last build of the directory: changed, new, and removed under a directory source. */
  readonly changed: () => readonly FileChange[];
}

/**
 * Key inputs for sources read from `identity`: each context source's digest, or the layers'
 * identity; and the context files among them that differ from the last build of that directory.
 */
export async function sourceInputs(options: { readonly identity: SourceIdentity; readonly sources: readonly string[]; readonly location: SourceLocation; readonly exclude: IgnoreMatcher | undefined; readonly fileDigests: (directory: string) => Promise<FileDigests> }): Promise<SourceInputs> {
  const { identity } = options;
  if (identity.kind === 'layers') return { inputs: options.sources.map((source) => `${source} from ${identity.identity}`), changed: () => [] };
  const { tree } = identity;
  const digests = await options.fileDigests(tree.root);
  // The walks are synchronous: what the journal gains meanwhile is theirs.
  const before = digests.journal.length;
  const inputs = options.sources.map((source) => contextSourceDigest({ tree, source, location: options.location, exclude: options.exclude, digests }));
  const journaled = digests.journal.slice(before);
  // A deleted file is in no walk: it is looked for among those remembered where a source reads.
  const removed = (): FileChange[] =>
    options.sources.flatMap((source) => {
      const scope = sourceScope(tree, source);
      return scope === undefined ? [] : digests.removedIn(scope);
    });
  return { inputs, changed: () => [...journaled, ...removed()] };
}
