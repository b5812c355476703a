/**
 * COPY and ADD's shared work: sources matched in the context, a stage or an image; the
 * destination resolved against WORKDIR and the stage's filesystem (BuildKit's rules, see
 * copy-files.ts); everything written into a fresh layer directory, then sealed.
 */
import { posix } from 'node:path';
import { parseChmod, type AddInstruction, type CopyInstruction } from '../../dockerfile/index.js';
import { type SourceTree } from '../context-tree.js';
import { copyEntry, makeParents, matchSources, settleDirectories, writeInline, type MatchedSource, type WriteOptions } from '../copy-files.js';
import { hasGlob, IgnoreMatcher, toIgnorePatterns } from '../patterns/index.js';
import { chownOwner } from './identity.js';
import { sealLayer } from './layer.js';
import type { StepInput, StepResult } from './step.js';

export interface TransferInput extends StepInput<CopyInstruction | AddInstruction> {
  /** Where sources are read: the context, or the --from stage or image. */
  readonly tree: SourceTree;
  /** COPY --parents: keep each source's path under the destination. */
  readonly parents: boolean;
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
  const matches: MatchedSource[] = instruction.sources.flatMap((source) => matchSources({ tree, source, location }));
  const count = matches.length + instruction.inline.length;
  const wildcard = instruction.sources.some((source) => hasGlob(source));
  const relative = clean(destination);
  const trailing = written.endsWith('/') || written === '.' || written.endsWith('/.') || written === '..' || written.endsWith('/..');
  const intoDirectory = trailing || count > 1 || wildcard || input.parents || relative === '' || view?.isDirectory(relative) === true;
  const target = view === undefined ? relative : view.resolve({ path: relative, followFinal: intoDirectory });

  const owner = instruction.chown === undefined ? undefined : chownOwner({ spec: instruction.chown, view, location });
  const chmod = instruction.chmod === undefined ? undefined : parseChmod(instruction.chmod);
  const exclude = instruction.exclude.length === 0 ? undefined : new IgnoreMatcher({ patterns: toIgnorePatterns({ patterns: instruction.exclude }) });
  const directories = await session.store.stepDirectories();
  const created: string[] = [];
  const times = new Map<string, number>();
  const write: WriteOptions = { layer: directories.upper, view, owner, chmod, now: session.now };
  try {
    const join = (parent: string, name: string): string => (parent === '' ? name : `${parent}/${name}`);
    const copy = { ...write, tree, exclude, created, times };
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
        for (const child of tree.readdir(match.path)) {
          const source = join(match.path, child);
          if (tree.excluded(source) && !tree.mayIncludeChildren(source)) continue;
          if (exclude?.matches(child) === true) continue;
          copyEntry({ ...copy, source, target: join(target, child), relative: child });
        }
      } else {
        if (exclude?.matches(name) === true) continue;
        const path = intoDirectory ? join(target, name) : target;
        makeParents({ ...write, path: posix.dirname(path) === '.' ? '' : posix.dirname(path), created });
        copyEntry({ ...copy, source: match.path, target: path, relative: name });
      }
    }
    for (const file of instruction.inline) {
      const path = intoDirectory ? join(target, file.name) : target;
      makeParents({ ...write, path: posix.dirname(path) === '.' ? '' : posix.dirname(path), created });
      writeInline({ ...write, file, target: path });
    }
    settleDirectories({ layer: directories.upper, view, created, times, now: session.now });
  } catch (error) {
    await directories.discard();
    throw error;
  }
  const names = [...instruction.sources, ...instruction.inline.map((file) => `<<${file.name}`)];
  return { createdBy: `${instruction.keyword.toUpperCase()} ${names.join(' ')} ${written} # buildkit`, layer: await sealLayer({ session, directories }) };
}
