/**
 * cosign's encrypted private key file (cosign `pkg/cosign/keys.go`, go-securesystemslib
 * `encrypted/encrypted.go`): a PEM block, `ENCRYPTED SIGSTORE PRIVATE KEY` (written) or the older
 * `ENCRYPTED COSIGN PRIVATE KEY` (read too), whose body is JSON:
 * `{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<b64 32B>"},
 *   "cipher":{"name":"nacl/secretbox","nonce":"<b64 24B>"},"ciphertext":"<b64>"}`.
 * The box key is scrypt(password, salt, N, r, p, 32 bytes); the ciphertext is NaCl secretbox
 * (XSalsa20-Poly1305, tag first) of the PKCS#8 DER key. An empty password is valid.
 */
import { randomBytes, scrypt } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { CaissonError } from '../errors.js';

/** The PEM type cosign writes since v2. */
export const SIGSTORE_PRIVATE_KEY_PEM_TYPE = 'ENCRYPTED SIGSTORE PRIVATE KEY';
/** The PEM type older cosign wrote; still read. */
export const COSIGN_PRIVATE_KEY_PEM_TYPE = 'ENCRYPTED COSIGN PRIVATE KEY';

/** The scrypt costs go-securesystemslib accepts (legacy, standard = the default, OWASP); r = 8, p = 1 always. */
export const SCRYPT_COSTS = [32768, 65536, 131072] as const;
export type ScryptCost = (typeof SCRYPT_COSTS)[number];
const DEFAULT_SCRYPT_COST: ScryptCost = 65536;
const SCRYPT_BLOCK_SIZE = 8;
const SCRYPT_PARALLELISM = 1;
/** N = 131072, r = 8 needs 128 MiB; node's default limit (32 MiB) refuses all three costs. */
const SCRYPT_MAX_MEMORY = 256 * 1024 * 1024;
const SALT_BYTES = 32;
const NONCE_BYTES = 24;
const BOX_KEY_BYTES = 32;

/** The JSON inside the PEM block. */
interface EncryptedKeyJson {
  readonly kdf: { readonly name: 'scrypt'; readonly params: { readonly N: number; readonly r: number; readonly p: number }; readonly salt: string };
  readonly cipher: { readonly name: 'nacl/secretbox'; readonly nonce: string };
  readonly ciphertext: string;
}

/** A PEM block: its type and decoded body. */
export interface PemBlock {
  readonly type: string;
  readonly bytes: Buffer;
}

/** The first PEM block of `text`, or undefined when there is none (as Go's `pem.Decode`). */
export function decodePem(text: string): PemBlock | undefined {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (match === null) return undefined;
  // Header lines (`Proc-Type: …`) hold a colon, which base64 never does; cosign's blocks have none.
  const base64 = (match[2] ?? '').split(/\r?\n/).filter((line) => !line.includes(':')).join('');
  return { type: match[1] ?? '', bytes: Buffer.from(base64.replace(/\s+/g, ''), 'base64') };
}

/** `bytes` as a PEM block of `type`, 64 base64 characters a line, as Go's `pem.Encode`. */
export function encodePem(block: PemBlock): string {
  const lines = block.bytes.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${block.type}-----\n${lines.map((line) => `${line}\n`).join('')}-----END ${block.type}-----\n`;
}

function boxKey(options: { readonly password: Buffer; readonly salt: Buffer; readonly cost: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(options.password, options.salt, BOX_KEY_BYTES, { N: options.cost, r: SCRYPT_BLOCK_SIZE, p: SCRYPT_PARALLELISM, maxmem: SCRYPT_MAX_MEMORY }, (error, key) => (error === null ? resolve(key) : reject(error)));
  });
}

/**
 * Encrypts a PKCS#8 DER private key as cosign does: a fresh salt and nonce, scrypt with `cost`
 * (default 65536), and the result as an `ENCRYPTED SIGSTORE PRIVATE KEY` PEM block.
 */
export async function encryptPrivateKey(options: { readonly pkcs8: Buffer; readonly password: Buffer; readonly cost?: ScryptCost }): Promise<string> {
  const cost = options.cost ?? DEFAULT_SCRYPT_COST;
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const key = await boxKey({ password: options.password, salt, cost });
  const ciphertext = xsalsa20poly1305(key, nonce).encrypt(options.pkcs8);
  const json: EncryptedKeyJson = {
    kdf: { name: 'scrypt', params: { N: cost, r: SCRYPT_BLOCK_SIZE, p: SCRYPT_PARALLELISM }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  };
  return encodePem({ type: SIGSTORE_PRIVATE_KEY_PEM_TYPE, bytes: Buffer.from(JSON.stringify(json)) });
}

/** Whether a PEM type is one of cosign's encrypted private key types. */
export function isCosignKeyType(type: string): boolean {
  return type === SIGSTORE_PRIVATE_KEY_PEM_TYPE || type === COSIGN_PRIVATE_KEY_PEM_TYPE;
}

function malformed(file: string, what: string): CaissonError {
  return new CaissonError({ code: 'ERR_SIGNING_KEY', message: `cannot read the cosign key ${file}: ${what}`, hint: 'The file should be a key written by "cosign generate-key-pair" or "caisson generate-key-pair".' });
}

function base64Field(options: { readonly value: unknown; readonly file: string; readonly name: string; readonly length?: number }): Buffer {
  if (typeof options.value !== 'string') throw malformed(options.file, `${options.name} is missing`);
  const bytes = Buffer.from(options.value, 'base64');
  if (options.length !== undefined && bytes.length !== options.length) throw malformed(options.file, `${options.name} is ${bytes.length} bytes, not ${options.length}`);
  return bytes;
}

/** The parts of an encrypted key body, checked as go-securesystemslib's `Decrypt` does. */
interface EncryptedKey {
  readonly cost: ScryptCost;
  readonly salt: Buffer;
  readonly nonce: Buffer;
  readonly ciphertext: Buffer;
}

function parseEncryptedKey(options: { readonly body: Buffer; readonly file: string }): EncryptedKey {
  const { file } = options;
  let json: unknown;
  try {
    json = JSON.parse(options.body.toString('utf8'));
  } catch {
    throw malformed(file, 'its body is not JSON');
  }
  const data = (typeof json === 'object' && json !== null ? json : {}) as Partial<Record<keyof EncryptedKeyJson, Record<string, unknown>>> & { ciphertext?: unknown };
  const kdf = data.kdf ?? {};
  const cipher = data.cipher ?? {};
  if (kdf['name'] !== 'scrypt') throw malformed(file, `unknown kdf ${JSON.stringify(kdf['name'] ?? null)} (only scrypt)`);
  if (cipher['name'] !== 'nacl/secretbox') throw malformed(file, `unknown cipher ${JSON.stringify(cipher['name'] ?? null)} (only nacl/secretbox)`);
  const params = (typeof kdf['params'] === 'object' && kdf['params'] !== null ? kdf['params'] : {}) as Record<string, unknown>;
  const cost = SCRYPT_COSTS.find((n) => n === params['N']);
  if (cost === undefined || params['r'] !== SCRYPT_BLOCK_SIZE || params['p'] !== SCRYPT_PARALLELISM) {
    throw malformed(file, `unsupported scrypt parameters N=${String(params['N'])} r=${String(params['r'])} p=${String(params['p'])} (N must be 32768, 65536 or 131072, r 8, p 1)`);
  }
  return {
    cost,
    salt: base64Field({ value: kdf['salt'], file, name: 'the kdf salt' }),
    nonce: base64Field({ value: cipher['nonce'], file, name: 'the cipher nonce', length: NONCE_BYTES }),
    ciphertext: base64Field({ value: data.ciphertext, file, name: 'the ciphertext' }),
  };
}

/**
 * Decrypts the body of an encrypted cosign key PEM block to the PKCS#8 DER key; undefined when
 * the password is wrong (the box does not open). Malformed bodies throw ERR_SIGNING_KEY naming `file`.
 */
export async function decryptPrivateKey(options: { readonly body: Buffer; readonly password: Buffer; readonly file: string }): Promise<Buffer | undefined> {
  const encrypted = parseEncryptedKey({ body: options.body, file: options.file });
  const key = await boxKey({ password: options.password, salt: encrypted.salt, cost: encrypted.cost });
  try {
    return Buffer.from(xsalsa20poly1305(key, encrypted.nonce).decrypt(encrypted.ciphertext));
  } catch {
    return undefined;
  }
}
