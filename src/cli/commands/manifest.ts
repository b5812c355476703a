/**
 * `caisson manifest create <list> <image>...` and `caisson manifest push <oci:DIR[:TAG]> <REF>`:
 * images built separately (a Tekton matrix: one TaskRun per platform) merged into one index.
 *
 * `create` reads each image (or every image of an index) from a registry, an OCI layout or a
 * docker-archive, takes each one's platform from its config, and writes the index — an OCI
 * image index, or a Docker manifest list — with every image it lists straight to <list>: a
 * registry (as `docker buildx imagetools create -t` and `crane index append` do) or an OCI layout
 * (a local list, as `docker manifest create` keeps one). Image manifests are copied byte for
 * byte, so each platform keeps its digest; blobs the destination has are skipped, blobs in
 * another repository of the same registry mounted. `push` copies a layout's index to a registry
 * (`docker manifest push`). stdout: `<list>@<index digest>`.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CaissonError } from '../../errors.js';
import {
  buildImageIndex, copyImage, formatPlatform, formatReference, IndexSource, isIndexMediaType, MediaType, readImageEntries,
  type IndexedImage, type IndexEntry,
} from '../../image/index.js';
import { RegistrySession } from '../../registry/index.js';
import { tektonResults, writeTektonResults } from '../../tekton/index.js';
import type { CommandContext } from '../context.js';
import { keyValueFlags } from '../key-value-flags.js';
import { describeLocation, locationHost, openSource, openTarget, parseLocation, type ImageLocation } from '../locations.js';
import { resolveRegistryOptions } from '../registry-settings.js';
import type { ParsedArgs } from '../spec.js';

function usage(message: string, hint: string): CaissonError {
  return new CaissonError({ code: 'ERR_USAGE', message, hint });
}

/** Where an index can go: a registry tag or an OCI layout (a docker-archive holds single images). */
function listLocation(options: { readonly text: string; readonly cwd: string; readonly action: string }): ImageLocation {
  const location = parseLocation({ text: options.text, cwd: options.cwd });
  if (location.kind === 'docker-archive') {
    throw usage(`caisson manifest ${options.action}: ${options.text}: a docker-archive holds single images, not an index`, 'Write the index to a registry (docker://REF) or an OCI layout (oci:DIR[:TAG]).');
  }
  if (location.kind === 'registry' && location.reference.tag === undefined && location.reference.digest !== undefined) {
    throw usage(`caisson manifest ${options.action}: ${options.text}: give a tag to push the index to`, 'The index digest is known only once it is made, e.g. registry.example.com/app:1.0.');
  }
  return location;
}

/** How the list is named on stdout: `registry/repo:tag`, `oci:DIR:TAG` (as caisson build prints its outputs). */
function listName(location: ImageLocation): string {
  return location.kind === 'registry' ? formatReference(location.reference) : describeLocation(location);
}

async function writeIndex(options: {
  readonly args: ParsedArgs;
  readonly context: CommandContext;
  readonly session: RegistrySession;
  readonly list: ImageLocation;
  readonly source: IndexSource | Awaited<ReturnType<typeof openSource>>['source'];
  readonly root: Awaited<ReturnType<typeof openSource>>['root'];
}): Promise<void> {
  const { context, list, root } = options;
  const { target, tags, abort } = await openTarget({ location: list, session: options.session });
  const started = Date.now();
  try {
    const { blobs } = await copyImage({
      source: options.source,
      target,
      root,
      tags,
      concurrency: options.session.options.concurrency,
      onBlob: ({ descriptor, outcome }) => context.logger.debug(`${outcome} ${descriptor.digest} (${descriptor.size} bytes)`),
    });
    context.logger.info(`wrote ${listName(list)}@${root.digest} in ${((Date.now() - started) / 1000).toFixed(2)} s (${blobs.written} blobs written, ${blobs.mounted} mounted, ${blobs.exists} already there)`);
  } catch (error) {
    await abort();
    throw error;
  }
  const digestFile = options.args.string('digest-file');
  if (digestFile !== undefined) await writeFile(resolve(context.cwd, digestFile), root.digest);
  const resultsDir = options.args.string('results-dir') ?? context.tektonResultsDir;
  if (resultsDir !== undefined) {
    const pushed = list.kind === 'registry' ? [{ url: formatReference(list.reference), repository: formatReference({ ...list.reference, tag: undefined }) }] : [];
    await writeTektonResults({ dir: resolve(context.cwd, resultsDir), results: tektonResults({ digest: root.digest, pushed, signatures: [], attestations: [] }) });
    context.logger.info(`Tekton results written to ${resultsDir}`);
  }
  context.stdout(`${listName(list)}@${root.digest}\n`);
}

async function create(args: ParsedArgs, context: CommandContext): Promise<void> {
  const [, listText = '', ...imageTexts] = args.positionals;
  if (imageTexts.length === 0) throw usage('caisson manifest create needs the images to list', 'caisson manifest create registry.example.com/app:1.0 registry.example.com/app:1.0-amd64 registry.example.com/app:1.0-arm64');
  const list = listLocation({ text: listText, cwd: context.cwd, action: 'create' });
  const images = imageTexts.map((text) => parseLocation({ text, cwd: context.cwd }));
  const format = args.string('image-format') as 'oci' | 'docker' | undefined;
  const annotations = keyValueFlags({ flag: 'annotation', values: args.strings('annotation'), hint: 'e.g. --annotation org.opencontainers.image.source=https://example.com/repo' });
  const pullHosts = images.flatMap((image) => locationHost(image) ?? []);
  const pushHost = locationHost(list);
  const session = new RegistrySession(resolveRegistryOptions({ args, context, roles: { pushHosts: pushHost === undefined ? [] : [pushHost], pullHosts } }));
  try {
    const entries: IndexEntry[] = [];
    const indexed: IndexedImage[] = [];
    for (const image of images) {
      const { source, root } = await openSource({ location: image, session });
      const read = await readImageEntries({ source, root, name: describeLocation(image) });
      for (const skipped of read.skipped) context.logger.info(`left out ${skipped}: not an image of a platform`);
      if (read.entries.length === 0) throw new CaissonError({ code: 'ERR_MANIFEST_UNKNOWN', message: `${describeLocation(image)}: the index lists no image`, hint: 'Give an image, or an index of images.' });
      entries.push(...read.entries);
      indexed.push(...read.images);
    }
    const chosen = format ?? (entries.every((entry) => entry.descriptor.mediaType === MediaType.dockerManifest) && annotations.size === 0 ? 'docker' : 'oci');
    const index = buildImageIndex({ entries, format: chosen, annotations });
    const platforms = index.index.manifests.flatMap((entry) => (entry.platform === undefined ? [] : [formatPlatform(entry.platform)]));
    context.logger.info(`${chosen === 'oci' ? 'OCI image index' : 'Docker manifest list'} of ${platforms.length} image(s): ${platforms.join(', ')}`);
    const source = new IndexSource({ name: `the index for ${listName(list)}`, index, images: indexed });
    await writeIndex({ args, context, session, list, source, root: source.descriptor });
  } finally {
    await session.close();
  }
}

async function push(args: ParsedArgs, context: CommandContext): Promise<void> {
  const [, layoutText = '', ...rest] = args.positionals;
  const from = parseLocation({ text: layoutText, cwd: context.cwd });
  if (from.kind !== 'oci' || rest.length !== 1) {
    throw usage('caisson manifest push takes an oci: layout and one registry reference', 'caisson manifest push oci:./list:1.0 registry.example.com/app:1.0');
  }
  const list = listLocation({ text: rest[0] as string, cwd: context.cwd, action: 'push' });
  const pushHost = locationHost(list);
  const session = new RegistrySession(resolveRegistryOptions({ args, context, roles: { pushHosts: pushHost === undefined ? [] : [pushHost], pullHosts: [] } }));
  try {
    const { source, root } = await openSource({ location: from, session });
    if (!isIndexMediaType(root.mediaType)) {
      throw usage(`caisson manifest push: ${describeLocation(from)} is a single image (${root.mediaType}), not an index`, 'Push single images with caisson copy; make the index with caisson manifest create.');
    }
    await writeIndex({ args, context, session, list, source, root });
  } finally {
    await session.close();
  }
}

export async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const action = args.positional;
  switch (action) {
    case 'create':
      return create(args, context);
    case 'push':
      return push(args, context);
    default:
      throw usage(action === undefined ? 'caisson manifest needs an action: create or push' : `caisson manifest ${action}: unknown action`, 'Use "caisson manifest create <list> <image>..." or "caisson manifest push <oci:DIR[:TAG]> <REF>".');
  }
}
