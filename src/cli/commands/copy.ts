/**
 * `caisson copy <source> <destination>`: copies an image (a whole index, or one platform with
 * --platform) between registries, OCI layouts and docker-archive files. Manifests are copied
 * byte for byte, so digests are kept; blobs the destination has are skipped, blobs in another
 * repository of the same registry are mounted rather than uploaded.
 */
import { copyImage, formatPlatform, isIndexMediaType } from '../../image/index.js';
import { RegistrySession } from '../../registry/index.js';
import type { CommandContext } from '../context.js';
import { describeLocation, locationHost, openSource, openTarget, parseLocation } from '../locations.js';
import { resolveRegistryOptions } from '../registry-settings.js';
import type { ParsedArgs } from '../spec.js';
import { pickPlatform, platformFlag } from './inspect.js';

export async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const [sourceText = '', targetText = ''] = args.positionals;
  const from = parseLocation({ text: sourceText, cwd: context.cwd });
  const to = parseLocation({ text: targetText, cwd: context.cwd });
  const pullHost = locationHost(from);
  const pushHost = locationHost(to);
  const session = new RegistrySession(
    resolveRegistryOptions({ args, context, roles: { pushHosts: pushHost === undefined ? [] : [pushHost], pullHosts: pullHost === undefined ? [] : [pullHost] } }),
  );
  try {
    const { source, root: resolved } = await openSource({ location: from, session });
    const platformText = args.string('platform');
    // A docker-archive holds single images: pick this machine's platform unless told otherwise.
    const single = platformText !== undefined || (to.kind === 'docker-archive' && isIndexMediaType(resolved.mediaType));
    const root = single ? await pickPlatform({ source, root: resolved, platform: platformFlag(platformText) }) : resolved;
    if (single && root.digest !== resolved.digest) context.logger.info(`copying the ${formatPlatform(root.platform ?? platformFlag(platformText))} image ${root.digest} of the index`);
    const { target, tags, abort } = await openTarget({ location: to, session });
    try {
      const started = Date.now();
      const result = await copyImage({
        source,
        target,
        root,
        tags,
        concurrency: session.options.concurrency,
        onBlob: ({ descriptor, outcome }) => context.logger.debug(`${outcome} ${descriptor.digest} (${descriptor.size} bytes)`),
      });
      const { blobs } = result;
      context.logger.info(
        `copied ${describeLocation(from)} to ${describeLocation(to)} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${blobs.written} blobs written (${blobs.bytesWritten} bytes), ${blobs.mounted} mounted, ${blobs.exists} already there`,
      );
      context.stdout(`${root.digest}\n`);
    } catch (error) {
      await abort();
      throw error;
    }
  } finally {
    await session.close();
  }
}
