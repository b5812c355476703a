/**
 * Test helper (never a test itself): an in-process, in-memory OCI distribution registry on
 * 127.0.0.1 for ERROR PATHS. Happy paths are tested against the real docker-registry; this one
 * exists to inject faults: error statuses, connection resets (before or in the middle of a body),
 * truncated and corrupted bodies, and arbitrary bodies such as malformed or oversized manifests.
 *
 * Serves enough of https://github.com/opencontainers/distribution-spec/blob/main/spec.md for a real
 * client: blobs (HEAD/GET with Range, DELETE), uploads (monolithic POST, POST/PATCH/PUT sessions,
 * cross-repository mount, DELETE), manifests (GET/HEAD/PUT/DELETE, 4 MiB limit), tags list with
 * Link pagination, and the referrers API (or a 404 when it is switched off). Upload Locations are
 * relative and carry a `_state` query parameter, as in CNCF distribution.
 *
 * Each request is recorded, then matched against the injected fault rules (in insertion order,
 * against `METHOD` and the request target, path plus query), then authenticated, then served.
 * 'status', 'body' and 'reset' replace the request's handling (nothing is stored); 'corrupt',
 * 'truncate' and 'reset-mid-body' let it be handled and damage the response body.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { digestOf, isSupportedDigest, isValidName, isValidTag, matchesDigest, RegistryStore } from './fault-registry-store.js';
import { readBody } from './http-body.js';

export interface RecordedRequest {
  readonly method: string;
  /** The request target: path and query, as sent. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export type Fault =
  /** Responds with `status`; the body defaults to a distribution JSON error, Content-Type to application/json. */
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  /** Destroys the socket with a TCP RST, without a response (the client sees ECONNRESET). */
  | { kind: 'reset' }
  /**
   * Sends the real status, headers and first `afterBytes` bytes of the body, then resets the socket
   * (RST). The bytes are handed to the kernel first; over loopback they arrive when `afterBytes` is
   * within the socket buffers (keep it under ~64 KiB for an exact count).
   */
  | { kind: 'reset-mid-body'; afterBytes: number }
  /** Sends the real headers (full Content-Length) and `afterBytes` bytes, then ends the socket cleanly (FIN). */
  | { kind: 'truncate'; afterBytes: number }
  /** Serves the real response with one byte of the body flipped (same length, so a digest mismatch). */
  | { kind: 'corrupt' }
  /**
   * Serves `body` instead (status 200, Content-Type application/json and Docker-Content-Digest of
   * `body` unless given), e.g. a malformed or oversized manifest.
   */
  | { kind: 'body'; status?: number; contentType?: string; body: string | Buffer; headers?: Record<string, string> };

export interface FaultRule {
  /** Matches any method when absent; compared case-insensitively. */
  method?: string;
  /** Tested against the request target (path and query), e.g. /\/blobs\/sha256:/. */
  path: RegExp;
  /** How many requests it applies to: default 1, Infinity allowed. */
  times?: number;
  fault: Fault;
}

export interface FaultRegistry {
  /** 127.0.0.1:port */
  readonly host: string;
  /** http://127.0.0.1:port */
  readonly url: string;
  /** Every request received, in order (faulted ones included). */
  readonly requests: readonly RecordedRequest[];
  /** Rules are consumed in order of insertion; the first matching rule with times left applies. */
  inject(rule: FaultRule): void;
  clearFaults(): void;
  /** Seeds a blob into repository `name`; returns its sha256 digest. */
  putBlob(name: string, data: Buffer): string;
  /** Seeds a manifest (any bytes, not validated); returns its digest; tags it when reference is a tag. */
  putManifest(name: string, reference: string, body: Buffer | string, mediaType: string): string;
  hasManifest(name: string, reference: string): boolean;
  hasBlob(name: string, digest: string): boolean;
  tags(name: string): string[];
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

export interface FaultRegistryOptions {
  /** Serve GET /v2/<name>/referrers/<digest> (default true); when false it is a plain 404. */
  readonly referrersApi?: boolean;
  /** 'basic': every request without the right Basic credentials gets 401 (default 'none'). */
  readonly auth?: 'none' | 'basic';
  /** Basic credentials; default 'caisson' / 'fault-password'. */
  readonly username?: string;
  readonly password?: string;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const ERROR_CODES: Readonly<Record<number, string>> = { 400: 'UNSUPPORTED', 401: 'UNAUTHORIZED', 403: 'DENIED', 404: 'NOT_FOUND', 405: 'UNSUPPORTED', 413: 'SIZE_INVALID', 416: 'BLOB_UPLOAD_INVALID', 429: 'TOOMANYREQUESTS' };

interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
}

interface ActiveRule {
  readonly rule: FaultRule;
  remaining: number;
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'Content-Type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify(value)) };
}

/** A distribution error response: `{"errors":[{"code","message","detail"}]}`. */
function failure(status: number, code: string, message: string, detail: unknown = null): Reply {
  return json(status, { errors: [{ code, message, detail }] });
}

const notFound: Reply = { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: Buffer.from('404 page not found\n') };
const empty = (status: number, headers: Record<string, string> = {}): Reply => ({ status, headers });

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Serves `data` whole or, for `Range: bytes=N-` / `bytes=N-M`, the requested part (206). */
function ranged(data: Buffer, range: string | undefined, headers: Record<string, string>): Reply {
  const base = { ...headers, 'Accept-Ranges': 'bytes' };
  if (range === undefined) return { status: 200, headers: base, body: data };
  const match = /^bytes=(\d+)-(\d*)$/.exec(range.trim());
  const start = Number(match?.[1] ?? NaN);
  const end = Math.min(match?.[2] ? Number(match[2]) : data.length - 1, data.length - 1);
  if (!(start <= end)) return { status: 416, headers: { ...base, 'Content-Range': `bytes */${data.length}` } };
  return { status: 206, headers: { ...base, 'Content-Range': `bytes ${start}-${end}/${data.length}` }, body: data.subarray(start, end + 1) };
}

function flipOneByte(body: Buffer): Buffer {
  const copy = Buffer.from(body);
  const index = Math.floor(copy.length / 2);
  if (copy.length > 0) copy[index] = (copy[index] ?? 0) ^ 0xff;
  return copy;
}

/** The status line and headers of `reply`, written straight to the socket by the damaging faults. */
function rawHead(reply: Reply, length: number, extra: Record<string, string>): Buffer {
  const headers = { ...reply.headers, 'Content-Length': String(length), ...extra };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return Buffer.from(`HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? 'Unknown'}\r\n${lines.join('')}\r\n`, 'latin1');
}

function send(request: IncomingMessage, response: ServerResponse, reply: Reply, fault: Fault | undefined): void {
  const body = reply.body ?? Buffer.alloc(0);
  const socket: Socket = request.socket;
  const sendsBody = request.method !== 'HEAD';
  const headers = { 'Docker-Distribution-Api-Version': 'registry/2.0', ...reply.headers };
  switch (fault?.kind) {
    case 'truncate':
      socket.end(Buffer.concat([rawHead({ ...reply, headers }, body.length, { Connection: 'close' }), sendsBody ? body.subarray(0, fault.afterBytes) : Buffer.alloc(0)]));
      return;
    case 'reset-mid-body':
      socket.write(Buffer.concat([rawHead({ ...reply, headers }, body.length, {}), sendsBody ? body.subarray(0, fault.afterBytes) : Buffer.alloc(0)]), () => socket.resetAndDestroy());
      return;
    default:
      response.writeHead(reply.status, { ...headers, 'Content-Length': String(body.length) });
      response.end(fault?.kind === 'corrupt' ? flipOneByte(body) : body);
  }
}

export async function startFaultRegistry(options: FaultRegistryOptions = {}): Promise<FaultRegistry> {
  const store = new RegistryStore();
  const requests: RecordedRequest[] = [];
  let rules: ActiveRule[] = [];
  const referrersApi = options.referrersApi ?? true;
  const credentials = `Basic ${Buffer.from(`${options.username ?? 'caisson'}:${options.password ?? 'fault-password'}`).toString('base64')}`;

  function takeFault(method: string, target: string): Fault | undefined {
    const active = rules.find(({ rule, remaining }) => {
      rule.path.lastIndex = 0;
      return remaining > 0 && (rule.method === undefined || rule.method.toUpperCase() === method) && rule.path.test(target);
    });
    if (active === undefined) return undefined;
    active.remaining -= 1;
    rules = rules.filter((entry) => entry.remaining > 0);
    return active.rule.fault;
  }

  function uploadLocation(name: string, id: string): string {
    return `/v2/${name}/blobs/uploads/${id}?_state=${Buffer.from(`${name}:${id}`).toString('base64url')}`;
  }

  function uploadProgress(status: number, name: string, id: string, size: number): Reply {
    return empty(status, { Location: uploadLocation(name, id), 'Docker-Upload-UUID': id, Range: `0-${Math.max(size - 1, 0)}` });
  }

  function blobCreated(name: string, digest: string): Reply {
    return empty(201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
  }

  function serveUploadStart(name: string, query: URLSearchParams, body: Buffer): Reply {
    const digest = query.get('digest');
    const mount = query.get('mount');
    const from = query.get('from');
    if (mount !== null && from !== null && store.mountBlob(name, mount, from)) return blobCreated(name, mount);
    if (digest !== null) {
      if (!matchesDigest(body, digest)) return failure(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', { digest });
      return blobCreated(name, store.putBlob(name, body, digest));
    }
    return uploadProgress(202, name, store.startUpload(name).id, 0);
  }

  function serveUpload(method: string, name: string, id: string, request: IncomingMessage, query: URLSearchParams, body: Buffer): Reply {
    const session = store.getUpload(name, id);
    if (session === undefined) return failure(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { id });
    switch (method) {
      case 'GET':
        return uploadProgress(204, name, id, session.size);
      case 'DELETE':
        store.cancelUpload(session);
        return empty(204);
      case 'PATCH': {
        const range = /^(\d+)-(\d+)$/.exec(header(request, 'content-range') ?? '');
        if (range !== null && Number(range[1]) !== session.size) return uploadProgress(416, name, id, session.size);
        store.appendUpload(session, body);
        return uploadProgress(202, name, id, session.size);
      }
      case 'PUT': {
        const digest = query.get('digest') ?? '';
        store.appendUpload(session, body);
        if (!store.completeUpload(session, digest)) return failure(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', { digest });
        return blobCreated(name, digest);
      }
      default:
        return failure(405, 'UNSUPPORTED', `${method} is not supported on upload sessions`);
    }
  }

  function serveBlob(method: string, name: string, digest: string, request: IncomingMessage): Reply {
    const data = store.getBlob(name, digest);
    if (data === undefined) return failure(404, 'BLOB_UNKNOWN', 'blob unknown to registry', { digest });
    if (method === 'DELETE') {
      store.deleteBlob(name, digest);
      return empty(202, { 'Docker-Content-Digest': digest });
    }
    if (method !== 'GET' && method !== 'HEAD') return failure(405, 'UNSUPPORTED', `${method} is not supported on blobs`);
    return ranged(data, header(request, 'range'), { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest });
  }

  function serveManifest(method: string, name: string, reference: string, request: IncomingMessage, body: Buffer): Reply {
    if (!isSupportedDigest(reference) && !isValidTag(reference)) return failure(400, 'TAG_INVALID', 'manifest tag did not match URI', { reference });
    if (method === 'PUT') {
      if (body.length > MAX_MANIFEST_BYTES) return failure(413, 'MANIFEST_INVALID', 'manifest invalid', { size: body.length, limit: MAX_MANIFEST_BYTES });
      if (isSupportedDigest(reference) && !matchesDigest(body, reference)) return failure(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', { reference });
      try {
        JSON.parse(body.toString('utf8'));
      } catch (error) {
        return failure(400, 'MANIFEST_INVALID', 'manifest invalid', { error: String(error) });
      }
      const missing = store.missingReferences(name, body);
      if (missing.length > 0) return failure(400, 'MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', { digests: missing });
      const stored = store.putManifest(name, reference, body, header(request, 'content-type') ?? 'application/octet-stream');
      const subject: Record<string, string> = referrersApi && stored.subject !== undefined ? { 'OCI-Subject': stored.subject } : {};
      return empty(201, { Location: `/v2/${name}/manifests/${stored.digest}`, 'Docker-Content-Digest': stored.digest, ...subject });
    }
    const manifest = store.getManifest(name, reference);
    if (manifest === undefined) return failure(404, 'MANIFEST_UNKNOWN', 'manifest unknown to registry', { reference });
    if (method === 'DELETE') return store.deleteManifest(name, reference) ? empty(202) : failure(404, 'MANIFEST_UNKNOWN', 'manifest unknown', { reference });
    if (method !== 'GET' && method !== 'HEAD') return failure(405, 'UNSUPPORTED', `${method} is not supported on manifests`);
    return { status: 200, headers: { 'Content-Type': manifest.mediaType, 'Docker-Content-Digest': manifest.digest }, body: manifest.body };
  }

  function serveTags(name: string, query: URLSearchParams): Reply {
    if (!store.hasRepository(name)) return failure(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name });
    const last = query.get('last');
    const n = query.get('n');
    const after = store.tags(name).filter((tag) => last === null || tag > last);
    const page = n === null ? after : after.slice(0, Math.max(Number(n) || 0, 0));
    const lastOfPage = page.at(-1);
    const link: Record<string, string> = page.length < after.length && lastOfPage !== undefined ? { Link: `</v2/${name}/tags/list?n=${n ?? ''}&last=${encodeURIComponent(lastOfPage)}>; rel="next"` } : {};
    return json(200, { name, tags: page }, link);
  }

  function serveReferrers(name: string, digest: string, query: URLSearchParams): Reply {
    if (!referrersApi) return notFound;
    if (!isSupportedDigest(digest)) return failure(400, 'DIGEST_INVALID', 'invalid digest', { digest });
    const artifactType = query.get('artifactType');
    const manifests = store
      .referrers(name, digest)
      .filter((manifest) => artifactType === null || manifest.artifactType === artifactType)
      .map((manifest) => ({ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.body.length, artifactType: manifest.artifactType, annotations: manifest.annotations }));
    const filtered: Record<string, string> = artifactType === null ? {} : { 'OCI-Filters-Applied': 'artifactType' };
    const reply = json(200, { schemaVersion: 2, mediaType: OCI_INDEX, manifests }, filtered);
    return { ...reply, headers: { ...reply.headers, 'Content-Type': OCI_INDEX } };
  }

  function route(method: string, url: URL, request: IncomingMessage, body: Buffer): Reply {
    const path = decodeURIComponent(url.pathname);
    if (path === '/v2/' || path === '/v2') return json(200, {});
    const match = /^\/v2\/(.+)\/(blobs\/uploads\/?|blobs|manifests|tags|referrers)\/?([^/]*)$/.exec(path);
    const [, name = '', area = '', rest = ''] = match ?? [];
    if (match === null) return notFound;
    if (!isValidName(name)) return failure(400, 'NAME_INVALID', 'invalid repository name', { name });
    if (area.startsWith('blobs/uploads')) return rest === '' && method === 'POST' ? serveUploadStart(name, url.searchParams, body) : serveUpload(method, name, rest, request, url.searchParams, body);
    if (area === 'blobs') return serveBlob(method, name, rest, request);
    if (area === 'manifests') return serveManifest(method, name, rest, request, body);
    if (area === 'tags' && rest === 'list' && method === 'GET') return serveTags(name, url.searchParams);
    if (area === 'referrers' && method === 'GET') return serveReferrers(name, rest, url.searchParams);
    return notFound;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = (request.method ?? 'GET').toUpperCase();
    const target = request.url ?? '/';
    requests.push({ method, path: target, headers: { ...request.headers } });
    const body = await readBody(request);
    const fault = takeFault(method, target);
    switch (fault?.kind) {
      case 'reset':
        request.socket.resetAndDestroy();
        return;
      case 'status': {
        const defaultBody = JSON.stringify({ errors: [{ code: ERROR_CODES[fault.status] ?? 'UNKNOWN', message: 'injected fault', detail: null }] });
        const reply = { status: fault.status, headers: { 'Content-Type': 'application/json', ...fault.headers }, body: Buffer.from(fault.body ?? defaultBody) };
        send(request, response, reply, undefined);
        return;
      }
      case 'body': {
        const data = Buffer.from(fault.body);
        const headers = { 'Content-Type': fault.contentType ?? 'application/json', 'Docker-Content-Digest': digestOf(data), ...fault.headers };
        send(request, response, { status: fault.status ?? 200, headers, body: data }, undefined);
        return;
      }
      default:
        break;
    }
    if (options.auth === 'basic' && header(request, 'authorization') !== credentials) {
      const reply = failure(401, 'UNAUTHORIZED', 'authentication required');
      send(request, response, { ...reply, headers: { ...reply.headers, 'WWW-Authenticate': 'Basic realm="fault"' } }, undefined);
      return;
    }
    send(request, response, route(method, new URL(target, 'http://registry.invalid'), request, body), fault);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(request, response, failure(500, 'UNKNOWN', 'fault registry bug', { error: String(error) }), undefined);
      else request.socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;

  return {
    host,
    url: `http://${host}`,
    requests,
    inject(rule) {
      rules.push({ rule, remaining: rule.times ?? 1 });
    },
    clearFaults() {
      rules = [];
    },
    putBlob: (name, data) => store.putBlob(name, data),
    putManifest: (name, reference, body, mediaType) => store.putManifest(name, reference, Buffer.from(body), mediaType).digest,
    hasManifest: (name, reference) => store.getManifest(name, reference) !== undefined,
    hasBlob: (name, digest) => store.hasBlob(name, digest),
    tags: (name) => store.tags(name),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
