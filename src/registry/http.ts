/**
 * HTTP/1.1 for the registry client, on node:http and node:https: one keep-alive agent per scheme,
 * with the registry's TLS settings. A build talks to a registry before anything else, and undici
 * (with its WebAssembly parser) costs some 20 ms at each start; node's own client is already in
 * the binary. node:https, and with it node:tls, loads at the first HTTPS request. Responses carry
 * the body helpers the registry code reads them with (text, json, arrayBuffer, dump), and headers
 * sent more than once (WWW-Authenticate) as arrays.
 */
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { readAll } from '../image/index.js';

export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface ResponseBody extends Readable {
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
  /** Reads and discards what is left (past DUMP_LIMIT the connection is closed instead). */
  dump(): Promise<void>;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: ResponseHeaders;
  readonly body: ResponseBody;
}

export interface HttpRequest {
  readonly method: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | Readable | null;
}

export interface HttpTls {
  /** Extra CAs, trusted with the system's. */
  readonly ca: readonly string[];
  readonly clientCert?: { readonly cert: string; readonly key: string };
  readonly skipVerify: boolean;
}

/** No byte for this long on a connection (waiting for headers or in a body): it is dropped, as ETIMEDOUT. */
const IDLE_TIMEOUT_MS = 300_000;
/** A body dumped past this many bytes closes its connection rather than reading on. */
const DUMP_LIMIT = 128 * 1024;

function dump(body: IncomingMessage): Promise<void> {
  // `complete` only says the parser has it all: it still has to be read for its connection to be free.
  if (body.readableEnded || body.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let read = 0;
    body.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > DUMP_LIMIT) body.destroy();
    });
    body.on('end', resolve);
    body.on('close', resolve);
    body.on('error', () => resolve());
    body.resume();
  });
}

function withHelpers(message: IncomingMessage): ResponseBody {
  return Object.assign(message, {
    text: async () => (await readAll(message)).toString('utf8'),
    json: async () => JSON.parse((await readAll(message)).toString('utf8')) as unknown,
    arrayBuffer: async () => {
      const bytes = await readAll(message);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
    dump: () => dump(message),
  });
}

/** Header names in lower case; a header sent more than once as an array, in order. */
function headersOf(raw: readonly string[]): ResponseHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    const seen = headers[name];
    headers[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return headers;
}

function timedOut(): Error {
  return Object.assign(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' });
}

export class HttpClient {
  readonly #connections: number;
  readonly #tls: HttpTls | undefined;
  #http: HttpAgent | undefined;
  #https: HttpsAgent | undefined;

  /** `connections`: at most this many sockets per host; `tls`: for HTTPS (node's defaults without it). */
  constructor(options: { readonly connections: number; readonly tls?: HttpTls }) {
    this.#connections = options.connections;
    this.#tls = options.tls;
  }

  #agent(protocol: string): HttpAgent | HttpsAgent {
    if (protocol === 'http:') {
      this.#http ??= new (process.getBuiltinModule('node:http').Agent)({ keepAlive: true, maxSockets: this.#connections });
      return this.#http;
    }
    const tls = this.#tls;
    this.#https ??= new (process.getBuiltinModule('node:https').Agent)({
      keepAlive: true,
      maxSockets: this.#connections,
      ...(tls === undefined || tls.ca.length === 0 ? {} : { ca: [...process.getBuiltinModule('node:tls').rootCertificates, ...tls.ca] }),
      ...(tls?.clientCert === undefined ? {} : { cert: tls.clientCert.cert, key: tls.clientCert.key }),
      rejectUnauthorized: tls?.skipVerify !== true,
    });
    return this.#https;
  }

  /** One request; the caller must read, dump or destroy the body of what it gets back. */
  request(url: URL, request: HttpRequest): Promise<HttpResponse> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new Error(`${url.protocol} URLs cannot be fetched`));
    const send = url.protocol === 'http:' ? process.getBuiltinModule('node:http').request : process.getBuiltinModule('node:https').request;
    return new Promise((resolve, reject) => {
      const outgoing = send(url, { method: request.method, headers: { ...request.headers }, agent: this.#agent(url.protocol), timeout: IDLE_TIMEOUT_MS });
      outgoing.on('timeout', () => outgoing.destroy(timedOut()));
      outgoing.on('error', reject);
      outgoing.on('response', (message) => {
        message.on('error', () => undefined);
        // No body to read: let it end at once, so that its connection goes back to the pool.
        if (request.method === 'HEAD' || message.statusCode === 204 || message.statusCode === 304 || message.headers['content-length'] === '0') message.resume();
        resolve({ statusCode: message.statusCode ?? 0, headers: headersOf(message.rawHeaders), body: withHelpers(message) });
      });
      const body = request.body;
      if (body === undefined || body === null || Buffer.isBuffer(body)) outgoing.end(body ?? undefined);
      else pipeline(body, outgoing, (error) => (error === undefined || error === null ? undefined : outgoing.destroy(error)));
    });
  }

  close(): void {
    this.#http?.destroy();
    this.#https?.destroy();
  }
}
