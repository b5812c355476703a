/**
 * `caisson inspect <image> [--raw] [--config] [--platform p]`: what an image is — its digest,
 * media type, platform, layers and sizes, and config — from a registry, an OCI layout or a
 * docker-archive. `--raw` prints the manifest bytes exactly as stored; `--config` the config.
 * An index shows its platforms, and the image for --platform (default: this machine's).
 */
import { CaissonError } from '../../errors.js';
import { formatPlatform, hostPlatform, parseConfig, parsePlatform, readAll, selectPlatform, type Descriptor, type ImageSource, type Platform } from '../../image/index.js';
import { RegistrySession } from '../../registry/index.js';
import type { CommandContext } from '../context.js';
import { describeLocation, locationHost, openSource, parseLocation } from '../locations.js';
import { resolveRegistryOptions } from '../registry-settings.js';
import type { ParsedArgs } from '../spec.js';

export function platformFlag(value: string | undefined): Platform {
  if (value === undefined) return hostPlatform();
  const parsed = parsePlatform(value);
  if ('error' in parsed) throw new CaissonError({ code: 'ERR_USAGE', message: `--platform ${parsed.error}`, hint: 'Write os/arch[/variant], e.g. linux/arm64.' });
  return parsed;
}

/** The image manifest for a platform: the root itself, or the best entry of an index. */
export async function pickPlatform(options: { readonly source: ImageSource; readonly root: Descriptor; readonly platform: Platform }): Promise<Descriptor> {
  const parsed = await options.source.readManifest(options.root);
  if (parsed.kind === 'manifest') return options.root;
  const entry = selectPlatform({ entries: parsed.index.manifests, wanted: options.platform });
  if (entry === undefined) {
    const available = parsed.index.manifests.flatMap((m) => (m.platform === undefined ? [] : [formatPlatform(m.platform)]));
    throw new CaissonError({
      code: 'ERR_MANIFEST_UNKNOWN',
      message: `${options.source.name}@${options.root.digest}: no image for ${formatPlatform(options.platform)}`,
      hint: `The index has: ${available.join(', ') || 'no platform-tagged images'}; choose one with --platform.`,
    });
  }
  return pickPlatform({ ...options, root: entry });
}

async function readConfig(source: ImageSource, descriptor: Descriptor): Promise<Buffer> {
  return readAll(await source.openBlob(descriptor));
}

export async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const location = parseLocation({ text: args.positional ?? '', cwd: context.cwd });
  const host = locationHost(location);
  const session = new RegistrySession(resolveRegistryOptions({ args, context, roles: { pushHosts: [], pullHosts: host === undefined ? [] : [host] } }));
  try {
    const { source, root } = await openSource({ location, session });
    const parsedRoot = await source.readManifest(root);
    if (args.bool('raw') && !args.bool('config')) {
      context.stdout(parsedRoot.bytes.toString('utf8'));
      return;
    }
    const image = await pickPlatform({ source, root, platform: platformFlag(args.string('platform')) });
    const parsed = await source.readManifest(image);
    if (parsed.kind !== 'manifest') throw new CaissonError({ code: 'ERR_IMAGE_INVALID', message: `${source.name}@${image.digest}: an index inside an index has no image` });
    const configBytes = await readConfig(source, parsed.manifest.config);
    if (args.bool('config')) {
      context.stdout(args.bool('raw') ? configBytes.toString('utf8') : `${JSON.stringify(JSON.parse(configBytes.toString('utf8')), null, 2)}\n`);
      return;
    }
    const config = parseConfig({ bytes: configBytes, what: `${source.name}@${image.digest} config` });
    const layers = parsed.manifest.layers.map((layer) => ({ digest: layer.digest, size: layer.size, mediaType: layer.mediaType }));
    const summary = {
      name: describeLocation(location),
      digest: root.digest,
      mediaType: root.mediaType,
      ...(parsedRoot.kind === 'index'
        ? { manifests: parsedRoot.index.manifests.map((m) => ({ digest: m.digest, mediaType: m.mediaType, size: m.size, ...(m.platform === undefined ? {} : { platform: formatPlatform(m.platform) }) })), image: image.digest }
        : {}),
      platform: formatPlatform({ os: config.os, architecture: config.architecture, ...(config.variant === undefined ? {} : { variant: config.variant }) }),
      ...(config.created === undefined ? {} : { created: config.created }),
      config: config.config ?? {},
      layers,
      size: parsed.manifest.config.size + layers.reduce((total, layer) => total + layer.size, 0),
    };
    context.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await session.close();
  }
}
