/**
 * COPY and ADD's shared work: sources matched in the context, a stage or an image; the
 * destination resolved against WORKDIR and the stage's filesystem (BuildKit's rules, see
 * copy-files.ts); COPY's entries streamed straight into the layer's tar (layer-sink.ts), ADD's
 * written into a fresh layer directory (archives and downloads need one), then sealed.
 */
import { posix } from 'node:path';
import { CaissonError } from '../../errors.js';
import { parseChmod, type AddInstruction, type CopyInstruction } from '../../dockerfile/index.js';
import { type SourceTree } from '../context-tree.js';
import { copiedChildren, copyEntry, makeParents, matchSources, settleDirectories, writeInline, type DirectoryWrite, type MatchedSource, type WriteOptions } from '../copy-files.js';
import { DirectorySink, TarSink } from '../layer-sink.js';
import { hasGlob, IgnoreMatcher, toIgnorePatterns } from '../patterns/index.js';
import type { ViewEntry } from '../layer-view.js';
import { sourceInputs, type SourceInputs } from '../source-digest.js';
import { chownOwner } from './identity.js';
import { sealEntries, sealLayer, type StepDirectories } from './layer.js';
import type { StepInput, StepResult } from './step.js';

export interface TransferInput extends StepInput<CopyInstruction | AddInstruction> {
  /** Where sources are read: the context, or the --from stage or image. */
  readonly tree: SourceTree;
  /** COPY --parents: keep each source's path under the destination. */
  readonly parents: boolean;
  /** ADD: archives, URLs and git sources, written into the same layer (see add.ts). */
  readonly extras?: TransferExtras;
}

/** Where an ADD extra writes: the step's layer and the destination as COPY resolved it. */
export interface ExtraWrite extends DirectoryWrite {
  /** The destination, clean and relative, as written (symlinks not resolved). */
  readonly destination: string;
  /** The destination resolved in the stage (its final symlink followed when `intoDirectory`). */
  readonly target: string;
  /** Whether the destination is a directory by COPY's rules (trailing slash, several sources, …). */
  readonly intoDirectory: boolean;
  readonly exclude: IgnoreMatcher | undefined;
  /** Directories this step made, and their times (seconds), settled at the end. */
  readonly created: string[];
  readonly times: Map<string, number>;
}

/** What ADD does beyond COPY. Remote sources are written after the tree's, before inline files. */
export interface TransferExtras {
  /** Sources that are not paths in the tree (URLs, git repositories). */
  readonly isRemote: (source: string) => boolean;
  /** A source as history shows it (secrets in URLs redacted). */
  readonly display: (source: string) => string;
  /** A matched regular file: true when it was handled (an archive unpacked), false to copy it. */
  readonly unpack: (options: ExtraWrite & { readonly source: string; readonly entry: ViewEntry }) => Promise<boolean>;
  /** Writes one remote source. */
  readonly fetch: (options: ExtraWrite & { readonly source: string }) => Promise<void>;
}

/** COPY/ADD --exclude as a matcher (undefined when there is none). */
export function excludeMatcher(instruction: CopyInstruction | AddInstruction): IgnoreMatcher | undefined {
  return instruction.exclude.length === 0 ? undefined : new IgnoreMatcher({ patterns: toIgnorePatterns({ patterns: instruction.exclude }) });
}

/**
 * The key inputs of a COPY or ADD's `sources` read in the context (or `from`), --exclude applied;
 * read anew at each call (the step reads them again once it ran, see step-cache.ts).
 */
export async function transferInputs(input: StepInput<CopyInstruction | AddInstruction>, options: { readonly from: string | undefined; readonly sources: readonly string[] }): Promise<SourceInputs> {
  const { instruction, session } = input;
  return sourceInputs({ identity: await input.sourceIdentity(options.from), sources: options.sources, location: instruction.location, exclude: excludeMatcher(instruction), fileDigests: (directory) => session.cache.fileDigests(directory) });
}

function clean(path: string): string {
  return path.split('/').filter((part) => part !== '' && part !== '.').join('/');
}

export async function transferFiles(input: TransferInput): Promise<StepResult> {
  const { instruction, state, session, tree } = input;
  const location = instruction.location;
  const view = instruction.link || state.layers.length === 0 ? undefined : await session.view(state.layers);
  const workdir = state.config.WorkingDir ?? '/';
  const written = instruction.destination;
  const destination = posix.resolve(workdir, written);
  const extras = input.extras;
  const remote = extras === undefined ? [] : instruction.sources.filter((source) => extras.isRemote(source));
  const local = instruction.sources.filter((source) => !remote.includes(source));
  const matches: MatchedSource[] = local.flatMap((source) => matchSources({ tree, source, location }));
  const count = matches.length + remote.length + instruction.inline.length;
  const wildcard = local.some((source) => hasGlob(source));
  const relative = clean(destination);
  const trailing = written.endsWith('/') || written === '.' || written.endsWith('/.') || written === '..' || written.endsWith('/..');
  const intoDirectory = trailing || count > 1 || wildcard || input.parents || relative === '' || view?.isDirectory(relative) === true;
  const target = view === undefined ? relative : view.resolve({ path: relative, followFinal: intoDirectory });

  if (instruction.link && instruction.chown !== undefined && instruction.chown.split(':').some((part) => !/^\d*$/.test(part))) {
    // As BuildKit (moby/buildkit#7134): --link copies onto an empty layer, with no /etc/passwd to look a name up in.
    throw new CaissonError({ code: 'ERR_DOCKERFILE_INSTRUCTION', message: `${instruction.keyword.toUpperCase()} --link --chown=${instruction.chown}: a user or group by name cannot be looked up in a linked layer`, location, hint: 'Give numeric ids (--chown=1000:1000), or drop --link.' });
  }
  const owner = instruction.chown === undefined ? undefined : chownOwner({ spec: instruction.chown, view, location });
  const chmod = instruction.chmod === undefined ? undefined : parseChmod(instruction.chmod);
  const exclude = excludeMatcher(instruction);
  // COPY's layer goes straight into its tar; ADD's archives and downloads need a real directory.
  const directories = extras === undefined ? undefined : await session.store.stepDirectories();
  const sink = directories === undefined ? new TarSink({ now: session.now }) : new DirectorySink(directories.upper);
  const created: string[] = [];
  const times = new Map<string, number>();
  const write: WriteOptions = { sink, view, owner, chmod, now: session.now };
  try {
    const join = (parent: string, name: string): string => (parent === '' ? name : `${parent}/${name}`);
    const copy = { ...write, tree, exclude, created, times };
    const extra: ExtraWrite = { ...write, layer: directories?.upper ?? '', destination: relative, target, intoDirectory, exclude, created, times };
    for (const match of matches) {
      const entry = tree.lstat(match.path);
      const isDirectory = match.path === '' || entry?.stats.isDirectory() === true;
      const name = posix.basename(match.matched);
      if (input.parents) {
        const path = join(target, clean(match.matched));
        makeParents({ ...write, path: posix.dirname(path) === '.' ? '' : posix.dirname(path), created });
        copyEntry({ ...copy, source: match.path, target: path, relative: '' });
      } else if (isDirectory) {
        // A directory's contents go into the destination, which is made like any parent (0755).
        makeParents({ ...write, path: target, created });
        // What the key walks (copiedChildren): an excluded file stays out, even where a `!` rule may bring back paths below its name.
        for (const child of copiedChildren({ tree, exclude, source: match.path, relative: '' })) copyEntry({ ...copy, source: child.source, target: join(target, child.name), relative: child.relative });
      } else {
        if (exclude?.matches(name) === true) continue;
        if (extras !== undefined && entry?.stats.isFile() === true && (await extras.unpack({ ...extra, source: match.matched, entry }))) continue;
        const path = intoDirectory ? join(target, name) : target;
        makeParents({ ...write, path: posix.dirname(path) === '.' ? '' : posix.dirname(path), created });
        copyEntry({ ...copy, source: match.path, target: path, relative: name });
      }
    }
    for (const source of remote) await extras?.fetch({ ...extra, source });
    for (const file of instruction.inline) {
      const path = intoDirectory ? join(target, file.name) : target;
      makeParents({ ...write, path: posix.dirname(path) === '.' ? '' : posix.dirname(path), created });
      writeInline({ ...write, file, target: path });
    }
    settleDirectories({ sink, view, created, times, now: session.now });
  } catch (error) {
    await directories?.discard();
    throw error;
  }
  const names = [...instruction.sources.map((source) => extras?.display(source) ?? source), ...instruction.inline.map((file) => `<<${file.name}`)];
  const layer = sink instanceof TarSink ? await sealEntries({ session, sink }) : await sealLayer({ session, directories: directories as StepDirectories });
  return { createdBy: `${instruction.keyword.toUpperCase()} ${names.join(' ')} ${written} # buildkit`, layer };
}
