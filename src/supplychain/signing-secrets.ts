/**
 * Tekton Chains' `signing-secrets` layout (chains `pkg/chains/signing/x509/x509.go`), mounted as
 * a directory (Chains: `/etc/signing-secrets`), tried in Chains' order:
 * 1. `x509.pem`: an unencrypted PKCS#8 `PRIVATE KEY`, ECDSA only (as Chains), SHA-256;
 * 2. `cosign.key` + `cosign.password`: the password file must exist (it may be empty) and its
 *    bytes are the password as they are.
 * Keyless (`signers.x509.fulcio.enabled`) is Chains configuration, not a file here.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CaissonError } from '../errors.js';
import { KeySigner } from './key-signer.js';
import { parseSigningKey } from './signing-key.js';

/** Where Tekton Chains mounts the secret. */
export const CHAINS_SECRETS_DIRECTORY = '/etc/signing-secrets';

const HINT = 'Mount Tekton Chains\' signing-secrets secret there (made by "cosign generate-key-pair k8s://tekton-chains/signing-secrets"), or give a key file instead.';

function secretsError(options: { readonly message: string; readonly hint?: string; readonly cause?: unknown }): CaissonError {
  return new CaissonError({ code: 'ERR_SIGNING_KEY', message: options.message, hint: options.hint ?? HINT, ...(options.cause === undefined ? {} : { cause: options.cause }) });
}

/** The file's bytes, or undefined when it does not exist; other failures name it. */
async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw secretsError({ message: `signing secrets ${path}: a parent is not a directory`, cause: error });
    throw secretsError({ message: `cannot read signing secret ${path}: ${code ?? 'unreadable'}`, cause: error });
  }
}

/** A signer from a Chains `signing-secrets` directory: `x509.pem` first, else `cosign.key` with `cosign.password`. */
export async function loadSigningSecrets(options: { readonly directory: string }): Promise<KeySigner> {
  const { directory } = options;
  const x509Path = join(directory, 'x509.pem');
  const x509 = await readOptional(x509Path);
  if (x509 !== undefined) {
    const key = await parseSigningKey({ pem: x509.toString('utf8'), file: x509Path, password: { kind: 'none' } });
    if (!key.algorithm.startsWith('ecdsa-')) throw secretsError({ message: `signing key ${x509Path}: Tekton Chains accepts only ECDSA keys in x509.pem, this is ${key.algorithm}`, hint: 'Put an ECDSA PKCS#8 key in x509.pem, or use cosign.key and cosign.password.' });
    return new KeySigner(key);
  }
  const keyPath = join(directory, 'cosign.key');
  const keyText = await readOptional(keyPath);
  if (keyText === undefined) throw secretsError({ message: `no signing key in ${directory}: looked for x509.pem, then cosign.key` });
  const passwordPath = join(directory, 'cosign.password');
  const password = await readOptional(passwordPath);
  if (password === undefined) {
    throw secretsError({ message: `signing secrets ${directory}: cosign.key is there but cosign.password is not`, hint: 'Tekton Chains needs cosign.password next to cosign.key (empty for an empty password).' });
  }
  return new KeySigner(await parseSigningKey({ pem: keyText.toString('utf8'), file: keyPath, password: { kind: 'file', path: passwordPath, bytes: password } }));
}
