// The fault-injecting registry test helper (test/support/fault-registry.ts), driven with undici as
// the registry client will be: uploads, manifests, tags, referrers, basic auth, and every fault kind.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Agent, request, type Dispatcher } from 'undici';
import { startFaultRegistry, type FaultRegistry } from './support/fault-registry.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function single(value: string | string[] | undefined): string {
  assert.ok(typeof value === 'string', `expected one header value, got ${String(value)}`);
  return value;
}

function errorCode(response: Response): string | undefined {
  return (JSON.parse(response.body.toString('utf8')) as { errors: { code: string }[] }).errors[0]?.code;
}

/** Bytes received before a body stream failed, and the failure. */
async function readUntilError(body: AsyncIterable<Buffer>): Promise<{ received: Buffer; error: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body) chunks.push(chunk);
  } catch (error) {
    return { received: Buffer.concat(chunks), error };
  }
  return { received: Buffer.concat(chunks), error: undefined };
}

function manifestFor(config: string, layers: readonly { digest: string; size: number }[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 },
    layers: layers.map((layer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer })),
    ...extra,
  });
}

describe('fault registry', () => {
  let registry: FaultRegistry;
  let agent: Agent;

  async function call(method: Dispatcher.HttpMethod, path: string, options: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<Response> {
    const response = await request(new URL(path, registry.url), { method, dispatcher: agent, ...options });
    return { status: response.statusCode, headers: response.headers, body: Buffer.from(await response.body.arrayBuffer()) };
  }

  beforeEach(async () => {
    registry = await startFaultRegistry();
    agent = new Agent();
  });
  afterEach(async () => {
    await agent.close();
    await registry.close();
  });

  test('GET /v2/ answers 200 and requests are recorded', async () => {
    const response = await call('GET', '/v2/');
    assert.equal(response.status, 200);
    assert.equal(response.headers['docker-distribution-api-version'], 'registry/2.0');
    assert.deepEqual(registry.requests.map((r) => `${r.method} ${r.path}`), ['GET /v2/']);
    assert.equal(registry.requests[0]?.headers.host, registry.host);
  });

  test('monolithic upload in one POST, then HEAD, GET and Range', async () => {
    const data = Buffer.from('hello, layer');
    const digest = sha256(data);
    const created = await call('POST', `/v2/a/b/c/blobs/uploads/?digest=${digest}`, { body: data });
    assert.equal(created.status, 201);
    assert.equal(created.headers['docker-content-digest'], digest);
    assert.equal(created.headers.location, `/v2/a/b/c/blobs/${digest}`);
    assert.ok(registry.hasBlob('a/b/c', digest));
    assert.ok(!registry.hasBlob('a/b', digest));

    const head = await call('HEAD', `/v2/a/b/c/blobs/${digest}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(data.length));
    assert.equal(head.headers['docker-content-digest'], digest);
    assert.equal(head.body.length, 0);
    assert.deepEqual((await call('GET', `/v2/a/b/c/blobs/${digest}`)).body, data);

    const part = await call('GET', `/v2/a/b/c/blobs/${digest}`, { headers: { range: 'bytes=7-' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 7-11/${data.length}`);
    assert.equal(part.body.toString(), 'layer');
    assert.equal((await call('GET', `/v2/a/b/c/blobs/${digest}`, { headers: { range: 'bytes=99-' } })).status, 416);

    const wrong = await call('POST', `/v2/a/blobs/uploads/?digest=${sha256('other')}`, { body: data });
    assert.equal(wrong.status, 400);
    assert.equal(errorCode(wrong), 'DIGEST_INVALID');

    const missing = await call('GET', `/v2/a/b/c/blobs/${sha256('nothing')}`);
    assert.equal(missing.status, 404);
    const error = JSON.parse(missing.body.toString()) as { errors: { code: string; message: string; detail: unknown }[] };
    assert.equal(error.errors[0]?.code, 'BLOB_UNKNOWN');
    assert.equal(typeof error.errors[0]?.message, 'string');
  });

  test('chunked upload: POST, PATCH, PATCH, PUT with the digest', async () => {
    const data = Buffer.from('0123456789abcdefghij');
    const digest = sha256(data);
    const started = await call('POST', '/v2/x/y/blobs/uploads/');
    assert.equal(started.status, 202);
    assert.equal(started.headers.range, '0-0');
    const uuid = single(started.headers['docker-upload-uuid']);
    let location = single(started.headers.location);
    assert.match(location, new RegExp(`^/v2/x/y/blobs/uploads/${uuid}\\?_state=`));

    const first = await call('PATCH', location, { body: data.subarray(0, 8), headers: { 'content-range': '0-7', 'content-type': 'application/octet-stream' } });
    assert.equal(first.status, 202);
    assert.equal(first.headers.range, '0-7');
    location = single(first.headers.location);
    const outOfOrder = await call('PATCH', location, { body: data.subarray(12), headers: { 'content-range': '12-19' } });
    assert.equal(outOfOrder.status, 416);
    const second = await call('PATCH', location, { body: data.subarray(8, 15), headers: { 'content-range': '8-14' } });
    assert.equal(second.headers.range, '0-14');
    const status = await call('GET', location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.range, '0-14');

    const done = await call('PUT', `${single(second.headers.location)}&digest=${digest}`, { body: data.subarray(15) });
    assert.equal(done.status, 201);
    assert.equal(done.headers['docker-content-digest'], digest);
    assert.ok(registry.hasBlob('x/y', digest));
    assert.equal((await call('GET', location)).status, 404, 'the session is gone');

    const bad = await call('POST', '/v2/x/y/blobs/uploads/');
    const rejected = await call('PUT', `${single(bad.headers.location)}&digest=${sha256('no')}`, { body: data });
    assert.equal(rejected.status, 400);
    assert.equal(errorCode(rejected), 'DIGEST_INVALID');

    const cancelled = await call('POST', '/v2/x/y/blobs/uploads/');
    assert.equal((await call('DELETE', single(cancelled.headers.location))).status, 204);
    assert.equal((await call('PATCH', single(cancelled.headers.location), { body: 'x' })).status, 404);
  });

  test('cross-repository mount: 201 when the source has the blob, else a new session', async () => {
    const digest = registry.putBlob('library/base', Buffer.from('base layer'));
    const mounted = await call('POST', `/v2/team/app/blobs/uploads/?mount=${digest}&from=library/base`);
    assert.equal(mounted.status, 201);
    assert.equal(mounted.headers['docker-content-digest'], digest);
    assert.ok(registry.hasBlob('team/app', digest));
    const fallback = await call('POST', `/v2/team/other/blobs/uploads/?mount=${digest}&from=nowhere`);
    assert.equal(fallback.status, 202);
    assert.ok(typeof fallback.headers.location === 'string');
    assert.ok(!registry.hasBlob('team/other', digest));
  });

  test('manifests: PUT by tag, GET/HEAD by tag and digest, DELETE, unknown, size limit', async () => {
    const config = registry.putBlob('a/b/c', Buffer.from('{}'));
    const layer = registry.putBlob('a/b/c', Buffer.from('layer'));
    const body = manifestFor(config, [{ digest: layer, size: 5 }]);
    const put = await call('PUT', '/v2/a/b/c/manifests/v1', { body, headers: { 'content-type': MANIFEST } });
    assert.equal(put.status, 201);
    const digest = sha256(body);
    assert.equal(put.headers['docker-content-digest'], digest);
    assert.equal(put.headers.location, `/v2/a/b/c/manifests/${digest}`);
    assert.ok(registry.hasManifest('a/b/c', 'v1'));
    assert.ok(registry.hasManifest('a/b/c', digest));

    for (const reference of ['v1', digest]) {
      const got = await call('GET', `/v2/a/b/c/manifests/${reference}`, { headers: { accept: MANIFEST } });
      assert.equal(got.status, 200);
      assert.equal(got.headers['content-type'], MANIFEST);
      assert.equal(got.headers['docker-content-digest'], digest);
      assert.equal(got.body.toString(), body);
    }
    const head = await call('HEAD', '/v2/a/b/c/manifests/v1');
    assert.equal(head.headers['content-length'], String(Buffer.byteLength(body)));

    const unknown = await call('GET', '/v2/a/b/c/manifests/v2');
    assert.equal(unknown.status, 404);
    assert.equal(errorCode(unknown), 'MANIFEST_UNKNOWN');
    const dangling = await call('PUT', '/v2/a/b/c/manifests/v2', { body: manifestFor(config, [{ digest: sha256('absent'), size: 1 }]), headers: { 'content-type': MANIFEST } });
    assert.equal(errorCode(dangling), 'MANIFEST_BLOB_UNKNOWN');
    const notJson = await call('PUT', '/v2/a/b/c/manifests/v2', { body: '{oops', headers: { 'content-type': MANIFEST } });
    assert.equal(errorCode(notJson), 'MANIFEST_INVALID');
    const byWrongDigest = await call('PUT', `/v2/a/b/c/manifests/${sha256('x')}`, { body, headers: { 'content-type': MANIFEST } });
    assert.equal(errorCode(byWrongDigest), 'DIGEST_INVALID');
    const huge = await call('PUT', '/v2/a/b/c/manifests/huge', { body: JSON.stringify({ pad: 'x'.repeat(4 * 1024 * 1024) }), headers: { 'content-type': MANIFEST } });
    assert.equal(huge.status, 413);
    assert.equal(errorCode(huge), 'MANIFEST_INVALID');

    assert.equal((await call('DELETE', `/v2/a/b/c/manifests/${digest}`)).status, 202);
    assert.ok(!registry.hasManifest('a/b/c', 'v1'));
    assert.deepEqual(registry.tags('a/b/c'), []);
  });

  test('tags list pages with Link headers', async () => {
    const names = ['v3', 'latest', 'v1', 'v2', 'edge'];
    for (const tag of names) registry.putManifest('org/app', tag, `{"tag":"${tag}"}`, MANIFEST);
    assert.deepEqual(registry.tags('org/app'), [...names].sort());

    const seen: string[] = [];
    let next: string | undefined = '/v2/org/app/tags/list?n=2';
    let pages = 0;
    while (next !== undefined) {
      const page = await call('GET', next);
      assert.equal(page.status, 200);
      const list = JSON.parse(page.body.toString()) as { name: string; tags: string[] };
      assert.equal(list.name, 'org/app');
      seen.push(...list.tags);
      pages += 1;
      const link = page.headers.link;
      next = typeof link === 'string' ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...names].sort());
    const all = JSON.parse((await call('GET', '/v2/org/app/tags/list')).body.toString()) as { tags: string[] };
    assert.equal(all.tags.length, 5);
    assert.equal(errorCode(await call('GET', '/v2/org/none/tags/list')), 'NAME_UNKNOWN');
  });

  test('referrers API lists manifests by subject; OCI-Subject on PUT', async () => {
    const config = registry.putBlob('repo', Buffer.from('{}'));
    const subject = registry.putManifest('repo', 'v1', manifestFor(config, []), MANIFEST);
    const size = Buffer.byteLength(manifestFor(config, []));
    const signature = manifestFor(config, [], { artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json', subject: { mediaType: MANIFEST, digest: subject, size } });
    const put = await call('PUT', `/v2/repo/manifests/${sha256(signature)}`, { body: signature, headers: { 'content-type': MANIFEST } });
    assert.equal(put.status, 201);
    assert.equal(put.headers['oci-subject'], subject);

    const listed = await call('GET', `/v2/repo/referrers/${subject}`);
    assert.equal(listed.status, 200);
    assert.equal(listed.headers['content-type'], 'application/vnd.oci.image.index.v1+json');
    const index = JSON.parse(listed.body.toString()) as { manifests: { digest: string; artifactType: string }[] };
    assert.deepEqual(index.manifests.map((m) => [m.digest, m.artifactType]), [[sha256(signature), 'application/vnd.dev.cosign.artifact.sig.v1+json']]);
    const filtered = await call('GET', `/v2/repo/referrers/${subject}?artifactType=text/plain`);
    assert.equal(filtered.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual((JSON.parse(filtered.body.toString()) as { manifests: unknown[] }).manifests, []);
  });

  test('status faults: consumed in order, counted, filtered by method and path', async () => {
    const digest = registry.putBlob('r', Buffer.from('data'));
    registry.inject({ method: 'GET', path: /\/blobs\//, fault: { kind: 'status', status: 500 } });
    registry.inject({ path: /\/blobs\//, times: 2, fault: { kind: 'status', status: 429, headers: { 'Retry-After': '1' } } });
    const first = await call('GET', `/v2/r/blobs/${digest}`);
    assert.equal(first.status, 500);
    assert.equal(errorCode(first), 'UNKNOWN');
    const second = await call('HEAD', `/v2/r/blobs/${digest}`);
    assert.equal(second.status, 429);
    assert.equal(second.headers['retry-after'], '1');
    assert.equal(errorCode(await call('GET', `/v2/r/blobs/${digest}`)), 'TOOMANYREQUESTS');
    assert.equal((await call('GET', `/v2/r/blobs/${digest}`)).status, 200, 'all rules used up');

    registry.inject({ method: 'PUT', path: /./, times: Infinity, fault: { kind: 'status', status: 503, body: 'down' } });
    for (let i = 0; i < 3; i += 1) assert.equal((await call('PUT', '/v2/r/manifests/t', { body: '{}' })).body.toString(), 'down');
    assert.equal((await call('GET', '/v2/')).status, 200, 'other methods pass');
    registry.clearFaults();
    assert.equal((await call('PUT', '/v2/r/manifests/t', { body: '{}', headers: { 'content-type': MANIFEST } })).status, 201);

    registry.inject({ path: /^\/v2\/$/, fault: { kind: 'status', status: 401, headers: { 'WWW-Authenticate': 'Bearer realm=' } } });
    const unauthorized = await call('GET', '/v2/');
    assert.equal(unauthorized.status, 401);
    assert.equal(unauthorized.headers['www-authenticate'], 'Bearer realm=');
  });

  test('reset destroys the socket without a response, and nothing is stored', async () => {
    registry.inject({ method: 'PUT', path: /\/manifests\//, fault: { kind: 'reset' } });
    await assert.rejects(call('PUT', '/v2/r/manifests/t', { body: '{}', headers: { 'content-type': MANIFEST } }), (error: Error & { code?: string }) => {
      assert.ok(['ECONNRESET', 'UND_ERR_SOCKET'].includes(error.code ?? ''), `${error.code}: ${error.message}`);
      return true;
    });
    assert.ok(!registry.hasManifest('r', 't'));
    assert.equal((await call('PUT', '/v2/r/manifests/t', { body: '{}', headers: { 'content-type': MANIFEST } })).status, 201);
  });

  test('reset-mid-body delivers the first bytes, then Range resumes', async () => {
    const data = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251));
    const digest = registry.putBlob('r', data);
    registry.inject({ method: 'GET', path: new RegExp(digest), fault: { kind: 'reset-mid-body', afterBytes: 20_000 } });
    const response = await request(`${registry.url}/v2/r/blobs/${digest}`, { dispatcher: agent });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-length'], String(data.length));
    const { received, error } = await readUntilError(response.body);
    assert.ok(error instanceof Error, 'the body fails');
    assert.equal(received.length, 20_000);
    assert.deepEqual(received, data.subarray(0, 20_000));

    const rest = await call('GET', `/v2/r/blobs/${digest}`, { headers: { range: `bytes=${received.length}-` } });
    assert.equal(rest.status, 206);
    assert.equal(rest.headers['content-range'], `bytes 20000-49999/50000`);
    assert.equal(sha256(Buffer.concat([received, rest.body])), digest);
  });

  test('truncate sends fewer bytes than Content-Length and ends the connection', async () => {
    const body = manifestFor(sha256('c'), []);
    registry.putManifest('r', 'v1', body, MANIFEST);
    registry.inject({ path: /\/manifests\/v1$/, fault: { kind: 'truncate', afterBytes: 10 } });
    const response = await request(`${registry.url}/v2/r/manifests/v1`, { dispatcher: agent });
    assert.equal(response.headers['content-length'], String(Buffer.byteLength(body)));
    const { received, error } = await readUntilError(response.body);
    assert.ok(error instanceof Error, 'the short body fails');
    assert.equal(received.toString(), body.slice(0, 10));
    assert.equal((await call('GET', '/v2/r/manifests/v1')).body.toString(), body, 'served whole afterwards');
  });

  test('corrupt flips one byte: same length, different digest', async () => {
    const data = Buffer.from('some layer bytes');
    const digest = registry.putBlob('r', data);
    registry.inject({ path: /\/blobs\//, fault: { kind: 'corrupt' } });
    const corrupted = await call('GET', `/v2/r/blobs/${digest}`);
    assert.equal(corrupted.status, 200);
    assert.equal(corrupted.headers['docker-content-digest'], digest);
    assert.equal(corrupted.body.length, data.length);
    assert.notDeepEqual(corrupted.body, data);
    assert.notEqual(sha256(corrupted.body), digest);
  });

  test('body serves arbitrary content, e.g. a malformed manifest', async () => {
    registry.inject({ path: /\/manifests\//, fault: { kind: 'body', contentType: MANIFEST, body: '{"schemaVersion":' } });
    const response = await call('GET', '/v2/r/manifests/latest');
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], MANIFEST);
    assert.equal(response.headers['docker-content-digest'], sha256('{"schemaVersion":'));
    assert.throws(() => JSON.parse(response.body.toString()) as unknown);
  });

  test('referrers API switched off answers 404', async (t) => {
    const off = await startFaultRegistry({ referrersApi: false });
    t.after(() => off.close());
    const response = await request(`${off.url}/v2/r/referrers/${sha256('x')}`, { dispatcher: agent });
    assert.equal(response.statusCode, 404);
    await response.body.dump();
  });

  test('basic auth: 401 with a challenge unless the credentials are right', async (t) => {
    const secured = await startFaultRegistry({ auth: 'basic', username: 'u', password: 'p' });
    t.after(() => secured.close());
    const anonymous = await request(`${secured.url}/v2/`, { dispatcher: agent });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.headers['www-authenticate'], 'Basic realm="fault"');
    await anonymous.body.dump();
    const wrong = await request(`${secured.url}/v2/`, { dispatcher: agent, headers: { authorization: `Basic ${Buffer.from('u:x').toString('base64')}` } });
    assert.equal(wrong.statusCode, 401);
    await wrong.body.dump();
    const right = await request(`${secured.url}/v2/`, { dispatcher: agent, headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } });
    assert.equal(right.statusCode, 200);
    await right.body.dump();
  });
});

test('close() closes kept-alive connections and leaves no handles', { timeout: 30_000 }, async () => {
  const tcpHandles = (): number => process.getActiveResourcesInfo().filter((name) => name.startsWith('TCP')).length;
  const settled = async (): Promise<number> => {
    for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
    return tcpHandles();
  };
  const before = await settled();
  const registry = await startFaultRegistry();
  const agent = new Agent({ keepAliveTimeout: 60_000 });
  try {
    for (let i = 0; i < 3; i += 1) await (await request(`${registry.url}/v2/`, { dispatcher: agent })).body.dump();
    assert.ok(tcpHandles() >= before + 3, 'a server and a kept-alive connection (both ends)');
    // The agent keeps its connections for 60 s; close() ends them instead of waiting (the runner's
    // timeout guards against a hang).
    await registry.close();
  } finally {
    await agent.close();
  }
  const fresh = new Agent();
  await assert.rejects(request(`${registry.url}/v2/`, { dispatcher: fresh }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'ECONNREFUSED');
    return true;
  });
  await fresh.close();
  assert.equal(await settled(), before);
});
