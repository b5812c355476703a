/**
 * ADD <http(s) URL>: the file downloaded with undici (redirects followed; userinfo in the URL sent
 * as basic auth, never on to another origin), streamed into the layer, never held in memory.
 * BuildKit's rules: the file is named after the URL's last path segment when the destination is a
 * directory (`__unnamed__` when there is none), else it is the destination itself; mode 0600
 * (--chmod overrides), owner 0:0 (--chown overrides); mtime from Last-Modified, else the build's
 * time; `--checksum=<algorithm>:<hex>` verified while streaming, a mismatch leaving nothing behind.
 * A downloaded archive is not unpacked unless `--unpack` is given. Messages and history show the
 * URL with its userinfo and query redacted.
 */
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, createWriteStream, rmSync, utimesSync } from 'node:fs';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { CaissonError } from '../errors.js';
import { applyChmod } from '../dockerfile/index.js';
import type { Logger } from '../log.js';
import { unpackArchive } from './add-archive.js';
import { makeParents, type DirectoryWrite, type WriteOptions } from './copy-files.js';

const MAX_REDIRECTIONS = 10;
/** Last-Modified's resolution is a second: one this close to the server's Date may hide a later write in the same second. */
const RACY_LAST_MODIFIED_MS = 2000;
const DIGEST_LENGTHS: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** A `--checksum` for a URL: an OCI digest. */
export interface UrlChecksum {
  readonly algorithm: string;
  readonly hex: string;
}

export function isHttpSource(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** The URL as messages and history show it: userinfo and query replaced by `***`, no fragment. */
export function redactUrl(source: string): string {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    return source.replace(/\/\/[^/@]*@/, '//***@').replace(/\?.*$/, '?***');
  }
  const userinfo = url.username !== '' || url.password !== '' ? '***@' : '';
  const query = url.search === '' ? '' : '?***';
  return `${url.protocol}//${userinfo}${url.host}${url.pathname}${query}`;
}

/** `--checksum=sha256:<hex>` (or sha384, sha512) parsed; undefined when it is not a digest. */
export function parseUrlChecksum(text: string): UrlChecksum | undefined {
  const match = /^([a-z0-9]+):([a-f0-9]+)$/.exec(text);
  if (match === null) return undefined;
  const [, algorithm = '', hex = ''] = match;
  return DIGEST_LENGTHS[algorithm] === hex.length ? { algorithm, hex } : undefined;
}

/** BuildKit's file name for a URL: the base name of its (decoded) path. */
export function urlFileName(source: string): string {
  let path: string;
  try {
    const raw = new URL(source).pathname;
    try {
      path = decodeURIComponent(raw);
    } catch {
      path = raw;
    }
  } catch {
    return '__unnamed__';
  }
  const base = posix.basename(path.replace(/\/+$/, ''));
  return base === '' || base === '.' || base === '..' ? '__unnamed__' : base;
}

const UNREACHABLE = 'Check the URL and that the server is reachable from this machine (HTTP_PROXY and HTTPS_PROXY are not read).';

function failure(options: { readonly source: string; readonly detail: string; readonly hint: string; readonly cause?: unknown }): CaissonError {
  return new CaissonError({ code: 'ERR_BUILD_STEP', message: `ADD ${redactUrl(options.source)}: ${options.detail}`, hint: options.hint, cause: options.cause });
}

/**
 * Streams `source` into a new file `file` (mode 0600), hashing it when a checksum is expected.
 * Returns the Last-Modified time in seconds, if the server sent one. On any failure the file is
 * removed.
 */
/**
 * A request for the URL: its userinfo sent as basic auth (not in the URL), redirects followed.
 * undici's index (fetch, interceptors, the global dispatcher) is loaded only for an ADD of a URL.
 */
async function requestUrl(source: string, method: 'GET' | 'HEAD'): Promise<Dispatcher.ResponseData> {
  // Its module.exports, as `default`: node's import of a CommonJS module also names each export,
  // the bundle's (esbuild) only the default.
  const { getGlobalDispatcher, interceptors, request } = (await import('undici')).default;
  const url = new URL(source);
  const headers: Record<string, string> = { 'user-agent': 'caisson' };
  if (url.username !== '' || url.password !== '') {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  url.hash = '';
  const dispatcher = getGlobalDispatcher().compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTIONS }));
  return request(url, { method, headers, dispatcher });
}

/**
 * What identifies the URL's content for the build cache without downloading it: the server's
 * ETag, else its Last-Modified (from a HEAD request); undefined when it sends neither or the
 * request fails (the step then runs and reports the error itself). Last-Modified counts whole
 * seconds, so one less than two seconds before the server's Date cannot tell a write in the same
 * second from the content it dates: undefined too (as file-stamp.ts distrusts a racy stat).
 */
export async function urlValidator(source: string): Promise<string | undefined> {
  try {
    const response = await requestUrl(source, 'HEAD');
    await response.body.dump().catch(() => undefined);
    if (response.statusCode < 200 || response.statusCode > 299) return undefined;
    const etag = response.headers['etag'];
    const modified = response.headers['last-modified'];
    if (typeof etag === 'string' && etag !== '') return `etag ${etag}`;
    if (typeof modified !== 'string' || modified === '') return undefined;
    const modifiedMs = Date.parse(modified);
    const dateMs = Date.parse(response.headers['date'] as string | undefined ?? '');
    // An unreadable Last-Modified vouches for nothing either.
    if (Number.isNaN(modifiedMs) || modifiedMs >= (Number.isNaN(dateMs) ? Date.now() : dateMs) - RACY_LAST_MODIFIED_MS) return undefined;
    return `last-modified ${modified}`;
  } catch {
    return undefined;
  }
}

/**
 * The text at `source` (a Dockerfile given as a URL, as kaniko takes one), at most `maxBytes`.
 * Errors are ERR_INPUT_NOT_FOUND naming the URL, redacted.
 */
export async function downloadText(options: { readonly source: string; readonly maxBytes: number }): Promise<string> {
  const { source } = options;
  const refused = (detail: string, hint: string, cause?: unknown): CaissonError =>
    new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `${redactUrl(source)}: ${detail}`, hint, ...(cause === undefined ? {} : { cause }) });
  let response: Dispatcher.ResponseData;
  try {
    response = await requestUrl(source, 'GET');
  } catch (error) {
    throw refused(`the download failed: ${(error as Error).message}`, UNREACHABLE, error);
  }
  if (response.statusCode < 200 || response.statusCode > 299) {
    await response.body.dump().catch(() => undefined);
    throw refused(`the server answered ${response.statusCode}`, 'Check the URL (and any credentials in it).');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > options.maxBytes) {
        response.body.destroy();
        throw refused(`more than ${options.maxBytes} bytes`, 'A Dockerfile is text; check that the URL names one.');
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof CaissonError) throw error;
    throw refused(`the download broke off: ${(error as Error).message}`, UNREACHABLE, error);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function downloadFile(options: { readonly source: string; readonly file: string; readonly checksum: UrlChecksum | undefined }): Promise<number | undefined> {
  const { source, file, checksum } = options;
  let response: Dispatcher.ResponseData;
  try {
    response = await requestUrl(source, 'GET');
  } catch (error) {
    throw failure({ source, detail: `the download failed: ${(error as Error).message}`, hint: UNREACHABLE, cause: error });
  }
  if (response.statusCode < 200 || response.statusCode > 299) {
    await response.body.dump().catch(() => undefined);
    // Its CommonJS exports: an import of node:http builds a namespace whose WebSocket getter loads node's own undici (tens of ms).
    const { STATUS_CODES } = process.getBuiltinModule('node:http');
    const status = `${response.statusCode} ${STATUS_CODES[response.statusCode] ?? ''}`.trim();
    throw failure({ source, detail: `the server answered ${status}`, hint: 'Check the URL (and any credentials in it); the server refused to send the file.' });
  }
  const hash = checksum === undefined ? undefined : createHash(checksum.algorithm);
  try {
    await pipeline(
      response.body,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash?.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(file, { flags: 'wx', mode: 0o600 }),
    );
  } catch (error) {
    rmSync(file, { force: true });
    throw failure({ source, detail: `the download broke off: ${(error as Error).message}`, hint: UNREACHABLE, cause: error });
  }
  if (checksum !== undefined && hash !== undefined) {
    const actual = hash.digest('hex');
    if (actual !== checksum.hex) {
      rmSync(file, { force: true });
      throw new CaissonError({
        code: 'ERR_DIGEST_MISMATCH',
        message: `ADD ${redactUrl(source)}: the download is ${checksum.algorithm}:${actual}, --checksum expects ${checksum.algorithm}:${checksum.hex}`,
        hint: 'The file on the server changed or the checksum is wrong; nothing was added.',
      });
    }
  }
  const modified = response.headers['last-modified'];
  const time = typeof modified === 'string' ? Date.parse(modified) : Number.NaN;
  return Number.isNaN(time) ? undefined : time / 1000;
}

/** Sets a downloaded file's owner, mode (0600 or --chmod) and mtime. */
export function settleDownload(options: WriteOptions & { readonly host: string; readonly mtime: number | undefined }): void {
  const { host } = options;
  chownSync(host, options.owner?.uid ?? 0, options.owner?.gid ?? 0);
  chmodSync(host, options.chmod === undefined ? 0o600 : applyChmod({ spec: options.chmod, mode: 0o600, isDirectory: false }));
  const time = options.mtime ?? options.now;
  utimesSync(host, time, time);
}

export interface UrlPlacement {
  readonly source: string;
  /** The destination resolved in the stage, layer-relative. */
  readonly target: string;
  readonly intoDirectory: boolean;
}

/** Where a download goes in the layer: `target/<name>` into a directory, else `target`. */
export function urlDestination(options: UrlPlacement): string {
  if (!options.intoDirectory) return options.target;
  const name = urlFileName(options.source);
  return options.target === '' ? name : `${options.target}/${name}`;
}

/** With `--unpack`: a downloaded archive is unpacked into `directory` (layer-relative). */
export interface UrlUnpack {
  readonly directory: string;
  /** A scratch directory for the download, which the caller removes. */
  readonly scratch: string;
  readonly logger: Logger;
}

/**
 * Downloads `source` to its place in the layer (straight there, or through `unpack.scratch` when
 * it may be an archive to unpack; a download that is no archive is placed like any other).
 */
export async function addUrl(options: DirectoryWrite & UrlPlacement & { readonly checksum: UrlChecksum | undefined; readonly created: string[]; readonly times: Map<string, number>; readonly unpack: UrlUnpack | undefined }): Promise<void> {
  const { source, checksum, unpack } = options;
  const relative = urlDestination(options);
  const host = join(options.layer, relative);
  const place = (): void => {
    const parent = posix.dirname(relative);
    makeParents({ ...options, path: parent === '.' ? '' : parent });
    rmSync(host, { recursive: true, force: true });
  };
  if (unpack === undefined) {
    place();
    settleDownload({ ...options, host, mtime: await downloadFile({ source, file: host, checksum }) });
    return;
  }
  const file = join(unpack.scratch, 'download');
  const mtime = await downloadFile({ source, file, checksum });
  if (await unpackArchive({ ...options, file, what: redactUrl(source), directory: unpack.directory, logger: unpack.logger })) return;
  place();
  copyFileSync(file, host);
  settleDownload({ ...options, host, mtime });
}
