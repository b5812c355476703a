/**
 * Test helper (never a test itself): Sigstore's own mock Fulcio, Rekor and TSA
 * (`@sigstore/mock`'s `initializeCA`/`initializeTLog`/`initializeTSA` behind `fulcioHandler`/
 * `rekorHandler`/`tsaHandler`), each served by a real HTTP server on 127.0.0.1 with a free port,
 * so caisson's undici clients talk to them over sockets (the package's nock interceptors cannot
 * see undici). Also mints the unsigned OIDC tokens the mock Fulcio accepts: it decodes the JWT
 * without verifying it and certifies `sub` (a URI SAN) with `iss` in the issuer extensions.
 * The mock TSA reads only Sigstore's JSON request form; a DER `application/timestamp-query` (what
 * cosign and caisson send) is read by `openssl ts -query -text` and handed to it in that form.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import { createHash, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, initializeTSA, rekorHandler, tsaHandler, type HandlerFn } from '@sigstore/mock';
import { readBody } from './http-body.js';

const execFileAsync = promisify(execFile);

export type MockService = 'fulcio' | 'rekor' | 'tsa';

/** One request a mock received. */
export interface MockRequest {
  readonly service: MockService;
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

/** The running mocks and the trust material a verifier needs for them. */
export interface SigstoreMock {
  readonly fulcioURL: string;
  readonly rekorURL: string;
  readonly tsaURL: string;
  /** The mock CA's self-signed root (it issues leaves directly), PEM. */
  readonly caRootPem: string;
  /** The CT log key that signs the SCTs embedded in the leaves, SPKI PEM. */
  readonly ctlogPublicKeyPem: string;
  readonly rekorPublicKeyPem: string;
  /** sha256 of the Rekor key's DER SPKI (the log ID). */
  readonly rekorLogId: Buffer;
  /** The TSA's intermediate then root, PEM. */
  readonly tsaChainPem: string;
  /** Every request so far, in order (a DER timestamp query's body in base64). */
  readonly requests: readonly MockRequest[];
  /** The next POST to `service` is answered `status` with `body` instead of being handled. */
  refuseNext(options: { readonly service: MockService; readonly status: number; readonly body: string }): void;
  close(): Promise<void>;
}

export interface SigstoreMockOptions {
  /** The token claim Fulcio puts in the SAN; default `sub` (as Fulcio does for non-email issuers). */
  readonly subjectClaim?: string;
  /**
   * How the mock Rekor logs a dsse entry: `as-proposed` (default; the mock's own behaviour, the
   * request's `proposedContent` canonicalized as is) or `canonical`, the body the real Rekor logs
   * (rekor `pkg/types/dsse/v0.0.1` Canonicalize: `envelopeHash`, `payloadHash`, `signatures[]`),
   * which is what @sigstore/verify compares a DSSE bundle with.
   */
  readonly rekorDsse?: 'as-proposed' | 'canonical';
}

/** Starts the three mocks on loopback; call `close()` in `after`. */
export async function startSigstoreMock(options: SigstoreMockOptions = {}): Promise<SigstoreMock> {
  const requests: MockRequest[] = [];
  const refusals = new Map<MockService, { readonly status: number; readonly body: string }>();
  const servers: Server[] = [];
  const serve = async (service: MockService, handler: () => { readonly path: string; readonly fn: HandlerFn } | undefined): Promise<string> => {
    const server = createServer((request, response) => {
      void readBody(request).then(async (bytes) => {
        const path = request.url ?? '/';
        const timestampQuery = request.headers['content-type'] === 'application/timestamp-query';
        const body = timestampQuery ? bytes.toString('base64') : bytes.toString('utf8');
        requests.push({ service, method: request.method ?? '', path, body });
        const refusal = refusals.get(service);
        const mounted = handler();
        if (refusal !== undefined && request.method === 'POST') {
          refusals.delete(service);
          response.writeHead(refusal.status, { 'content-type': 'application/json' }).end(refusal.body);
          return;
        }
        if (mounted === undefined || request.method !== 'POST' || path !== mounted.path) {
          response.writeHead(404, { 'content-type': 'application/json' }).end('{"code":404,"message":"not found"}');
          return;
        }
        const forwarded = timestampQuery ? await timestampQueryAsJson(bytes) : service === 'rekor' && options.rekorDsse === 'canonical' ? canonicalDsseEntry(body) : body;
        const result = await mounted.fn(forwarded);
        const payload = typeof result.response === 'string' ? result.response : Buffer.from(result.response.buffer, result.response.byteOffset, result.response.byteLength);
        response.writeHead(result.statusCode, { 'content-type': result.contentType ?? 'text/plain' }).end(payload);
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ctlogKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rekorKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tsaKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ca = await initializeCA(caKeys, await initializeCTLog(ctlogKeys));
  const fulcio = fulcioHandler(ca, { subjectClaim: options.subjectClaim ?? 'sub' });
  // The mock TSA writes genTime's fraction without trailing zeros (".45"), which @sigstore/core
  // cannot read (it wants exactly three digits) and rejects as "invalid time"; so every timestamp
  // carries one fixed time with three: just after its certificates' notBefore second.
  const tsa = await initializeTSA(tsaKeys, new Date(Math.floor(Date.now() / 1000) * 1000 + 1123));
  const tsaMounted = tsaHandler(tsa);
  let rekor: { readonly path: string; readonly fn: HandlerFn } | undefined;
  const fulcioURL = await serve('fulcio', () => fulcio);
  const rekorURL = await serve('rekor', () => rekor);
  const tsaURL = await serve('tsa', () => tsaMounted);
  // The log's checkpoint names its host, so it is made once the port is known.
  rekor = rekorHandler(await initializeTLog(rekorURL, rekorKeys));

  const spki = (key: KeyObject): Buffer => key.export({ format: 'der', type: 'spki' });
  return {
    fulcioURL,
    rekorURL,
    tsaURL,
    caRootPem: new X509Certificate(Buffer.from(ca.rootCertificate.buffer, ca.rootCertificate.byteOffset, ca.rootCertificate.byteLength)).toString(),
    ctlogPublicKeyPem: ctlogKeys.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    rekorPublicKeyPem: rekorKeys.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    rekorLogId: createHash('sha256').update(spki(rekorKeys.publicKey)).digest(),
    tsaChainPem: [tsa.intCertificate, tsa.rootCertificate].map((der) => new X509Certificate(Buffer.from(der.buffer, der.byteOffset, der.byteLength)).toString()).join(''),
    requests,
    refuseNext: (refusal) => {
      refusals.set(refusal.service, { status: refusal.status, body: refusal.body });
    },
    close: async () => {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}

/** Claims for a fake token; unset ones are left out (aud defaults to `sigstore`). */
export interface FakeTokenClaims {
  readonly iss?: string;
  readonly sub?: string;
  readonly email?: string;
  readonly aud?: string;
}

/**
 * An unsigned JWT (`alg: none`) with the claims, `email_verified` when there is an email, and a
 * one-hour lifetime. Only for the mock Fulcio: a real one verifies the issuer's signature.
 */
export function fakeIdentityToken(claims: FakeTokenClaims): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const payload = {
    ...(claims.iss === undefined ? {} : { iss: claims.iss }),
    ...(claims.sub === undefined ? {} : { sub: claims.sub }),
    ...(claims.email === undefined ? {} : { email: claims.email, email_verified: true }),
    aud: claims.aud ?? 'sigstore',
    iat: now,
    nbf: now,
    exp: now + 3600,
  };
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

/** A dsse v0.0.1 proposed entry as the real Rekor canonicalizes it; any other body unchanged. */
function canonicalDsseEntry(body: string): string {
  let entry: { kind?: unknown; apiVersion?: unknown; spec?: { proposedContent?: { envelope?: unknown; verifiers?: unknown } } };
  try {
    entry = JSON.parse(body) as typeof entry;
  } catch {
    return body;
  }
  const proposed = entry.spec?.proposedContent;
  if (entry.kind !== 'dsse' || typeof proposed?.envelope !== 'string' || !Array.isArray(proposed.verifiers)) return body;
  const envelope = JSON.parse(proposed.envelope) as { payload: string; signatures: { sig: string }[] };
  const verifier: unknown = proposed.verifiers[0];
  const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
  return JSON.stringify({
    apiVersion: entry.apiVersion,
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(Buffer.from(proposed.envelope, 'utf8')) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelope.payload, 'base64')) },
      signatures: envelope.signatures.map((signature) => ({ signature: signature.sig, verifier })),
    },
  });
}

/**
 * A DER TimeStampReq in the JSON form the mock TSA reads (sigstore timestamp-authority's
 * `{artifactHash, hashAlgorithm, nonce, certificates}`), as `openssl ts -query -text` reads it.
 */
async function timestampQueryAsJson(der: Buffer): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'caisson-tsq-'));
  let text: string;
  try {
    await writeFile(join(directory, 'query.tsq'), der);
    text = (await execFileAsync('openssl', ['ts', '-query', '-in', join(directory, 'query.tsq'), '-text'])).stdout;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
  const hex = text
    .split('\n')
    .filter((line) => /^\s+[0-9a-f]{4} - /.test(line))
    .map((line) => line.slice(line.indexOf(' - ') + 3, line.indexOf(' - ') + 3 + 47).replace(/-/g, ' ').replace(/\s+/g, ''))
    .join('');
  const nonce = /^Nonce: (0x[0-9A-Fa-f]+)$/m.exec(text)?.[1];
  return JSON.stringify({
    artifactHash: Buffer.from(hex, 'hex').toString('base64'),
    hashAlgorithm: /^Hash Algorithm: (\S+)$/m.exec(text)?.[1] ?? 'sha256',
    certificates: /^Certificate required: yes$/m.test(text),
    ...(nonce === undefined ? {} : { nonce: Number(BigInt(nonce)) }),
  });
}
