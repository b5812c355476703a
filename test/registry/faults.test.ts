// The registry client against the fault-injecting registry (test/support/fault-registry.ts):
// unusable auth challenges, 429 with Retry-After, 5xx retried then given up on, connections reset
// in the middle of a blob (resumed with Range), corrupted and truncated bodies, oversized and
// malformed manifests, refused manifest PUTs, Basic auth, the referrers API and its fallback tag,
// and tag pagination. Every failed push is checked to leave no tag behind. No real sleeping: the
// retry policy's sleep is injected and records the delays it was asked for.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { blobPath, copyImage, digestHex, OciLayout, parseReference, sha256, type Descriptor, type Digest } from '../../src/image/index.js';
import {
  defaultRegistryOptions, getManifest, listReferrers, listTags, referrersTag, RegistrySession, staticCredentials,
  type Credential, type RegistryRepository, type RetryPolicy,
} from '../../src/registry/index.js';
import { makeImage, makeLayer, writeImage, type TestImage } from '../support/images.js';
import { startFaultRegistry, type FaultRegistry, type FaultRegistryOptions } from '../support/fault-registry.js';

const REPO = 'test/app';
const RETRIES = 3;
const TEST_TIMEOUT = 120_000;

interface Harness {
  readonly fault: FaultRegistry;
  readonly session: RegistrySession;
  readonly repo: RegistryRepository;
  /** Every delay the retry policy asked to sleep for, in order. */
  readonly sleeps: number[];
}

/** Resources to release after each test, newest first. */
let cleanups: (() => Promise<void>)[] = [];

async function harness(options: { readonly registry?: FaultRegistryOptions; readonly credential?: Credential; readonly retry?: Partial<RetryPolicy>; readonly pushRetries?: number } = {}): Promise<Harness> {
  const fault = await startFaultRegistry(options.registry);
  cleanups.push(() => fault.close());
  const sleeps: number[] = [];
  const credentials = staticCredentials(new Map(options.credential === undefined ? [] : [[fault.host, options.credential]]));
  const retry: RetryPolicy = {
    retries: RETRIES,
    baseDelayMs: 1,
    maxDelayMs: 5,
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
    ...options.retry,
  };
  const session = new RegistrySession({
    ...defaultRegistryOptions({ credentials, userAgent: 'caisson-test' }),
    retry,
    ...(options.pushRetries === undefined ? {} : { pushRetry: { ...retry, retries: options.pushRetries } }),
  });
  cleanups.push(() => session.close());
  // A loopback registry: the client tries https, then falls back to plain http.
  const repo = session.repository(parseReference(`${fault.host}/${REPO}:v1`));
  return { fault, session, repo, sleeps };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'caisson-faults-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A one-layer image whose layer is `size` bytes of incompressible content (plus tar/gzip framing). */
function testImage(size = 2_000, extra: { readonly subject?: Descriptor } = {}): TestImage {
  return makeImage({ layers: [makeLayer({ 'data.bin': randomBytes(size) })], ...extra });
}

/** An OCI layout holding `image` tagged v1: the source of a push. */
async function sourceLayout(image: TestImage): Promise<OciLayout> {
  const layout = await OciLayout.openOrCreate(await tempDir());
  await writeImage(layout, image, { tag: 'v1' });
  await layout.commit();
  return layout;
}

async function push(h: Harness, image: TestImage, tag = 'v1'): Promise<void> {
  const source = await sourceLayout(image);
  await copyImage({ source, target: h.repo, root: await source.resolve('v1'), tags: [tag] });
}

/** Seeds `image` into the registry under `tag`, for pulls. */
function seed(fault: FaultRegistry, image: TestImage, tag = 'v1'): void {
  for (const layer of image.layers) fault.putBlob(REPO, layer.bytes);
  fault.putBlob(REPO, image.configBytes);
  fault.putManifest(REPO, tag, image.manifestBytes, image.manifest.mediaType);
}

/** Pulls tag v1 into a fresh OCI layout. */
async function pull(h: Harness): Promise<OciLayout> {
  const target = await OciLayout.openOrCreate(await tempDir());
  const root = await h.repo.resolve('v1');
  await copyImage({ source: h.repo, target, root, tags: ['v1'] });
  return target;
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<CaissonError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CaissonError, `expected a CaissonError ${code}, got ${String((error as Error)?.stack ?? error)}`);
    assert.equal(error.code, code, `code of: ${error.message}`);
    return error;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

function count(fault: FaultRegistry, method: string, path: RegExp): number {
  return fault.requests.filter((request) => request.method === method && path.test(request.path)).length;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches requests for this one blob (not its upload). */
function blobPathOf(digest: string): RegExp {
  return new RegExp(`/blobs/${escape(digest)}$`);
}

const BLOB_UPLOAD = /\/blobs\/uploads\//;
const MANIFEST_V1 = /\/manifests\/v1$/;

async function assertNoBlobFile(layout: OciLayout, digest: Digest): Promise<void> {
  const dir = join(layout.dir, 'blobs', 'sha256');
  const names = await readdir(dir);
  assert.ok(!names.includes(digestHex(digest)), `${blobPath({ dir: layout.dir, descriptor: { digest } })} must not exist`);
  // Only this blob's: a sibling blob of the same copy may still be in flight when the copy rejects.
  assert.deepEqual(names.filter((name) => name.startsWith(`${digestHex(digest)}.tmp-`)), [], 'no temporary file of it is left behind');
}

describe('registry client under faults', { timeout: TEST_TIMEOUT * 12 }, () => {
  beforeEach(() => {
    cleanups = [];
  });

  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });

  describe('1. 401 with an unusable challenge', () => {
    const secret = 's3cret-password-1';
    const credential: Credential = { kind: 'basic', username: 'someone', password: secret };

    for (const challenge of ['Bearer', 'Bearer service="registry"', 'garbage ,, "=', 'Bearer realm="not a url"']) {
      test(`on GET /v2/ (${challenge})`, { timeout: TEST_TIMEOUT }, async () => {
        const h = await harness({ credential });
        h.fault.inject({ method: 'GET', path: /^\/v2\/?$/, fault: { kind: 'status', status: 401, headers: { 'WWW-Authenticate': challenge } } });
        seed(h.fault, testImage(100));
        const error = await rejectsWith(h.repo.resolve('v1'), 'ERR_REGISTRY_UNAUTHORIZED');
        assert.ok(error.message.includes(h.fault.host), error.message);
        assert.match(error.message, /challenge caisson cannot use/);
        assert.ok(!`${error.message} ${error.hint}`.includes(secret), 'no secret in the error');
      });
    }

    test('on a manifest GET', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness({ credential });
      seed(h.fault, testImage(100));
      h.fault.inject({ method: 'GET', path: MANIFEST_V1, fault: { kind: 'status', status: 401, headers: { 'WWW-Authenticate': 'Bearer' } } });
      const error = await rejectsWith(h.repo.resolve('v1'), 'ERR_REGISTRY_UNAUTHORIZED');
      assert.ok(error.message.includes(h.fault.host), error.message);
      assert.match(error.message, /challenge caisson cannot use/);
      assert.match(error.message, /GET manifest/);
      assert.ok(!`${error.message} ${error.hint}`.includes(secret), 'no secret in the error');
    });

    test('without any WWW-Authenticate header', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness({ credential });
      seed(h.fault, testImage(100));
      h.fault.inject({ method: 'GET', path: MANIFEST_V1, fault: { kind: 'status', status: 401 } });
      const error = await rejectsWith(h.repo.resolve('v1'), 'ERR_REGISTRY_UNAUTHORIZED');
      assert.ok(error.message.includes(h.fault.host), error.message);
      assert.match(error.message, /no WWW-Authenticate header/);
    });
  });

  describe('2. 429 with Retry-After', () => {
    test('is retried after the delay the registry asked for', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness({ retry: { maxDelayMs: 60_000 } });
      const image = testImage(100);
      seed(h.fault, image);
      h.fault.inject({ method: 'GET', path: MANIFEST_V1, fault: { kind: 'status', status: 429, headers: { 'Retry-After': '1' } } });
      const root = await h.repo.resolve('v1');
      assert.equal(root.digest, image.manifest.digest);
      assert.deepEqual(h.sleeps, [1000]);
      assert.equal(count(h.fault, 'GET', MANIFEST_V1), 2);
    });

    test('a Retry-After longer than maxDelayMs is capped', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness({ retry: { maxDelayMs: 5 } });
      seed(h.fault, testImage(100));
      h.fault.inject({ method: 'GET', path: MANIFEST_V1, fault: { kind: 'status', status: 429, headers: { 'Retry-After': '1' } } });
      await h.repo.resolve('v1');
      assert.deepEqual(h.sleeps, [5]);
      assert.equal(count(h.fault, 'GET', MANIFEST_V1), 2);
    });

    test('429 forever ends in ERR_REGISTRY_TOOMANYREQUESTS after retries+1 attempts', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness();
      seed(h.fault, testImage(100));
      h.fault.inject({ method: 'GET', path: MANIFEST_V1, times: Infinity, fault: { kind: 'status', status: 429, headers: { 'Retry-After': '1' } } });
      const error = await rejectsWith(h.repo.resolve('v1'), 'ERR_REGISTRY_TOOMANYREQUESTS');
      assert.ok(error.message.includes(`${h.fault.host}/${REPO}:v1`), error.message);
      assert.equal(count(h.fault, 'GET', MANIFEST_V1), RETRIES + 1);
    });
  });

  describe('3. 500 on a push', () => {
    test('once on the blob upload PUT: the upload is restarted and the push succeeds', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness();
      const image = testImage();
      h.fault.inject({ method: 'PUT', path: BLOB_UPLOAD, fault: { kind: 'status', status: 500 } });
      await push(h, image);
      assert.ok(h.fault.hasManifest(REPO, 'v1'));
      for (const layer of image.layers) assert.ok(h.fault.hasBlob(REPO, layer.descriptor.digest));
      // Two blobs (layer, config), one of them uploaded twice.
      assert.equal(count(h.fault, 'PUT', BLOB_UPLOAD), 3);
      assert.equal(h.sleeps.length, 1);
    });

    test('once on the manifest PUT: retried, the push succeeds', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness();
      h.fault.inject({ method: 'PUT', path: MANIFEST_V1, fault: { kind: 'status', status: 500 } });
      await push(h, testImage());
      assert.ok(h.fault.hasManifest(REPO, 'v1'));
      assert.equal(count(h.fault, 'PUT', MANIFEST_V1), 2);
    });

    test('forever on the manifest PUT: ERR_REGISTRY_UNAVAILABLE after retries+1 attempts, no tag', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness();
      h.fault.inject({ method: 'PUT', path: MANIFEST_V1, times: Infinity, fault: { kind: 'status', status: 500 } });
      const error = await rejectsWith(push(h, testImage()), 'ERR_REGISTRY_UNAVAILABLE');
      assert.ok(error.message.includes(`${h.fault.host}/${REPO}:v1`), error.message);
      assert.match(error.message, /HTTP 500/);
      assert.equal(count(h.fault, 'PUT', MANIFEST_V1), RETRIES + 1);
      assert.equal(h.fault.hasManifest(REPO, 'v1'), false);
      assert.deepEqual(h.fault.tags(REPO), []);
    });

    test('forever on blob upload PUTs: ERR_REGISTRY_UNAVAILABLE after retries+1 uploads, no manifest, no tag', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness();
      const image = testImage();
      h.fault.inject({ method: 'PUT', path: BLOB_UPLOAD, times: Infinity, fault: { kind: 'status', status: 500 } });
      const error = await rejectsWith(push(h, image), 'ERR_REGISTRY_UNAVAILABLE');
      assert.match(error.message, /PUT blob/);
      assert.match(error.message, /HTTP 500/);
      // Each blob's upload is tried retries+1 times (two blobs go in parallel; at least one gives up).
      assert.ok(count(h.fault, 'PUT', BLOB_UPLOAD) >= RETRIES + 1);
      assert.ok(count(h.fault, 'PUT', BLOB_UPLOAD) <= 2 * (RETRIES + 1));
      assert.equal(count(h.fault, 'PUT', /\/manifests\//), 0, 'no manifest is pushed');
      assert.equal(h.fault.hasManifest(REPO, 'v1'), false);
      assert.deepEqual(h.fault.tags(REPO), []);
    });
  });

  describe('3b. push and pull retries are counted separately (--push-retry, --image-download-retry)', () => {
    test('writes give up after pushRetry+1 attempts, reads after retry+1, in one session', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness({ pushRetries: 1 });
      h.fault.inject({ method: 'PUT', path: MANIFEST_V1, times: Infinity, fault: { kind: 'status', status: 500 } });
      await rejectsWith(push(h, testImage()), 'ERR_REGISTRY_UNAVAILABLE');
      assert.equal(count(h.fault, 'PUT', MANIFEST_V1), 2, 'manifest PUTs: pushRetry (1) + 1');
      h.fault.inject({ method: 'GET', path: /\/manifests\/v2$/, times: Infinity, fault: { kind: 'status', status: 500 } });
      await rejectsWith(h.session.repository(parseReference(`${h.fault.host}/${REPO}:v2`)).resolve('v2'), 'ERR_REGISTRY_UNAVAILABLE');
      assert.equal(count(h.fault, 'GET', /\/manifests\/v2$/), RETRIES + 1, 'manifest GETs: retry + 1');
    });
  });

  describe('4. connection reset in the middle of a blob', () => {
    test('the pull resumes with Range: bytes=N- and succeeds', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness();
      const image = testImage(40_000);
      const layer = image.layers[0]!;
      seed(h.fault, image);
      h.fault.inject({ method: 'GET', path: blobPathOf(layer.descriptor.digest), fault: { kind: 'reset-mid-body', afterBytes: 15_000 } });
      const layout = await pull(h);
      assert.ok((await layout.resolve('v1')).digest === image.manifest.digest);
      const gets = h.fault.requests.filter((request) => request.method === 'GET' && blobPathOf(layer.descriptor.digest).test(request.path));
      assert.equal(gets.length, 2, 'one reset GET, one resumed GET');
      assert.equal(gets[0]!.headers['range'], undefined);
      const range = String(gets[1]!.headers['range']);
      const match = /^bytes=(\d+)-$/.exec(range);
      assert.ok(match !== null, `the second GET asks for the rest: ${range}`);
      const offset = Number(match[1]);
      assert.ok(offset > 0 && offset <= 15_000, `resumed at ${offset}`);
      // The blob landed whole and verified.
      const chunks: Buffer[] = [];
      for await (const chunk of await layout.openBlob(layer.descriptor)) chunks.push(chunk as Buffer);
      assert.equal(sha256(Buffer.concat(chunks)), layer.descriptor.digest);
    });

    test('repo.openBlob read to the end resumes too', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness();
      const image = testImage(40_000);
      const layer = image.layers[0]!;
      seed(h.fault, image);
      h.fault.inject({ method: 'GET', path: blobPathOf(layer.descriptor.digest), fault: { kind: 'reset-mid-body', afterBytes: 10_000 } });
      const chunks: Buffer[] = [];
      for await (const chunk of await h.repo.openBlob(layer.descriptor)) chunks.push(chunk as Buffer);
      assert.deepEqual(Buffer.concat(chunks), layer.bytes);
      const ranges = h.fault.requests.filter((request) => request.method === 'GET' && blobPathOf(layer.descriptor.digest).test(request.path)).map((request) => request.headers['range']);
      assert.equal(ranges.length, 2);
      assert.match(String(ranges[1]), /^bytes=\d+-$/);
    });
  });

  describe('5. digest mismatch', () => {
    test('a corrupted blob fails the pull with ERR_DIGEST_MISMATCH and leaves no file', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness();
      const image = testImage(5_000);
      const layer = image.layers[0]!;
      seed(h.fault, image);
      h.fault.inject({ method: 'GET', path: blobPathOf(layer.descriptor.digest), fault: { kind: 'corrupt' } });
      const target = await OciLayout.openOrCreate(await tempDir());
      const root = await h.repo.resolve('v1');
      const error = await rejectsWith(copyImage({ source: h.repo, target, root, tags: ['v1'] }), 'ERR_DIGEST_MISMATCH');
      // The fault flips the middle byte: the digest the client saw is that of the flipped copy.
      const flipped = Buffer.from(layer.bytes);
      const middle = Math.floor(flipped.length / 2);
      flipped[middle] = flipped[middle]! ^ 0xff;
      assert.ok(error.message.includes(layer.descriptor.digest), error.message);
      assert.ok(error.message.includes(sha256(flipped)), error.message);
      assert.ok(error.message.includes(`${h.fault.host}/${REPO}`) || error.message.includes(target.dir), `names the blob: ${error.message}`);
      await assertNoBlobFile(target, layer.descriptor.digest);
      // Not retried: a corrupt blob is not a dropped connection.
      assert.equal(count(h.fault, 'GET', blobPathOf(layer.descriptor.digest)), 1);
    });
  });

  describe('6. truncated body', () => {
    test('once: the client resumes with Range and the pull succeeds', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness();
      const image = testImage(20_000);
      const layer = image.layers[0]!;
      seed(h.fault, image);
      h.fault.inject({ method: 'GET', path: blobPathOf(layer.descriptor.digest), fault: { kind: 'truncate', afterBytes: 7_000 } });
      const layout = await pull(h);
      assert.equal((await layout.resolve('v1')).digest, image.manifest.digest);
      const gets = h.fault.requests.filter((request) => request.method === 'GET' && blobPathOf(layer.descriptor.digest).test(request.path));
      assert.equal(gets.length, 2);
      assert.equal(gets[1]!.headers['range'], 'bytes=7000-');
    });

    test('forever: ends in a clear error after retries+1 attempts, leaves no file', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness();
      const image = testImage(20_000);
      const layer = image.layers[0]!;
      seed(h.fault, image);
      // 1000 bytes per attempt: four attempts cannot finish a 20 kB blob.
      h.fault.inject({ method: 'GET', path: blobPathOf(layer.descriptor.digest), times: Infinity, fault: { kind: 'truncate', afterBytes: 1_000 } });
      const target = await OciLayout.openOrCreate(await tempDir());
      const root = await h.repo.resolve('v1');
      const error = await rejectsWith(copyImage({ source: h.repo, target, root, tags: ['v1'] }), 'ERR_REGISTRY_UNAVAILABLE');
      assert.ok(error.message.includes(`${h.fault.host}/${REPO}@${layer.descriptor.digest}`), `names the blob: ${error.message}`);
      assert.match(error.message, /GET blob failed 4 times, the last at byte 4000 of/);
      assert.ok(error.cause instanceof Error, 'keeps the network error as its cause');
      const ranges = h.fault.requests.filter((request) => request.method === 'GET' && blobPathOf(layer.descriptor.digest).test(request.path)).map((request) => request.headers['range']);
      assert.deepEqual(ranges, [undefined, 'bytes=1000-', 'bytes=2000-', 'bytes=3000-']);
      await assertNoBlobFile(target, layer.descriptor.digest);
    });
  });

  describe('7. bad manifests on GET', () => {
    test('over 4 MiB: ERR_IMAGE_INVALID naming the reference', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness();
      const big = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', annotations: { padding: 'x'.repeat(4 * 1024 * 1024 + 16) } });
      h.fault.inject({ method: 'GET', path: MANIFEST_V1, fault: { kind: 'body', contentType: 'application/vnd.oci.image.manifest.v1+json', body: big } });
      const error = await rejectsWith(h.repo.resolve('v1'), 'ERR_IMAGE_INVALID');
      assert.match(error.message, /4 MiB/);
      assert.ok(error.message.includes(`${h.fault.host}/${REPO}:v1`), error.message);
    });

    test('malformed JSON: ERR_IMAGE_INVALID "not valid JSON" naming the reference', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness();
      h.fault.inject({ method: 'GET', path: MANIFEST_V1, fault: { kind: 'body', contentType: 'application/vnd.oci.image.manifest.v1+json', body: '{"schemaVersion": 2, "config": ' } });
      const error = await rejectsWith(h.repo.resolve('v1'), 'ERR_IMAGE_INVALID');
      assert.match(error.message, /not valid JSON/);
      assert.ok(error.message.includes(`${h.fault.host}/${REPO}:v1`), error.message);
    });
  });

  describe('8. a refused manifest PUT', () => {
    for (const status of [400, 413]) {
      test(`HTTP ${status}: the push fails at once and no tag exists`, { timeout: TEST_TIMEOUT }, async () => {
        const h = await harness();
        const image = testImage();
        h.fault.inject({ method: 'PUT', path: MANIFEST_V1, fault: { kind: 'status', status, body: JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid', detail: null }] }) } });
        const error = await rejectsWith(push(h, image), 'ERR_IMAGE_INVALID');
        assert.ok(error.message.includes(`${h.fault.host}/${REPO}:v1`), error.message);
        assert.match(error.message, new RegExp(`HTTP ${status}`));
        assert.match(error.message, /MANIFEST_INVALID/);
        assert.equal(count(h.fault, 'PUT', MANIFEST_V1), 1, 'a 4xx is not retried');
        assert.equal(h.fault.hasManifest(REPO, 'v1'), false);
        assert.equal(h.fault.hasManifest(REPO, image.manifest.digest), false);
        assert.deepEqual(h.fault.tags(REPO), []);
      });
    }

    test('HTTP 413 with the default SIZE_INVALID body: an error naming the reference, no tag', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness();
      h.fault.inject({ method: 'PUT', path: MANIFEST_V1, fault: { kind: 'status', status: 413 } });
      const image = testImage();
      let caught: unknown;
      try {
        await push(h, image);
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof CaissonError, `a CaissonError: ${String(caught)}`);
      assert.equal(caught.code, 'ERR_IMAGE_INVALID');
      assert.match(caught.hint ?? '', /too large/);
      assert.ok(caught.message.includes(`${h.fault.host}/${REPO}:v1`), caught.message);
      assert.match(caught.message, /HTTP 413/);
      assert.equal(count(h.fault, 'PUT', MANIFEST_V1), 1, 'a 4xx is not retried');
      assert.equal(h.fault.hasManifest(REPO, 'v1'), false);
      assert.deepEqual(h.fault.tags(REPO), []);
    });
  });

  describe('9. Basic auth', () => {
    const username = 'caisson';
    const password = 'fault-password';

    test('with the right credentials a push works', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness({ registry: { auth: 'basic', username, password }, credential: { kind: 'basic', username, password } });
      await push(h, testImage());
      assert.ok(h.fault.hasManifest(REPO, 'v1'));
    });

    test('anonymous: ERR_REGISTRY_UNAUTHORIZED with a config.json hint, no tag', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness({ registry: { auth: 'basic', username, password } });
      const error = await rejectsWith(push(h, testImage()), 'ERR_REGISTRY_UNAUTHORIZED');
      assert.match(error.hint ?? '', /config\.json/);
      assert.ok(error.message.includes(h.fault.host), error.message);
      assert.ok(!`${error.message} ${error.hint}`.includes(password));
      assert.equal(h.fault.hasManifest(REPO, 'v1'), false);
    });

    test('a wrong password: ERR_REGISTRY_UNAUTHORIZED, the password appears nowhere', { timeout: TEST_TIMEOUT }, async () => {
      const wrong = 'not-the-Password-42';
      const h = await harness({ registry: { auth: 'basic', username, password }, credential: { kind: 'basic', username, password: wrong } });
      const error = await rejectsWith(push(h, testImage()), 'ERR_REGISTRY_UNAUTHORIZED');
      assert.match(error.hint ?? '', /config\.json/);
      const text = `${error.message} ${error.hint} ${JSON.stringify(error.toJSON())} ${error.stack}`;
      for (const secret of [wrong, password, Buffer.from(`${username}:${wrong}`).toString('base64')]) assert.ok(!text.includes(secret), `leaks ${secret}`);
      assert.equal(h.fault.hasManifest(REPO, 'v1'), false);
    });
  });

  describe('10. referrers', () => {
    async function pushArtifact(h: Harness): Promise<{ subject: Descriptor; artifact: TestImage }> {
      const base = testImage(500);
      await push(h, base);
      const subject: Descriptor = { mediaType: base.manifest.mediaType, digest: base.manifest.digest, size: base.manifest.size };
      const artifact = makeImage({ layers: [makeLayer({ 'sig.json': '{"signed":true}' })], subject });
      const source = await sourceLayout(artifact);
      // Pushed by digest, as signatures and attestations are.
      await copyImage({ source, target: h.repo, root: await source.resolve('v1') });
      return { subject, artifact };
    }

    test('without the referrers API: the fallback tag index lists the artifact, listReferrers finds it', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness({ registry: { referrersApi: false } });
      const { subject, artifact } = await pushArtifact(h);
      const tag = referrersTag(subject.digest);
      assert.equal(tag, `sha256-${digestHex(subject.digest)}`);
      assert.ok(h.fault.hasManifest(REPO, tag), 'the fallback tag exists');
      const { parsed } = await getManifest({ client: h.session.client(h.fault.host), repository: REPO, reference: tag });
      assert.equal(parsed.kind, 'index');
      assert.deepEqual(parsed.kind === 'index' ? parsed.index.manifests.map((entry) => entry.digest) : [], [artifact.manifest.digest]);
      const found = await listReferrers({ client: h.session.client(h.fault.host), repository: REPO, subject: subject.digest });
      assert.deepEqual(found.map((entry) => entry.digest), [artifact.manifest.digest]);
    });

    test('with the referrers API: no fallback tag, listReferrers uses the API', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness({ registry: { referrersApi: true } });
      const { subject, artifact } = await pushArtifact(h);
      const tag = referrersTag(subject.digest);
      assert.equal(h.fault.hasManifest(REPO, tag), false);
      assert.deepEqual(h.fault.tags(REPO), ['v1']);
      const before = h.fault.requests.length;
      const found = await listReferrers({ client: h.session.client(h.fault.host), repository: REPO, subject: subject.digest });
      assert.deepEqual(found.map((entry) => entry.digest), [artifact.manifest.digest]);
      const used = h.fault.requests.slice(before).map((request) => `${request.method} ${request.path}`);
      assert.deepEqual(used, [`GET /v2/${REPO}/referrers/${subject.digest}`]);
    });
  });

  describe('11. tag pagination', () => {
    test('listTags follows Link over 5 tags in pages of 2', { timeout: TEST_TIMEOUT }, async () => {
      const h = await harness();
      const tags = ['a1', 'b2', 'c3', 'd4', 'e5'];
      for (const tag of tags) h.fault.putManifest(REPO, tag, `{"schemaVersion":2,"tag":"${tag}"}`, 'application/vnd.oci.image.manifest.v1+json');
      const listed = await listTags({ client: h.session.client(h.fault.host), repository: REPO, pageSize: 2 });
      assert.deepEqual(listed, tags);
      const pages = h.fault.requests.filter((request) => request.method === 'GET' && /\/tags\/list/.test(request.path)).map((request) => request.path);
      assert.deepEqual(pages, [`/v2/${REPO}/tags/list?n=2`, `/v2/${REPO}/tags/list?n=2&last=b2`, `/v2/${REPO}/tags/list?n=2&last=d4`]);
    });
  });
});
