// bench/registry.sh's image maker: an OCI layout holding one image of N uncompressed tar layers,
// each one file of incompressible random bytes, written with caisson's own layout code (dist/).
// Layers are streamed to disk while hashed (never whole in memory) and renamed to their digest.
// Usage: node bench/registry-image.mjs DIR TAG TOTAL_MIB LAYERS      prints the manifest digest
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MediaType, OciLayout, blobPath, sha256 } from '../dist/src/image/index.js';
import { fileHeader, padding, TAR_END } from '../dist/src/image/tar.js';

const [dir, tag, totalText, layersText] = process.argv.slice(2);
const totalMiB = Number(totalText);
const layerCount = Number(layersText);
if (dir === undefined || tag === undefined || !(totalMiB > 0) || !(layerCount > 0) || (totalMiB * 1024 * 1024) % layerCount !== 0) {
  console.error('usage: node bench/registry-image.mjs DIR TAG TOTAL_MIB LAYERS (TOTAL_MIB MiB must split evenly into LAYERS)');
  process.exit(2);
}
const fileSize = (totalMiB * 1024 * 1024) / layerCount;
const CHUNK = 1024 * 1024;

const layout = await OciLayout.openOrCreate(dir);

/** Writes one layer tar (one file of `fileSize` random bytes) and returns its descriptor. */
function writeLayer(index) {
  const temporary = join(dir, 'blobs', 'sha256', `layer-${index}.tmp`);
  const hash = createHash('sha256');
  const fd = openSync(temporary, 'wx');
  let size = 0;
  const put = (bytes) => {
    hash.update(bytes);
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
    size += bytes.length;
  };
  try {
    put(fileHeader({ name: `data/layer-${index}.bin`, size: fileSize }));
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (let left = fileSize; left > 0; left -= CHUNK) put(randomFillSync(buffer, 0, Math.min(CHUNK, left)).subarray(0, Math.min(CHUNK, left)));
    put(padding(fileSize));
    put(TAR_END);
  } finally {
    closeSync(fd);
  }
  const descriptor = { mediaType: MediaType.ociLayer, digest: `sha256:${hash.digest('hex')}`, size };
  renameSync(temporary, blobPath({ dir, descriptor }));
  return descriptor;
}

const layers = [];
for (let i = 0; i < layerCount; i++) layers.push(writeLayer(i));

// Uncompressed layers: each diffID is the layer's own digest.
const config = {
  architecture: 'amd64',
  os: 'linux',
  config: { Cmd: ['/bin/sh'] },
  rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) },
  history: layers.map(() => ({ created_by: 'caisson bench/registry.sh' })),
};
const configBytes = Buffer.from(JSON.stringify(config));
const configDescriptor = { mediaType: MediaType.ociConfig, digest: sha256(configBytes), size: configBytes.length };
await layout.writeBlob({ descriptor: configDescriptor, open: async () => Readable.from([configBytes]) });

const manifestBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDescriptor, layers }));
const manifest = { mediaType: MediaType.ociManifest, digest: sha256(manifestBytes), size: manifestBytes.length };
await layout.writeManifest({ descriptor: manifest, bytes: manifestBytes, tag, root: true });
await layout.commit();
console.log(manifest.digest);
