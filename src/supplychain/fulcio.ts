/**
 * Fulcio's v2 certificate request (`POST /api/v2/signingCert`, sigstore/fulcio
 * `fulcio.proto` CreateSigningCertificateRequest): the OIDC token, the public key PEM, and the
 * proof of possession (the key's signature over the token's subject). The answer's chain is the
 * leaf first, then intermediates, then the root, with the SCT embedded or detached.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { CaissonError } from '../errors.js';
import { postJson, refusal } from './sigstore-http.js';

/** The public-good Fulcio instance. */
export const DEFAULT_FULCIO_URL = 'https://fulcio.sigstore.dev';

export interface SigningCertificateRequest {
  readonly fulcioURL: string;
  readonly token: string;
  readonly publicKey: KeyObject;
  /** The signature, by the matching private key, over the token's subject (email or sub). */
  readonly proofOfPossession: Buffer;
  readonly dispatcher?: Dispatcher;
}

/** A Fulcio-issued leaf and the rest of its chain (intermediates then root), PEM. */
export interface IssuedCertificate {
  readonly certificatePem: string;
  readonly chainPem: string;
  readonly certificate: X509Certificate;
}

/** Asks Fulcio for a certificate binding `publicKey` to the token's identity; ERR_SIGNING when it refuses. */
export async function requestSigningCertificate(request: SigningCertificateRequest): Promise<IssuedCertificate> {
  const url = `${request.fulcioURL.replace(/\/+$/, '')}/api/v2/signingCert`;
  const publicKeyPem = request.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const response = await postJson({
    service: 'Fulcio',
    url,
    secret: request.token,
    ...(request.dispatcher === undefined ? {} : { dispatcher: request.dispatcher }),
    body: {
      credentials: { oidcIdentityToken: request.token },
      publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content: publicKeyPem }, proofOfPossession: request.proofOfPossession.toString('base64') },
    },
  });
  if (response.status !== 200 && response.status !== 201) {
    throw refusal({
      service: 'Fulcio',
      url,
      response,
      action: 'issue a signing certificate',
      secret: request.token,
      hint: 'Fulcio must trust the token issuer, and the token must be current and have audience "sigstore"',
    });
  }
  const pems = chainOf(response.text);
  const malformed = (why: string): CaissonError => new CaissonError({ code: 'ERR_SIGNING', message: `Fulcio at ${url} answered ${why}` });
  if (pems === undefined || pems.length === 0) throw malformed('no certificate chain');
  const [leafPem, ...rest] = pems.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)) as [string, ...string[]];
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(leafPem);
  } catch {
    throw malformed('a leaf certificate that does not parse');
  }
  const der = (key: KeyObject): Buffer => key.export({ format: 'der', type: 'spki' });
  if (!der(certificate.publicKey).equals(der(request.publicKey))) throw malformed('a certificate for a different public key');
  return { certificatePem: leafPem, chainPem: rest.join(''), certificate };
}

function chainOf(text: string): readonly string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const answer = parsed as { signedCertificateEmbeddedSct?: { chain?: { certificates?: unknown } }; signedCertificateDetachedSct?: { chain?: { certificates?: unknown } } };
  const certificates = (answer.signedCertificateEmbeddedSct ?? answer.signedCertificateDetachedSct)?.chain?.certificates;
  if (!Array.isArray(certificates) || !certificates.every((pem): pem is string => typeof pem === 'string')) return undefined;
  return certificates;
}
