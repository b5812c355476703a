// The registry client against Debian's real docker-registry (CNCF distribution 2.8) in three
// set-ups — plain HTTP, TLS + htpasswd basic auth, TLS + bearer tokens from a loopback token
// server — with what caisson pushes read back by skopeo.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { copyImage, OciLayout, parseReference, sha256, validateImage, type Descriptor } from '../../src/image/index.js';
import {
  defaultRegistryOptions, listReferrers, listTags, RegistrySession, staticCredentials, type Credential, type RegistryOptions,
} from '../../src/registry/index.js';
import { makeImage, makeIndex, makeLayer, writeImage, type TestImage } from '../support/images.js';
import { answeredRequests, startRegistry, type RegistrySetup, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';

const missing = missingTool('docker-registry', 'docker-registry') ?? missingTool('skopeo', 'skopeo');

function sessionFor(registry: RunningRegistry, overrides: Partial<RegistryOptions> = {}, credential?: Credential): RegistrySession {
  const credentials = new Map<string, Credential>();
  const given = credential ?? (registry.username === undefined ? undefined : { kind: 'basic' as const, username: registry.username, password: registry.password ?? '' });
  if (given !== undefined) credentials.set(registry.host, given);
  return new RegistrySession({
    ...defaultRegistryOptions({ credentials: staticCredentials(credentials), userAgent: 'caisson-test' }),
    tls: new Map(registry.caPem === undefined ? [] : [[registry.host, { ca: [registry.caPem], skipVerify: false }]]),
    retry: { retries: 2, baseDelayMs: 50, maxDelayMs: 500 },
    ...overrides,
  });
}

/** skopeo's flags for this registry: credentials and the CA (through a cert dir), or plain HTTP. */
function skopeoFlags(registry: RunningRegistry, workdir: string): string[] {
  const flags: string[] = [];
  if (registry.caPem === undefined) flags.push('--tls-verify=false');
  else {
    const certDir = join(workdir, `certs-${registry.setup}`);
    rmSync(certDir, { recursive: true, force: true });
    runTool('mkdir', ['-p', certDir]);
    writeFileSync(join(certDir, 'ca.crt'), registry.caPem);
    flags.push(`--cert-dir=${certDir}`);
  }
  if (registry.username !== undefined) flags.push(`--creds=${registry.username}:${registry.password ?? ''}`);
  return flags;
}

for (const setup of ['plain', 'tls-basic', 'token'] as RegistrySetup[]) {
  describe(`registry roundtrips (${setup})`, { skip: missing }, () => {
    let registry: RunningRegistry;
    let session: RegistrySession;
    let workdir = '';
    let layout: OciLayout;
    let image: TestImage;

    before(async () => {
      registry = await startRegistry({ setup, accessLog: true });
      session = sessionFor(registry);
      workdir = mkdtempSync(join(tmpdir(), `caisson-roundtrip-${setup}-`));
      layout = await OciLayout.openOrCreate(join(workdir, 'src'));
      image = makeImage({ layers: [makeLayer({ 'etc/motd': `hello ${setup}\n` }), makeLayer({ 'bin/data': randomBytes(100_000) })] });
      await writeImage(layout, image, { tag: 'v1' });
      await layout.commit();
    });
    after(async () => {
      await session?.close();
      await registry?.stop();
      rmSync(workdir, { recursive: true, force: true });
    });

    const ref = (text: string): ReturnType<typeof parseReference> => parseReference(`${registry.host}/${text}`);

    test('push an image; skopeo reads it back with the same digest', async () => {
      const target = session.repository(ref('app/one'));
      const result = await copyImage({ source: layout, target, root: await layout.resolve('v1'), tags: ['v1'] });
      assert.equal(result.blobs.written, 3);
      const inspected = JSON.parse(runTool('skopeo', ['inspect', ...skopeoFlags(registry, workdir), `docker://${registry.host}/app/one:v1`])) as { Digest: string; Layers: string[] };
      assert.equal(inspected.Digest, image.manifest.digest);
      assert.deepEqual(inspected.Layers, image.layers.map((layer) => layer.descriptor.digest));
      // A second push finds every blob already there.
      const again = await copyImage({ source: layout, target, root: await layout.resolve('v1'), tags: ['v1'] });
      assert.deepEqual(again.blobs, { exists: 3, mounted: 0, written: 0, bytesWritten: 0 });
    });

    test('pull it back into a layout, validated; skopeo copies it too', async () => {
      const pulled = await session.pull({ reference: ref('app/one:v1') });
      assert.equal(pulled.root.digest, image.manifest.digest);
      await validateImage({ source: pulled.repository, root: pulled.root });
      const out = await OciLayout.openOrCreate(join(workdir, 'pulled'));
      await copyImage({ source: pulled.repository, target: out, root: pulled.root, tags: ['v1'] });
      assert.equal((await out.resolve('v1')).digest, image.manifest.digest);
      runTool('skopeo', ['copy', ...skopeoFlags(registry, workdir).map((flag) => flag.replace('--tls-verify', '--src-tls-verify').replace('--cert-dir', '--src-cert-dir').replace('--creds', '--src-creds')), `docker://${registry.host}/app/one:v1`, `oci:${join(workdir, 'skopeo-out')}:v1`]);
      const skopeoLayout = await OciLayout.open(join(workdir, 'skopeo-out'));
      assert.equal((await skopeoLayout.resolve('v1')).digest, image.manifest.digest);
    });

    test('head: the digest a tag names, with one HEAD; a missing tag is undefined; a mirror without it is passed over', async () => {
      const before = (await answeredRequests(registry)).length;
      assert.deepEqual(await session.head({ reference: ref('app/one:v1') }), { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.size });
      // A request of our own after it: once it is logged, the HEAD is.
      await session.repository(ref('app/marker')).present('after-head');
      const asked = (await answeredRequests(registry, 'GET /v2/app/marker/manifests/after-head')).slice(before);
      assert.deepEqual(asked.filter((request) => request.includes('/v2/app/one/')), ['HEAD /v2/app/one/manifests/v1'], 'no GET');
      assert.equal(await session.head({ reference: ref('app/one:no-such-tag') }), undefined);
      const mapped = sessionFor(registry, { registryMap: new Map([['images.example.invalid', [`${registry.host}/empty-mirror`, registry.host]]]) });
      try {
        assert.equal((await mapped.head({ reference: parseReference('images.example.invalid/app/one:v1') }))?.digest, image.manifest.digest, 'the mirror has no app/one: the next place does');
      } finally {
        await mapped.close();
      }
    });

    test('an index of two platforms keeps its digest; the arm64 image is pulled from it', async () => {
      const arm = makeImage({ layers: [makeLayer({ arch: 'arm64' })], platform: { os: 'linux', architecture: 'arm64' } });
      const multi = await OciLayout.openOrCreate(join(workdir, 'multi'));
      await writeImage(multi, image, { root: false });
      await writeImage(multi, arm, { root: false });
      const index = makeIndex([image, arm]);
      await multi.writeManifest({ descriptor: index.descriptor, bytes: index.bytes, tag: 'multi', root: true });
      await multi.commit();
      await copyImage({ source: multi, target: session.repository(ref('app/multi')), root: index.descriptor, tags: ['1.0'] });
      const raw = runTool('skopeo', ['inspect', '--raw', ...skopeoFlags(registry, workdir), `docker://${registry.host}/app/multi:1.0`]);
      assert.equal(sha256(raw), index.descriptor.digest, 'skopeo sees the exact index bytes');
      const pulled = await session.pull({ reference: ref('app/multi:1.0') });
      const parsed = await pulled.repository.readManifest(pulled.root);
      assert.equal(parsed.kind, 'index');
      const armEntry = parsed.kind === 'index' ? parsed.index.manifests.find((m) => m.platform?.architecture === 'arm64') : undefined;
      assert.ok(armEntry !== undefined);
      const armImage = await pulled.repository.readManifest(armEntry);
      assert.equal(armImage.kind, 'manifest');
    });

    test('cross-repository mount: no blob is uploaded again', async () => {
      const from = session.repository(ref('app/one'));
      const result = await copyImage({ source: from, target: session.repository(ref('other/copy')), root: image.manifest, tags: ['mounted'] });
      assert.deepEqual(result.blobs, { exists: 0, mounted: 3, written: 0, bytesWritten: 0 });
      const inspected = JSON.parse(runTool('skopeo', ['inspect', ...skopeoFlags(registry, workdir), `docker://${registry.host}/other/copy:mounted`])) as { Digest: string };
      assert.equal(inspected.Digest, image.manifest.digest);
    });

    test('a push over a tag whose image holds the same blobs asks the registry about none of them', async () => {
      await copyImage({ source: layout, target: session.repository(ref('app/rebuilt')), root: image.manifest, tags: ['latest'] });
      const before = (await answeredRequests(registry)).length;
      const target = session.repository(ref('app/rebuilt'));
      await target.present('latest');
      const result = await copyImage({ source: layout, target, root: image.manifest, tags: ['latest', 'second'] });
      assert.deepEqual(result.blobs, { exists: 3, mounted: 0, written: 0, bytesWritten: 0 });
      // A request of our own after the copy: once it is logged, every request of the copy is.
      await session.repository(ref('app/marker')).present('after');
      const asked = (await answeredRequests(registry, 'GET /v2/app/marker/manifests/after')).slice(before).filter((request) => request.includes('/v2/app/rebuilt/'));
      assert.deepEqual(asked, ['GET /v2/app/rebuilt/manifests/latest', 'PUT /v2/app/rebuilt/manifests/second'], 'one manifest GET before; no HEAD, no upload, and no PUT to the tag that holds the manifest already');
      assert.equal((await session.pull({ reference: ref('app/rebuilt:second') })).root.digest, image.manifest.digest);
      await target.present('absent');
      await target.present(image.manifest.digest);
    });

    test('chunked upload (PATCH) of a blob over the threshold', async () => {
      const chunked = sessionFor(registry, { chunkedUploadThreshold: 64 * 1024, chunkSize: 48 * 1024 });
      try {
        const big = makeImage({ layers: [makeLayer({ big: randomBytes(300_000) })] });
        const source = await OciLayout.openOrCreate(join(workdir, 'big'));
        await writeImage(source, big, { tag: 'big' });
        await copyImage({ source, target: chunked.repository(ref('app/chunked')), root: big.manifest, tags: ['big'] });
        const pulled = await chunked.pull({ reference: ref('app/chunked:big') });
        await validateImage({ source: pulled.repository, root: pulled.root });
        assert.equal(pulled.root.digest, big.manifest.digest);
      } finally {
        await chunked.close();
      }
    });

    test('referrers through the fallback tag (distribution 2.8 has no referrers API)', async () => {
      const subject: Descriptor = { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.size };
      const artifact = makeImage({ layers: [makeLayer({ 'sig.json': '{}' })], subject });
      const source = await OciLayout.openOrCreate(join(workdir, 'artifact'));
      await writeImage(source, artifact, { root: true });
      await copyImage({ source, target: session.repository(ref('app/one')), root: artifact.manifest });
      const client = session.client(registry.host);
      const referrers = await listReferrers({ client, repository: 'app/one', subject: image.manifest.digest });
      assert.deepEqual(referrers.map((entry) => entry.digest), [artifact.manifest.digest]);
      const tags = await listTags({ client, repository: 'app/one', pageSize: 1 });
      assert.ok(tags.includes(`sha256-${image.manifest.digest.slice(7)}`), `fallback tag in ${tags.join(',')}`);
      assert.ok(tags.includes('v1'));
    });

    test('tag listing follows pagination', async () => {
      const target = session.repository(ref('app/tags'));
      for (const tag of ['a', 'b', 'c', 'd']) await copyImage({ source: layout, target, root: image.manifest, tags: [tag] });
      // Four tags in pages of three: the second page comes through the Link header. (Distribution
      // 2.8 does not keep the pages in sorted order, so compare the set.)
      const tags = await listTags({ client: session.client(registry.host), repository: 'app/tags', pageSize: 3 });
      assert.deepEqual([...tags].sort(), ['a', 'b', 'c', 'd']);
    });

    test('--registry-map: a dead mirror is skipped, the next one serves the pull', async () => {
      const mapped = sessionFor(registry, { registryMap: new Map([['images.example.invalid', ['127.0.0.1:9', registry.host]]]), retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 } });
      const failures: string[] = [];
      try {
        const pulled = await mapped.pull({ reference: parseReference('images.example.invalid/app/one:v1'), onMirrorFailure: (mirror) => failures.push(mirror) });
        assert.equal(pulled.mirror, registry.host);
        assert.equal(pulled.root.digest, image.manifest.digest);
        assert.deepEqual(failures, ['127.0.0.1:9']);
      } finally {
        await mapped.close();
      }
    });

    test(setup === 'plain' ? 'a registry that asks for no authentication: no credential is looked up (the Docker config is not read)' : 'a registry that asks for authentication: the credential is looked up once per session', async () => {
      const asked: string[] = [];
      const given = registry.username === undefined ? undefined : { kind: 'basic' as const, username: registry.username, password: registry.password ?? '' };
      const counting = sessionFor(registry, {
        credentials: {
          get: async (host: string) => {
            asked.push(host);
            return given ?? { kind: 'anonymous' as const };
          },
        },
      });
      try {
        const pulled = await counting.pull({ reference: ref('app/one:v1') });
        assert.equal(pulled.root.digest, image.manifest.digest);
        assert.deepEqual(asked, setup === 'plain' ? [] : [registry.host]);
      } finally {
        await counting.close();
      }
    });

    if (setup !== 'plain') {
      test('wrong credentials are refused with a hint and without the password', async () => {
        const wrong = sessionFor(registry, {}, { kind: 'basic', username: registry.username ?? '', password: 'not-the-password-4242' });
        try {
          await assert.rejects(wrong.pull({ reference: ref('app/one:v1') }), (error: unknown) => {
            assert.ok(error instanceof CaissonError);
            assert.equal(error.code, 'ERR_REGISTRY_UNAUTHORIZED');
            assert.ok(!error.message.includes('not-the-password-4242') && !(error.hint ?? '').includes('not-the-password-4242'));
            assert.ok(error.message.includes(registry.host));
            return true;
          });
        } finally {
          await wrong.close();
        }
      });

      test('without the CA the TLS failure says which flag to use', async () => {
        const untrusted = sessionFor(registry, { tls: new Map() });
        try {
          await assert.rejects(untrusted.pull({ reference: ref('app/one:v1') }), (error: unknown) => error instanceof CaissonError && error.code === 'ERR_REGISTRY_UNAVAILABLE' && (error.hint ?? '').includes('--registry-certificate'));
        } finally {
          await untrusted.close();
        }
      });
    }

    if (setup === 'token') {
      test('tokens are cached per scope: a second pull asks the token server nothing', async () => {
        const fresh = sessionFor(registry);
        try {
          const before = registry.tokenRequests?.() ?? 0;
          await fresh.pull({ reference: ref('app/one:v1') });
          const afterFirst = registry.tokenRequests?.() ?? 0;
          assert.equal(afterFirst - before, 1);
          const pulled = await fresh.pull({ reference: ref('app/one:v1') });
          await validateImage({ source: pulled.repository, root: pulled.root });
          assert.equal(registry.tokenRequests?.(), afterFirst);
        } finally {
          await fresh.close();
        }
      });
    }
  });
}

describe('a registry that demands a client certificate (--registry-client-cert)', { skip: missing }, () => {
  let registry: RunningRegistry;
  before(async () => {
    registry = await startRegistry({ setup: 'tls-client-cert' });
  });
  after(async () => {
    await registry?.stop();
  });

  test('with the certificate a push and pull work; without it the TLS error is clear', async () => {
    const workdir = mkdtempSync(join(tmpdir(), 'caisson-client-cert-'));
    const clientCert = { cert: registry.clientCertPem ?? '', key: registry.clientKeyPem ?? '' };
    const withCert = sessionFor(registry, { tls: new Map([[registry.host, { ca: [registry.caPem ?? ''], clientCert, skipVerify: false }]]) });
    const withoutCert = sessionFor(registry, { retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 } });
    try {
      const layout = await OciLayout.openOrCreate(join(workdir, 'src'));
      const image = makeImage({ layers: [makeLayer({ 'client-cert': 'yes' })] });
      await writeImage(layout, image, { tag: 'v1' });
      await copyImage({ source: layout, target: withCert.repository(parseReference(`${registry.host}/mtls/app`)), root: image.manifest, tags: ['v1'] });
      const pulled = await withCert.pull({ reference: parseReference(`${registry.host}/mtls/app:v1`) });
      await validateImage({ source: pulled.repository, root: pulled.root });
      await assert.rejects(withoutCert.pull({ reference: parseReference(`${registry.host}/mtls/app:v1`) }), (error: unknown) => error instanceof CaissonError && error.code === 'ERR_REGISTRY_UNAVAILABLE' && error.message.includes(registry.host));
    } finally {
      await withCert.close();
      await withoutCert.close();
      rmSync(workdir, { recursive: true, force: true });
    }
  });
});
