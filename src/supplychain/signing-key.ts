/**
 * Loading a private key to sign with: cosign's encrypted key files (cosign-key.ts) and plain
 * PKCS#8 `PRIVATE KEY` PEM, for ECDSA P-256, P-384 and P-521, RSA (2048, 3072 or 4096 bits, the
 * sizes cosign knows) and Ed25519. Anything else — another PEM type, curve or key size, a wrong
 * password — is ERR_SIGNING_KEY naming the file; messages never hold the password or the key.
 *
 * Hash per key: SHA-256 for ECDSA of every curve and for RSA PKCS#1 v1.5, pure Ed25519. That is
 * what `cosign verify --key` checks on `.sig` signatures (its `--signature-digest-algorithm`
 * defaults to sha256; sigstore `LoadVerifier`), what Tekton Chains uses for `x509.pem`, and
 * what a hashedrekord `sha256` entry needs. `cosign sign` itself picks per key since v2.5
 * (sigstore `GetDefaultPublicKeyDetails`): SHA-384 for P-384, SHA-512 for P-521 and Ed25519ph
 * for Ed25519, which its own verify then needs `--signature-digest-algorithm` to check; P-256
 * and RSA sign the same either way.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CaissonError } from '../errors.js';
import { decodePem, decryptPrivateKey, isCosignKeyType } from './cosign-key.js';
import { passwordCandidates, wrongPasswordHint, type KeyPassword } from './key-password.js';

/** The signature scheme a key signs with (see the file comment for the hashes). */
export type SigningAlgorithm = 'ecdsa-p256-sha256' | 'ecdsa-p384-sha256' | 'ecdsa-p521-sha256' | 'rsa-pkcs1v15-sha256' | 'ed25519';

/** A private key ready to sign with, and its public half as cosign writes `cosign.pub`. */
export interface SigningKey {
  /** Where the key came from, for messages. */
  readonly file: string;
  readonly privateKey: KeyObject;
  /** The SPKI `PUBLIC KEY` PEM. */
  readonly publicKeyPem: string;
  readonly algorithm: SigningAlgorithm;
}

const CURVES: Readonly<Record<string, SigningAlgorithm>> = { prime256v1: 'ecdsa-p256-sha256', secp384r1: 'ecdsa-p384-sha256', secp521r1: 'ecdsa-p521-sha256' };
const RSA_SIZES: readonly number[] = [2048, 3072, 4096];

function keyError(options: { readonly file: string; readonly message: string; readonly hint?: string; readonly cause?: unknown }): CaissonError {
  return new CaissonError({ code: 'ERR_SIGNING_KEY', message: `signing key ${options.file}: ${options.message}`, ...(options.hint === undefined ? {} : { hint: options.hint }), ...(options.cause === undefined ? {} : { cause: options.cause }) });
}

function algorithmOf(options: { readonly privateKey: KeyObject; readonly file: string }): SigningAlgorithm {
  const { privateKey, file } = options;
  const details = privateKey.asymmetricKeyDetails ?? {};
  switch (privateKey.asymmetricKeyType) {
    case 'ec': {
      const algorithm = CURVES[details.namedCurve ?? ''];
      if (algorithm === undefined) throw keyError({ file, message: `unsupported elliptic curve ${details.namedCurve ?? '(unnamed)'}`, hint: 'Use an ECDSA key on P-256 (cosign generate-key-pair makes one), P-384 or P-521.' });
      return algorithm;
    }
    case 'rsa':
      if (!RSA_SIZES.includes(details.modulusLength ?? 0)) throw keyError({ file, message: `unsupported RSA key size ${details.modulusLength ?? 0} bits`, hint: 'cosign signs with RSA keys of 2048, 3072 or 4096 bits.' });
      return 'rsa-pkcs1v15-sha256';
    case 'ed25519':
      return 'ed25519';
    default:
      throw keyError({ file, message: `unsupported key type ${privateKey.asymmetricKeyType ?? 'unknown'}`, hint: 'Use an ECDSA (P-256, P-384, P-521), RSA or Ed25519 key.' });
  }
}

/** A signing key from PKCS#8 DER; ERR_SIGNING_KEY naming `file` when it is not a key caisson signs with. */
export function signingKeyFromPkcs8(options: { readonly pkcs8: Buffer; readonly file: string }): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: options.pkcs8, format: 'der', type: 'pkcs8' });
  } catch (error) {
    throw keyError({ file: options.file, message: 'the key is not valid PKCS#8', hint: 'Convert it with "openssl pkcs8 -topk8 -nocrypt" or import it with "cosign import-key-pair".', cause: error });
  }
  const algorithm = algorithmOf({ privateKey, file: options.file });
  return { file: options.file, privateKey, algorithm, publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString() };
}

async function decryptCosignKey(options: { readonly body: Buffer; readonly password: KeyPassword; readonly file: string }): Promise<Buffer> {
  for (const candidate of passwordCandidates(options.password)) {
    const pkcs8 = await decryptPrivateKey({ body: options.body, password: candidate, file: options.file });
    if (pkcs8 !== undefined) return pkcs8;
  }
  throw keyError({ file: options.file, message: 'wrong password (the key does not decrypt)', hint: wrongPasswordHint(options.password) });
}

/**
 * A signing key from PEM text: an encrypted cosign key (`ENCRYPTED SIGSTORE PRIVATE KEY` or
 * `ENCRYPTED COSIGN PRIVATE KEY`), decrypted with `password`, or a plain PKCS#8 `PRIVATE KEY`.
 */
export async function parseSigningKey(options: { readonly pem: string; readonly file: string; readonly password: KeyPassword }): Promise<SigningKey> {
  const { file } = options;
  const block = decodePem(options.pem);
  if (block === undefined) throw keyError({ file, message: 'no PEM block found', hint: 'Give a cosign key (cosign.key) or a PKCS#8 PEM private key.' });
  if (isCosignKeyType(block.type)) return signingKeyFromPkcs8({ pkcs8: await decryptCosignKey({ body: block.bytes, password: options.password, file }), file });
  switch (block.type) {
    case 'PRIVATE KEY':
      return signingKeyFromPkcs8({ pkcs8: block.bytes, file });
    case 'PUBLIC KEY':
      throw keyError({ file, message: 'this is a public key', hint: 'Sign with the private key (cosign.key); cosign.pub is for verifying.' });
    case 'EC PRIVATE KEY':
    case 'RSA PRIVATE KEY':
    case 'ENCRYPTED PRIVATE KEY':
      throw keyError({ file, message: `unsupported PEM type ${block.type}`, hint: 'Convert it to PKCS#8 ("openssl pkcs8 -topk8 -nocrypt") or import it with "cosign import-key-pair".' });
    default:
      throw keyError({ file, message: `unsupported PEM type ${block.type}`, hint: 'Give a cosign key (ENCRYPTED SIGSTORE PRIVATE KEY) or a PKCS#8 PRIVATE KEY.' });
  }
}

/** Reads and loads the signing key at `path` (`shown` names it in messages; default `path`). */
export async function readSigningKey(options: { readonly path: string; readonly password: KeyPassword; readonly shown?: string }): Promise<SigningKey> {
  const file = options.shown ?? options.path;
  let pem: string;
  try {
    pem = await readFile(options.path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CaissonError({
      code: 'ERR_INPUT_NOT_FOUND',
      message: `cannot read the signing key ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? 'unreadable')}`,
      hint: 'Give the path of a cosign key (cosign generate-key-pair) or a PKCS#8 PEM private key.',
      cause: error,
    });
  }
  return parseSigningKey({ pem, file, password: options.password });
}
