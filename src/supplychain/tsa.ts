/**
 * An RFC 3161 timestamp-authority client (cosign's `--timestamp-server-url`): a DER
 * `TimeStampReq` for the SHA-256 of a signature's bytes (what cosign and sigstore-go stamp, for
 * `.sig` layers and bundles alike), certReq true and a random nonce, POSTed as
 * `application/timestamp-query`; the `TimeStampResp` must grant a token stamping exactly that
 * digest with that nonce. The response's DER is what cosign stores (the
 * `dev.sigstore.cosign/rfc3161timestamp` annotation, a bundle's `rfc3161Timestamps`).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { CaissonError } from '../errors.js';
import { derElement, derOid, derSequence, derUnsignedInteger } from './der.js';
import { postJson, refusal } from './sigstore-http.js';
import { OID, parseTimestampResponse, type TimestampToken } from './timestamp-token.js';

/** Sigstore's timestamp-authority endpoint, used when `--tsa-url` has no path of its own. */
export const SIGSTORE_TSA_PATH = '/api/v1/timestamp';

/** A DER `TimeStampReq` v1 for a SHA-256 digest, with the nonce (big-endian magnitude) and certReq true. */
export function timestampRequest(options: { readonly digest: Buffer; readonly nonce: Buffer }): Buffer {
  const sha256 = derSequence(derOid(OID.sha256), Buffer.from([0x05, 0x00]));
  return derSequence(
    Buffer.from([0x02, 0x01, 0x01]),
    derSequence(sha256, derElement(0x04, options.digest)),
    derUnsignedInteger(options.nonce),
    Buffer.from([0x01, 0x01, 0xff]),
  );
}

/**
 * The URL to POST to: `url` itself when it has a path (`https://freetsa.org/tsr`, or cosign's
 * `https://timestamp.sigstore.dev/api/v1/timestamp`), else `url` + `/api/v1/timestamp`.
 */
export function timestampEndpoint(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = SIGSTORE_TSA_PATH;
  return parsed.toString();
}

/** A granted timestamp: the DER `TimeStampResp` to store, and its token read. */
export interface SignedTimestamp {
  readonly response: Buffer;
  readonly token: TimestampToken;
}

export interface TimestampClientOptions {
  /** The authority (see `timestampEndpoint`). */
  readonly url: string;
  /** undici dispatcher (a custom CA, a proxy); the global one by default. */
  readonly dispatcher?: Dispatcher;
}

/** Asks an RFC 3161 timestamp authority to stamp signatures. */
export class TimestampClient {
  readonly #options: TimestampClientOptions;

  constructor(options: TimestampClientOptions) {
    this.#options = options;
  }

  get url(): string {
    return timestampEndpoint(this.#options.url);
  }

  /**
   * A timestamp over sha256(`signature`). ERR_SIGNING when the authority cannot be reached,
   * refuses, or answers a token for another digest or nonce.
   */
  async timestamp(signature: Buffer): Promise<SignedTimestamp> {
    const url = this.url;
    const digest = createHash('sha256').update(signature).digest();
    // 53 random bits: plenty to tie one answer to one request, and within JavaScript's safe
    // integers, so authorities written in JS (Sigstore's mock) echo it exactly.
    const nonce = randomBytes(8);
    nonce[0] = 0;
    nonce[1] = (nonce[1] ?? 0) & 0x1f;
    const response = await postJson({
      service: 'the timestamp authority',
      url,
      body: timestampRequest({ digest, nonce }),
      contentType: 'application/timestamp-query',
      accept: 'application/timestamp-reply',
      ...(this.#options.dispatcher === undefined ? {} : { dispatcher: this.#options.dispatcher }),
    });
    if (response.status !== 200 && response.status !== 201) {
      throw refusal({ service: 'the timestamp authority', url, response, action: 'timestamp the signature', hint: 'check --tsa-url: it must be an RFC 3161 endpoint (application/timestamp-query)' });
    }
    const what = `the timestamp authority at ${url}`;
    let answer;
    try {
      answer = parseTimestampResponse({ bytes: response.bytes, what });
    } catch (error) {
      throw new CaissonError({ code: 'ERR_SIGNING', message: `${what} answered something that is not an RFC 3161 TimeStampResp`, hint: 'check --tsa-url', cause: error });
    }
    switch (answer.kind) {
      case 'refused':
        throw new CaissonError({ code: 'ERR_SIGNING', message: `${what} refused to timestamp the signature (status ${answer.status}${answer.text === '' ? '' : `: ${answer.text}`})` });
      case 'granted': {
        const { imprint, nonce: echoed } = answer.parsed;
        if (imprint.hashAlgorithm !== OID.sha256 || !imprint.digest.equals(digest)) {
          throw new CaissonError({ code: 'ERR_SIGNING', message: `${what} answered a timestamp for another digest than the signature's` });
        }
        if (echoed === undefined || !echoed.equals(derUnsignedMagnitude(nonce))) {
          throw new CaissonError({ code: 'ERR_SIGNING', message: `${what} answered a timestamp without the request's nonce`, hint: 'a replayed or misrouted answer; try again' });
        }
        return { response: response.bytes, token: answer.parsed };
      }
    }
  }
}

/** The magnitude as a parsed INTEGER carries it: leading zero octets dropped. */
function derUnsignedMagnitude(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  return bytes.subarray(start);
}
