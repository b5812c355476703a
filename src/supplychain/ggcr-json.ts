/**
 * Manifests and configs written as go-containerregistry writes them (pkg/v1/manifest.go,
 * config.go), which is what cosign pushes: struct fields in Go's order, maps sorted. Byte
 * equality with cosign is not required by any verifier, but it keeps our digests stable and our
 * golden files comparable with cosign's.
 */
import type { Descriptor, ImageManifest } from '../image/index.js';
import { goJson } from './wire.js';

/** Go's zero `time.Time`, which ggcr writes for an unset `created`. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** A time as Go's RFC3339Nano writes a UTC time: fraction without trailing zeros, none when zero. */
export function goTime(date: Date): string {
  const iso = date.toISOString();
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
}

function sorted(map: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.keys(map).sort().map((key) => [key, map[key] as string]));
}

/** A descriptor in ggcr's field order: mediaType, size, digest, data, urls, annotations, platform, artifactType. */
export function ggcrDescriptor(descriptor: Descriptor): Record<string, unknown> {
  return {
    mediaType: descriptor.mediaType,
    size: descriptor.size,
    digest: descriptor.digest,
    ...(descriptor.data === undefined ? {} : { data: descriptor.data }),
    ...(descriptor.urls === undefined || descriptor.urls.length === 0 ? {} : { urls: descriptor.urls }),
    ...(descriptor.annotations === undefined || Object.keys(descriptor.annotations).length === 0 ? {} : { annotations: sorted(descriptor.annotations) }),
    ...(descriptor.platform === undefined ? {} : { platform: descriptor.platform }),
    ...(descriptor.artifactType === undefined || descriptor.artifactType === '' ? {} : { artifactType: descriptor.artifactType }),
  };
}

/** A manifest's bytes in ggcr's field order: schemaVersion, mediaType, config, layers, annotations, subject, artifactType. */
export function ggcrManifestBytes(manifest: ImageManifest): Buffer {
  return Buffer.from(
    goJson({
      schemaVersion: manifest.schemaVersion,
      ...(manifest.mediaType === undefined ? {} : { mediaType: manifest.mediaType }),
      config: ggcrDescriptor(manifest.config),
      layers: manifest.layers.map(ggcrDescriptor),
      ...(manifest.annotations === undefined || Object.keys(manifest.annotations).length === 0 ? {} : { annotations: sorted(manifest.annotations) }),
      ...(manifest.subject === undefined ? {} : { subject: ggcrDescriptor(manifest.subject) }),
      ...(manifest.artifactType === undefined || manifest.artifactType === '' ? {} : { artifactType: manifest.artifactType }),
    }),
  );
}
