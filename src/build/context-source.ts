/**
 * Build contexts as kaniko's `-c/--context` accepts them, made into a directory:
 *   PATH or dir://PATH        that directory
 *   tar://FILE                a local .tar, .tar.gz/.tgz or zstd tar, unpacked into scratch
 *   tar://stdin               the same, read from standard input (plain, gzip or zstd)
 *   git://…, https://….git, git@host:…, ssh://…, git+file:///abs/repo
 *                             a git repository checked out into scratch (see context-git.ts),
 *                             with `#ref[:subdir]` or kaniko's `#ref#commit`
 *   oci://REGISTRY/REPO@sha256:…
 *                             a context artifact (context-artifact.ts, what caisson submit
 *                             pushes): its one tar layer, digest-checked, unpacked into scratch
 * `subPath` (`--context-sub-path`) then narrows any of them and must stay inside. gs://, s3://
 * and https:// tarball URLs are refused with a usage error. Nothing is read from the network
 * but by git and, for oci://, the registry.
 */
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { CaissonError } from '../errors.js';
import type { Logger } from '../log.js';
import { formatReference, type Reference } from '../image/index.js';
import { CONTEXT_ARTIFACT_SCHEME, contextArtifactReference } from './context-artifact.js';
import { fetchGitContext, parseGitSpec, type GitContextOptions, type GitContextSource } from './context-git.js';
import { removeContextTree, unpackContextArchive } from './context-unpack.js';

export interface PreparedContext {
  readonly dir: string;
  /** For logs and provenance: 'dir:/abs', 'tar:/abs/file.tar.gz', 'tar:stdin', 'git:https://host/repo.git#<commit>'; never a credential. */
  readonly description: string;
  /** git: the commit checked out. */
  readonly commit?: string;
  /** git: where it came from (no credentials), for provenance. */
  readonly git?: { readonly url: string; readonly ref?: string; readonly subdir?: string };
  /** Removes what was unpacked or cloned (read-only directories included); nothing for a directory. */
  readonly cleanup: () => Promise<void>;
  /** Unpacked or cloned for this build (tar, git, an artifact), and removed after it. */
  readonly temporary: boolean;
}

export interface PrepareContextOptions {
  /** The context as given: a path, dir://, tar://, or a git URL. */
  readonly spec: string;
  /** Relative paths are resolved against it. */
  readonly cwd: string;
  /** An existing directory to unpack or clone into; the caller removes it. */
  readonly scratch: string;
  /** Standard input, asked for only by tar://stdin. */
  readonly stdin: () => Promise<NodeJS.ReadableStream | AsyncIterable<Buffer>>;
  /** Opens a context artifact's tar layer (oci://); absent where no registry is at hand. */
  readonly openArtifact?: (reference: Reference) => Promise<AsyncIterable<Buffer>>;
  /** `--git`: the branch when a git URL names none, submodules, TLS verification. */
  readonly git?: GitContextOptions;
  /** `--context-sub-path`: a directory inside the context to use as the context. */
  readonly subPath?: string;
  /** GIT_PULL_METHOD, GIT_TOKEN, GIT_USERNAME, GIT_PASSWORD (kaniko's); the environment git runs with. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Told about archive entries left out (devices, fifos). */
  readonly logger?: Logger;
  /** Stops a git fetch. */
  readonly signal?: AbortSignal;
}

/** What a context spec names. */
export type ContextSpec =
  | { readonly kind: 'dir'; readonly path: string }
  | { readonly kind: 'tar'; readonly path: string }
  | { readonly kind: 'stdin' }
  | { readonly kind: 'artifact'; readonly reference: Reference }
  | { readonly kind: 'git'; readonly source: GitContextSource }
  | { readonly kind: 'unsupported'; readonly scheme: string; readonly shown: string };

const UNSUPPORTED: Readonly<Record<string, string>> = {
  gs: 'Google Cloud Storage',
  s3: 'Amazon S3',
  https: 'tarball URL',
  http: 'tarball URL',
};

/** Classifies a context spec; relative paths are resolved against `cwd`. */
export function parseContextSpec(options: { readonly spec: string; readonly cwd: string; readonly env: Readonly<Record<string, string | undefined>> }): ContextSpec {
  const { spec, cwd } = options;
  if (spec.startsWith('dir://')) return { kind: 'dir', path: resolve(cwd, spec.slice('dir://'.length)) };
  if (spec.startsWith('tar://')) {
    const path = spec.slice('tar://'.length);
    return path === 'stdin' ? { kind: 'stdin' } : { kind: 'tar', path: resolve(cwd, path) };
  }
  if (spec.startsWith(CONTEXT_ARTIFACT_SCHEME)) return { kind: 'artifact', reference: contextArtifactReference(spec) };
  const source = parseGitSpec({ spec, env: options.env });
  if (source !== undefined) return { kind: 'git', source };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec)?.[1];
  if (scheme !== undefined) return { kind: 'unsupported', scheme: scheme.toLowerCase(), shown: spec.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@') };
  return { kind: 'dir', path: resolve(cwd, spec) };
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith('../'));
}

/**
 * `sub` of `root` as a directory that stays inside it, also once symlinks are resolved. `label`
 * names the input in messages (`--context-sub-path docker`).
 */
function enterSubdirectory(options: { readonly root: string; readonly sub: string; readonly label: string; readonly what: string }): string {
  const { root, label, what } = options;
  const lexical = join(root, options.sub);
  const escape = (): CaissonError => new CaissonError({ code: 'ERR_BUILD_CONTEXT', message: `${label} leaves the build context ${what}`, hint: 'Give a directory inside the context, without ".." steps or symlinks out of it.' });
  if (!isInside(root, lexical)) throw escape();
  if (statSync(lexical, { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `${label}: no such directory in the build context ${what}`, hint: 'Name a directory of the context, relative to its root.' });
  }
  if (!isInside(realpathSync(root), realpathSync(lexical))) throw escape();
  return lexical;
}

async function* bytesOf(source: NodeJS.ReadableStream | AsyncIterable<Buffer>, seen: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of source as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    seen.bytes += buffer.length;
    yield buffer;
  }
}

function missingInput(message: string, hint: string): CaissonError {
  return new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message, hint });
}

/** Unpacks tar://FILE, tar://stdin or an oci:// artifact's layer into `<scratch>/tar`. */
async function prepareArchive(options: PrepareContextOptions, spec: { readonly kind: 'tar'; readonly path: string } | { readonly kind: 'stdin' } | { readonly kind: 'artifact'; readonly reference: Reference }): Promise<{ dir: string; description: string }> {
  const description = spec.kind === 'stdin' ? 'tar:stdin' : spec.kind === 'artifact' ? `oci:${formatReference(spec.reference)}` : `tar:${spec.path}`;
  const what = `build context ${description}`;
  let source: AsyncIterable<Buffer>;
  const seen = { bytes: 0 };
  if (spec.kind === 'tar') {
    const stats = statSync(spec.path, { throwIfNoEntry: false });
    if (stats === undefined) throw missingInput(`${what}: no such file`, 'Give tar://FILE of an existing .tar, .tar.gz/.tgz or .tar.zst, or tar://stdin.');
    if (!stats.isFile()) throw missingInput(`${what}: not a file`, `For a directory give it as a path or dir://${spec.path}.`);
    source = createReadStream(spec.path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
  } else if (spec.kind === 'artifact') {
    if (options.openArtifact === undefined) throw new CaissonError({ code: 'ERR_USAGE', message: `${what}: this command reads no registry`, hint: 'Give oci:// contexts to caisson build.' });
    source = await options.openArtifact(spec.reference);
  } else {
    source = bytesOf(await options.stdin(), seen);
  }
  const dir = join(options.scratch, 'tar');
  await mkdir(dir);
  try {
    const unpacked = await unpackContextArchive({ source, target: dir, what });
    if (spec.kind === 'stdin' && seen.bytes === 0) throw missingInput(`${what}: standard input is empty`, 'Pipe a tar archive (plain, gzip or zstd) into caisson, e.g. tar -czf - . | caisson build -c tar://stdin …');
    for (const skipped of unpacked.skipped) options.logger?.warn(`${what}: ${skipped}`);
  } catch (error) {
    await removeContextTree(dir);
    throw error;
  }
  return { dir, description };
}

/** Turns a context spec into a directory; see the file comment for the forms. */
export async function prepareContext(options: PrepareContextOptions): Promise<PreparedContext> {
  const spec = parseContextSpec(options);
  let root: string;
  let description: string;
  let commit: string | undefined;
  let git: PreparedContext['git'];
  let owned = false;
  switch (spec.kind) {
    case 'unsupported':
      throw new CaissonError({
        code: 'ERR_USAGE',
        message: `build context ${spec.shown}: ${spec.scheme}:// contexts${UNSUPPORTED[spec.scheme] === undefined ? '' : ` (${UNSUPPORTED[spec.scheme]})`} are not supported by caisson`,
        hint: 'Give a directory (PATH or dir://PATH), a tarball (tar://FILE or tar://stdin) or a git repository (git://host/org/repo#ref:subdir, https://host/org/repo.git#ref); download other archives first.',
      });
    case 'dir':
      if (statSync(spec.path, { throwIfNoEntry: false })?.isDirectory() !== true) {
        throw missingInput(`build context ${spec.path}: not a directory`, 'Give the directory holding the files the Dockerfile copies (-c DIR or the last argument), tar://FILE or a git URL.');
      }
      root = spec.path;
      description = `dir:${spec.path}`;
      break;
    case 'tar':
    case 'stdin':
    case 'artifact':
      ({ dir: root, description } = await prepareArchive(options, spec));
      owned = true;
      break;
    case 'git': {
      const fetched = await fetchGitContext({ source: spec.source, ...(options.git === undefined ? {} : { git: options.git }), scratch: options.scratch, env: options.env, ...(options.signal === undefined ? {} : { signal: options.signal }) });
      owned = true;
      commit = fetched.commit;
      const subdir = [spec.source.subdir, options.subPath].filter((part) => part !== undefined && part !== '' && part !== '.').join('/');
      git = { url: spec.source.url, ...(spec.source.ref === undefined ? {} : { ref: spec.source.ref }), ...(subdir === '' ? {} : { subdir }) };
      description = `git:${spec.source.shown}#${fetched.commit}${spec.source.subdir === undefined ? '' : `:${spec.source.subdir}`}`;
      try {
        root = spec.source.subdir === undefined ? fetched.dir : enterSubdirectory({ root: fetched.dir, sub: spec.source.subdir, label: `subdirectory "${spec.source.subdir}"`, what: description });
      } catch (error) {
        await removeContextTree(fetched.dir);
        throw error;
      }
      break;
    }
  }
  const cleanup = owned ? (): Promise<void> => removeContextTree(spec.kind === 'git' ? join(options.scratch, 'git') : join(options.scratch, 'tar')) : (): Promise<void> => Promise.resolve();
  let dir = root;
  if (options.subPath !== undefined && options.subPath !== '' && options.subPath !== '.') {
    try {
      dir = enterSubdirectory({ root, sub: options.subPath, label: `--context-sub-path ${options.subPath}`, what: description });
    } catch (error) {
      await cleanup();
      throw error;
    }
    if (spec.kind === 'dir') description = `dir:${dir}`;
    else description = `${description} (sub-path ${options.subPath})`;
  }
  return { dir, description, ...(commit === undefined ? {} : { commit }), ...(git === undefined ? {} : { git }), cleanup, temporary: spec.kind !== 'dir' };
}
