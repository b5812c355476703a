/**
 * What `caisson verify` and `verify-attestation` trust, from their flags (VERIFY_OPTIONS) and
 * cosign's `SIGSTORE_REKOR_PUBLIC_KEY`: the key (`--key cosign.pub`) or the keyless identity
 * (`--certificate-identity` + `--certificate-oidc-issuer`, CAs from `--trusted-root`), the Rekor
 * keys (the trusted root's tlogs and the PEM file the variable names), `--insecure-ignore-tlog`.
 * There is no TUF client: keyless needs `--trusted-root`, and a required tlog needs a Rekor key.
 * Also the image reference and the signed image's digest, shared by both commands.
 */
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CaissonError } from '../errors.js';
import { parseReference, referenceIdentifier, repositoryName, type Reference } from '../image/index.js';
import { RegistrySession, type RegistryRepository } from '../registry/index.js';
import { readTrustedRoot, transparencyLogKeyFromPem, type SignedImage, type SignerTrust, type TransparencyLogKey, type TlogEntry, type TrustedRoot, type VerificationTrust, type VerifiedSigner } from '../supplychain/index.js';
import type { CommandContext } from './context.js';
import { resolveRegistryOptions } from './registry-settings.js';
import type { ParsedArgs } from './spec.js';

/** cosign's variable naming a PEM file with the Rekor public key. */
export const REKOR_PUBLIC_KEY_ENV = 'SIGSTORE_REKOR_PUBLIC_KEY';

function usage(message: string, hint: string): CaissonError {
  return new CaissonError({ code: 'ERR_USAGE', message, hint });
}

async function readText(options: { readonly path: string; readonly what: string }): Promise<string> {
  try {
    return await readFile(options.path, 'utf8');
  } catch (error) {
    throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `cannot read ${options.what} ${options.path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`, cause: error });
  }
}

async function publicKeyPem(path: string): Promise<string> {
  const pem = await readText({ path, what: 'the public key' });
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw usage(`--key ${path}: this is a private key`, 'Verify with the public key (cosign.pub).');
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) throw usage(`--key ${path}: not a PEM PUBLIC KEY`, 'Give cosign.pub (an SPKI PEM public key).');
  try {
    createPublicKey(pem);
  } catch (error) {
    throw new CaissonError({ code: 'ERR_USAGE', message: `--key ${path}: the public key does not parse`, hint: 'Give cosign.pub (an SPKI PEM public key).', cause: error });
  }
  return pem;
}

/** The trust for these flags; usage errors for missing or conflicting ones. */
export async function resolveVerificationTrust(options: { readonly args: ParsedArgs; readonly context: CommandContext }): Promise<VerificationTrust> {
  const { args, context } = options;
  const path = (value: string): string => resolve(context.cwd, value);
  const rootFile = args.string('trusted-root');
  const root: TrustedRoot | undefined = rootFile === undefined ? undefined : await readTrustedRoot(path(rootFile));
  const key = args.string('key');
  const identity = args.string('certificate-identity');
  const issuer = args.string('certificate-oidc-issuer');
  let signer: SignerTrust;
  if (key !== undefined) {
    signer = { kind: 'key', publicKeyPem: await publicKeyPem(path(key)) };
  } else if (identity !== undefined || issuer !== undefined) {
    if (identity === undefined || issuer === undefined) throw usage('keyless verification needs both --certificate-identity and --certificate-oidc-issuer', 'Give the signer\'s email or URI and its OIDC issuer URL, exactly as in the certificate.');
    if (root === undefined || root.certificateAuthorities.length === 0) throw usage('keyless verification needs --trusted-root with the Fulcio CA', 'Give a trusted_root.json listing the Fulcio certificate authorities (caisson has no TUF client).');
    signer = { kind: 'certificate', identity, issuer, roots: root.certificateAuthorities };
  } else {
    throw usage('verify needs --key, or --certificate-identity and --certificate-oidc-issuer', 'Give the public key (cosign.pub) for key-signed images, or the keyless identity.');
  }
  const rekorKeys: TransparencyLogKey[] = [...(root?.tlogs ?? [])];
  const rekorKeyFile = context.env[REKOR_PUBLIC_KEY_ENV];
  if (rekorKeyFile !== undefined && rekorKeyFile !== '') {
    const file = path(rekorKeyFile);
    rekorKeys.push(transparencyLogKeyFromPem({ pem: await readText({ path: file, what: `the Rekor public key ($${REKOR_PUBLIC_KEY_ENV})` }), what: file }));
  }
  const ignoreTlog = args.bool('insecure-ignore-tlog');
  if (!ignoreTlog && rekorKeys.length === 0) {
    throw usage('no Rekor public key to check transparency-log entries with', `Give --trusted-root (its tlogs) or $${REKOR_PUBLIC_KEY_ENV}, or --insecure-ignore-tlog for signatures made without Rekor.`);
  }
  return { signer, rekorKeys, ignoreTlog, timestampAuthorities: root?.timestampAuthorities ?? [] };
}

/** The image argument: a registry reference, with or without `docker://`. */
export function imageArgument(text: string | undefined): Reference {
  const value = text ?? '';
  return parseReference(value.startsWith('docker://') ? value.slice('docker://'.length) : value);
}

/** The image's repository, and its tag resolved to the digest that is verified. */
export async function resolveSignedImage(options: { readonly reference: Reference; readonly session: RegistrySession }): Promise<{ readonly repository: RegistryRepository; readonly image: SignedImage }> {
  const repository = options.session.repository(options.reference);
  const root = await repository.resolve(referenceIdentifier(options.reference));
  return { repository, image: { name: repositoryName(options.reference), digest: root.digest } };
}

/** What both commands print about one verified item. */
export interface VerifiedItem {
  readonly signer: VerifiedSigner;
  readonly tlogEntry?: TlogEntry;
}

/**
 * Both commands' course: trust from the flags, a registry session for the image's host (closed
 * afterwards), the tag resolved to its digest, `verify`, then per verified item its `stdout` line
 * and a "Verified OK: <what> signed by …; <Rekor entry>" line on stderr.
 */
export async function runVerification<T extends VerifiedItem>(options: {
  readonly args: ParsedArgs;
  readonly context: CommandContext;
  readonly reference: Reference;
  readonly verify: (options: { readonly repository: RegistryRepository; readonly image: SignedImage; readonly trust: VerificationTrust }) => Promise<readonly T[]>;
  readonly describe: (item: T, image: SignedImage) => string;
  readonly stdout: (item: T) => string;
}): Promise<void> {
  const { args, context } = options;
  const trust = await resolveVerificationTrust({ args, context });
  const session = new RegistrySession(resolveRegistryOptions({ args, context, roles: { pushHosts: [], pullHosts: [options.reference.registry] } }));
  try {
    const { repository, image } = await resolveSignedImage({ reference: options.reference, session });
    for (const item of await options.verify({ repository, image, trust })) {
      const entry = item.tlogEntry;
      const logged = entry === undefined ? 'no transparency-log entry (--insecure-ignore-tlog)' : `Rekor entry ${entry.logIndex} at ${new Date(entry.integratedTime * 1000).toISOString()}`;
      context.stderr(`Verified OK: ${options.describe(item, image)} signed by ${describeSigner(item.signer)}; ${logged}\n`);
      context.stdout(`${options.stdout(item)}\n`);
    }
  } finally {
    await session.close();
  }
}

/** "key" or "identity (issuer)", for the summary lines. */
export function describeSigner(signer: VerifiedSigner): string {
  switch (signer.kind) {
    case 'key':
      return 'the key';
    case 'certificate':
      return `${signer.identity} (issuer ${signer.issuer})`;
  }
}
