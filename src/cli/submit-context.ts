/**
 * Where `caisson submit`'s cluster finds the build context: a git URL (the step clones it), a
 * path inside --workspace-claim, an `oci://` context artifact, or a local directory (the default,
 * `.`), packed here as one tarball (.dockerignore applied) that submit pushes next to the
 * destination for a TaskRun, or streams to the plain Pod's standard input.
 */
import { createReadStream, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { packContext, pushContextArtifact } from '../build/index.js';
import { parseGitSpec } from '../build/context-git.js';
import { CaissonError } from '../errors.js';
import { parseReference } from '../image/index.js';
import { RegistrySession } from '../registry/index.js';
import type { LocalContext, SubmitSource } from '../tekton/k8s/index.js';
import type { CommandContext } from './context.js';
import { dockerfileLocation } from './input.js';
import { resolveRegistryOptions } from './registry-settings.js';
import { formatSize } from './units.js';
import type { ParsedArgs } from './spec.js';

export interface SubmitContext {
  readonly source: SubmitSource | LocalContext;
  /** The DOCKERFILE param when it must differ from -f (a local context: the path inside it). */
  readonly dockerfile?: string;
  /** Removes the packed tarball. */
  readonly cleanup: () => Promise<void>;
}

const nothing = async (): Promise<void> => undefined;

/** The context the flags name, a local directory packed (into a temporary directory `cleanup` removes). */
export async function submitContext(options: { readonly args: ParsedArgs; readonly context: CommandContext; readonly image: string }): Promise<SubmitContext> {
  const { args, context } = options;
  const spec = args.string('context') ?? args.positional;
  const claim = args.string('workspace-claim');
  if (claim !== undefined) return { source: { kind: 'claim', claim, path: spec ?? './' }, cleanup: nothing };
  if (spec !== undefined && spec.startsWith('oci://')) return { source: { kind: 'artifact', url: spec }, cleanup: nothing };
  const git = spec === undefined ? undefined : parseGitSpec({ spec, env: {} });
  if (spec !== undefined && git !== undefined && !/^(git\+)?file:/i.test(spec)) return { source: { kind: 'git', url: spec }, cleanup: nothing };
  const path = spec === undefined ? '.' : spec.startsWith('dir://') ? spec.slice('dir://'.length) : spec;
  if (git !== undefined || /^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new CaissonError({
      code: 'ERR_USAGE',
      message: `caisson submit: the context "${spec}" is not reachable from the cluster`,
      hint: 'Give a local directory (packed and sent to the cluster), a git URL (-c git://host/repo#ref or https://host/repo.git#ref; the step clones it), an oci:// context artifact, or --workspace-claim NAME with --context as the path inside the claim.',
    });
  }
  return packLocal({ args, context, dir: resolve(context.cwd, path), image: options.image });
}

async function packLocal(options: { readonly args: ParsedArgs; readonly context: CommandContext; readonly dir: string; readonly image: string }): Promise<SubmitContext> {
  const { args, context, dir } = options;
  if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `build context ${dir}: not a directory`, hint: 'Give the directory holding the files the Dockerfile copies (-c DIR or the last argument), or a git URL.' });
  }
  const dockerfile = dockerfileIn({ flag: args.string('dockerfile'), cwd: context.cwd, dir });
  const scratch = await mkdtemp(join(tmpdir(), 'caisson-submit-pack-'));
  const cleanup = (): Promise<void> => rm(scratch, { recursive: true, force: true });
  try {
    const packed = await packContext({ dir, dockerfile: dockerfile.absolute, blobs: scratch });
    context.logger.info(`packed the context ${dir} (.dockerignore applied): ${packed.entries} entries, ${formatSize(packed.descriptor.size)} (${packed.descriptor.digest})`);
    const local: LocalContext = {
      kind: 'local',
      open: () => createReadStream(packed.path) as AsyncIterable<Buffer>,
      push: async () => {
        const destination = parseReference(options.image);
        const registry = new RegistrySession(resolveRegistryOptions({ args, context, roles: { pushHosts: [destination.registry], pullHosts: [] } }));
        try {
          const url = await pushContextArtifact({ registry, repository: destination, layer: packed });
          context.logger.info(`pushed the context as ${url}`);
          return url;
        } finally {
          await registry.close();
        }
      },
    };
    return { source: local, ...(dockerfile.param === undefined ? {} : { dockerfile: dockerfile.param }), cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * The Dockerfile of a local context, by `caisson build`'s rule (-f relative to the working
 * directory when it is there, else inside the context), which must be inside the context: the
 * cluster has nothing else. `param` is its path inside the context (undefined without -f).
 */
function dockerfileIn(options: { readonly flag: string | undefined; readonly cwd: string; readonly dir: string }): { absolute: string; param?: string } {
  const { flag, dir } = options;
  if (flag === '-') throw new CaissonError({ code: 'ERR_USAGE', message: 'caisson submit: --dockerfile - (standard input) cannot reach the cluster', hint: 'Put the Dockerfile in the context and give its path with -f.' });
  const absolute = dockerfileLocation({ flag, cwd: options.cwd, contextDir: dir });
  if (flag === undefined) return { absolute };
  const inside = relative(dir, absolute);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || resolve(dir, inside) !== absolute) {
    throw new CaissonError({ code: 'ERR_USAGE', message: `caisson submit: the Dockerfile ${absolute} is outside the context ${dir}, which is all the cluster gets`, hint: 'Move the Dockerfile into the context (or make the context a directory that holds it) and give -f as a path inside it.' });
  }
  return { absolute, param: inside.split(sep).join('/') };
}
