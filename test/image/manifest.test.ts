// Manifest parsing: OCI and Docker types, shape checks, the 4 MiB limit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isForeignLayer, layerCompression, MediaType, parseConfig, parseManifest, sha256, sniffCompression } from '../../src/image/index.js';

const blob = (mediaType: string, content: string): { mediaType: string; digest: string; size: number } => ({ mediaType, digest: sha256(content), size: content.length });

describe('parseManifest', () => {
  test('an OCI image manifest with annotations, artifactType and subject', () => {
    const document = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: 'application/vnd.example+json',
      config: blob(MediaType.ociEmpty, '{}'),
      layers: [blob(MediaType.ociLayerZstd, 'l1')],
      subject: blob(MediaType.ociManifest, 'subject'),
      annotations: { a: 'b' },
    };
    const parsed = parseManifest({ bytes: Buffer.from(JSON.stringify(document)), what: 'x' });
    assert.equal(parsed.kind, 'manifest');
    assert.equal(parsed.mediaType, MediaType.ociManifest);
  });

  test('Docker manifest lists and manifests by served media type', () => {
    const list = { schemaVersion: 2, manifests: [{ ...blob(MediaType.dockerManifest, 'm'), platform: { os: 'linux', architecture: 'amd64' } }] };
    const parsed = parseManifest({ bytes: Buffer.from(JSON.stringify(list)), mediaType: MediaType.dockerManifestList, what: 'x' });
    assert.equal(parsed.kind, 'index');
    assert.equal(parsed.mediaType, MediaType.dockerManifestList);
  });

  test('errors name the manifest', () => {
    const cases: [unknown, RegExp][] = [
      ['{', /not valid JSON/],
      [{ schemaVersion: 1 }, /unsupported schemaVersion 1/],
      [{ schemaVersion: 2, config: { mediaType: 'x', digest: 'nope', size: 1 }, layers: [] }, /config.digest is not a valid digest/],
      [{ schemaVersion: 2, config: blob(MediaType.ociConfig, 'c'), layers: [{ mediaType: 'x', digest: sha256('l'), size: -1 }] }, /layers\[0\].size/],
      [{ schemaVersion: 2, mediaType: 'application/json', config: blob(MediaType.ociConfig, 'c'), layers: [] }, /unsupported manifest media type/],
    ];
    for (const [document, message] of cases) {
      const bytes = Buffer.from(typeof document === 'string' ? document : JSON.stringify(document));
      assert.throws(() => parseManifest({ bytes, what: 'reg/app:v1' }), (error: Error) => message.test(error.message) && error.message.startsWith('reg/app:v1: '));
    }
    assert.throws(() => parseManifest({ bytes: Buffer.alloc(4 * 1024 * 1024 + 1, 32), what: 'big' }), /over the 4 MiB limit/);
    const mismatch = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
    assert.throws(() => parseManifest({ bytes: Buffer.from(JSON.stringify(mismatch)), mediaType: MediaType.ociManifest, what: 'x' }), /says mediaType .* but was served as/);
  });

  test('configs need rootfs.diff_ids', () => {
    assert.throws(() => parseConfig({ bytes: Buffer.from('{"os":"linux"}'), what: 'cfg' }), /cfg: image config has no rootfs.diff_ids/);
    const config = parseConfig({ bytes: Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [sha256('x')] } })), what: 'cfg' });
    assert.equal(config.rootfs.diff_ids.length, 1);
  });

  test('layer media types', () => {
    assert.equal(layerCompression(MediaType.ociLayerGzip), 'gzip');
    assert.equal(layerCompression(MediaType.dockerLayerZstd), 'zstd');
    assert.equal(layerCompression(MediaType.ociLayer), 'none');
    assert.equal(layerCompression(MediaType.ociForeignLayerGzip), 'gzip');
    assert.equal(layerCompression(MediaType.ociConfig), undefined);
    assert.ok(isForeignLayer(MediaType.dockerForeignLayerGzip));
    assert.ok(!isForeignLayer(MediaType.ociLayerGzip));
    assert.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 8])), 'gzip');
    assert.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
    assert.equal(sniffCompression(Buffer.from('ustar')), 'none');
  });
});
