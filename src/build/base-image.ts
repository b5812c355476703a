/**
 * FROM an image: the reference resolved once per build to the manifest for the build's platform
 * (picked from an index), its config read, and its layers described lazily — nothing is
 * downloaded until a step needs the files (then the layer store extracts each layer once).
 */
import { CaissonError, type SourceLocation } from '../errors.js';
import {
  formatPlatform, formatReference, parseConfig, parseReference, selectPlatform,
  type Descriptor, type ImageConfig, type ImageSource, type Platform,
} from '../image/index.js';
import type { RegistrySession } from '../registry/index.js';
import type { StageLayer } from './stage-state.js';

export interface BaseImage {
  /** `registry/repository@sha256:…` of the platform's manifest. */
  readonly name: string;
  readonly manifest: Descriptor;
  readonly config: ImageConfig;
  readonly layers: readonly StageLayer[];
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function located(error: unknown, location: SourceLocation): unknown {
  if (!(error instanceof CaissonError) || error.location !== undefined) return error;
  return new CaissonError({ code: error.code, message: error.message, location, cause: error, ...(error.hint === undefined ? {} : { hint: error.hint }) });
}

/** Reads an image's manifest for `platform` and its config from any image source. */
export async function readImage(options: { readonly source: ImageSource; readonly root: Descriptor; readonly platform: Platform; readonly name: string }): Promise<BaseImage> {
  const { source, platform } = options;
  let descriptor = options.root;
  let parsed = await source.readManifest(descriptor);
  if (parsed.kind === 'index') {
    const chosen = selectPlatform({ entries: parsed.index.manifests, wanted: platform });
    if (chosen === undefined) {
      const offered = parsed.index.manifests.flatMap((entry) => (entry.platform === undefined ? [] : [formatPlatform(entry.platform)]));
      throw new CaissonError({
        code: 'ERR_MANIFEST_UNKNOWN',
        message: `${options.name}: no image for ${formatPlatform(platform)} in the index`,
        hint: offered.length > 0 ? `It has ${offered.join(', ')}; pass --custom-platform or FROM --platform.` : 'The index lists no platforms.',
      });
    }
    descriptor = chosen;
    parsed = await source.readManifest(descriptor);
  }
  if (parsed.kind !== 'manifest') throw new CaissonError({ code: 'ERR_IMAGE_INVALID', message: `${options.name}: an index inside an index is not an image` });
  const { manifest } = parsed;
  const config = parseConfig({ bytes: await readAll(await source.openBlob(manifest.config)), what: `${options.name} config` });
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new CaissonError({ code: 'ERR_IMAGE_INVALID', message: `${options.name}: the manifest has ${manifest.layers.length} layers but the config ${diffIds.length} diff_ids` });
  }
  const layers = manifest.layers.map((layer, i): StageLayer => ({ descriptor: layer, diffId: diffIds[i] as StageLayer['diffId'], blob: { kind: 'source', source } }));
  return { name: options.name, manifest: descriptor, config, layers };
}

/** Resolves `FROM <reference>` through the registry session (mirrors, credentials, TLS). */
export async function pullBaseImage(options: { readonly registry: RegistrySession; readonly reference: string; readonly platform: Platform; readonly location: SourceLocation }): Promise<BaseImage> {
  try {
    const reference = parseReference(options.reference);
    const pulled = await options.registry.pull({ reference });
    return await readImage({ source: pulled.repository, root: pulled.root, platform: options.platform, name: formatReference(reference) });
  } catch (error) {
    throw located(error, options.location);
  }
}
