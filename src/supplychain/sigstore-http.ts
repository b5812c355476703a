/**
 * The one HTTP call Fulcio, Rekor and timestamp-authority clients make: POST a body (JSON unless
 * told otherwise), read the answer as bytes and text.
 * Connection failures and 429/502/503/504 are retried twice with a short backoff; what is still
 * failing becomes ERR_SIGNING naming the service and its URL. Bodies quoted in messages are
 * shortened, redacted, and stripped of `secret` (the identity token) before they reach an error.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { CaissonError } from '../errors.js';
import { redactSecrets } from '../registry/index.js';

export interface PostJsonOptions {
  /** `Fulcio`, `Rekor` or `the timestamp authority`, for messages. */
  readonly service: string;
  readonly url: string;
  /** The JSON document, or its exact bytes (a Rekor entry whose envelope string must not change). */
  readonly body: Buffer | object;
  readonly dispatcher?: Dispatcher;
  /** A value that must never appear in a message (the identity token). */
  readonly secret?: string;
  /** Retries of transient failures; default 2. */
  readonly retries?: number;
  /** The body's media type and the one asked for; default `application/json` both. */
  readonly contentType?: string;
  readonly accept?: string;
}

export interface JsonResponse {
  readonly status: number;
  readonly text: string;
  /** The body as received (a DER timestamp response is not text). */
  readonly bytes: Buffer;
}

const TRANSIENT: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** The response of the last attempt: any status; ERR_SIGNING only when the service cannot be reached. */
export async function postJson(options: PostJsonOptions): Promise<JsonResponse> {
  const payload = Buffer.isBuffer(options.body) ? options.body : Buffer.from(JSON.stringify(options.body), 'utf8');
  const retries = options.retries ?? 2;
  for (let attempt = 0; ; attempt++) {
    let response: JsonResponse | undefined;
    let failure: unknown;
    try {
      const answer = await request(options.url, {
        method: 'POST',
        headers: { 'content-type': options.contentType ?? 'application/json', accept: options.accept ?? 'application/json', 'user-agent': 'caisson' },
        body: payload,
        ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
      });
      const bytes = Buffer.from(await answer.body.arrayBuffer());
      response = { status: answer.statusCode, text: bytes.toString('utf8'), bytes };
    } catch (error) {
      failure = error;
    }
    const transient = response === undefined || TRANSIENT.has(response.status);
    if (transient && attempt < retries) {
      await delay(250 * 2 ** attempt);
      continue;
    }
    if (response !== undefined) return response;
    const reason = scrub(failure instanceof Error ? describeNetworkError(failure) : String(failure), options.secret);
    throw new CaissonError({
      code: 'ERR_SIGNING',
      message: `cannot reach ${options.service} at ${redactSecrets(options.url)}: ${reason}`,
      hint: `check the ${options.service} URL and that it is reachable from here`,
    });
  }
}

/** ERR_SIGNING for an answer the service gave that is not what was asked for. */
export function refusal(options: { readonly service: string; readonly url: string; readonly response: JsonResponse; readonly action: string; readonly secret?: string; readonly hint?: string }): CaissonError {
  const detail = scrub(options.response.text.replace(/\s+/g, ' ').trim(), options.secret).slice(0, 300);
  return new CaissonError({
    code: 'ERR_SIGNING',
    message: `${options.service} at ${redactSecrets(options.url)} refused to ${options.action}: HTTP ${options.response.status}${detail === '' ? '' : ` ${detail}`}`,
    ...(options.hint === undefined ? {} : { hint: options.hint }),
  });
}

function describeNetworkError(error: Error): string {
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return [typeof code === 'string' ? code : undefined, cause ?? error.message].filter((part) => part !== undefined).join(' ');
}

function scrub(text: string, secret: string | undefined): string {
  const without = secret === undefined || secret === '' ? text : text.split(secret).join('[REDACTED]');
  return redactSecrets(without);
}
