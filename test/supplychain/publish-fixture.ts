/**
 * Test helper (never a test itself): what the publishing tests share — Debian's docker-registry
 * on loopback, a registry session with no retries, and `pushImage`, which pushes a fresh
 * one-layer image to `<repo>:v1` and answers the `signImage`/`attestImage` options for it.
 * `close()` in `after` stops the registry and removes the temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyImage, OciLayout } from '../../src/image/index.js';
import { defaultRegistryOptions, RegistrySession, staticCredentials } from '../../src/registry/index.js';
import type { PublishOptions } from '../../src/supplychain/index.js';
import { makeImage, makeLayer, writeImage } from '../support/images.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';

export interface PublishFixture {
  readonly registry: RunningRegistry;
  readonly session: RegistrySession;
  /** Pushes a new image (its content unique in this fixture) to `repo:v1`. */
  pushImage(repo: string): Promise<Pick<PublishOptions, 'repository' | 'image'>>;
  /** A blob's bytes, fetched over plain HTTP. */
  blob(repo: string, digest: string): Promise<Buffer>;
  close(): Promise<void>;
}

export async function startPublishFixture(): Promise<PublishFixture> {
  const registry = await startRegistry({ setup: 'plain' });
  const session = new RegistrySession({ ...defaultRegistryOptions({ credentials: staticCredentials(new Map()), userAgent: 'caisson-test' }), retry: { retries: 0, baseDelayMs: 10, maxDelayMs: 10 } });
  const workdir = mkdtempSync(join(tmpdir(), 'caisson-publish-'));
  let counter = 0;
  return {
    registry,
    session,
    pushImage: async (repo) => {
      counter += 1;
      const image = makeImage({ layers: [makeLayer({ 'etc/motd': `image ${counter}\n` })] });
      const layout = await OciLayout.openOrCreate(join(workdir, `layout-${counter}`));
      await writeImage(layout, image, { tag: 'v1' });
      await layout.commit();
      const repository = session.repository({ registry: registry.host, repository: repo });
      await copyImage({ source: layout, target: repository, root: await layout.resolve('v1'), tags: ['v1'], concurrency: 2 });
      const root = image.manifest;
      return { repository, image: { name: `${registry.host}/${repo}`, digest: root.digest, mediaType: root.mediaType, size: root.size } };
    },
    blob: async (repo, digest) => {
      const response = await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`);
      if (response.status !== 200) throw new Error(`GET blob ${digest} from ${repo}: HTTP ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    },
    close: async () => {
      await session.close();
      await registry.stop();
      rmSync(workdir, { recursive: true, force: true });
    },
  };
}
