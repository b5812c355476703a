/**
 * The signing flags (sign-flags.ts SIGNING_OPTIONS) resolved into a signer, a transparency log
 * and a storage format, once per command, for `caisson sign` and `caisson build --sign`.
 * The key sources: --key or --signing-secrets (argv refuses both), else keyless
 * (--identity-token-file or $SIGSTORE_ID_TOKEN). Keyless needs Rekor, so it refuses --tlog-upload=false.
 */
import { resolve } from 'node:path';
import { CaissonError } from '../errors.js';
import {
  IDENTITY_TOKEN_ENV, identityTokenSource, KeylessSigner, KeySigner, loadSigningSecrets, readSigningKey, RekorClient, resolveKeyPassword, TimestampClient,
  type PayloadSigner,
} from '../supplychain/index.js';
import type { CommandContext } from './context.js';
import type { ParsedArgs } from './spec.js';

/** What signs, where it is logged, and how signatures are stored. */
export interface SigningSetup {
  readonly signer: PayloadSigner;
  /** Absent with --tlog-upload=false. */
  readonly tlog?: RekorClient;
  /** The RFC 3161 timestamp authority of --tsa-url; absent without it. */
  readonly tsa?: TimestampClient;
  readonly format: 'legacy' | 'bundle';
  /** Which source was used, for logs: `key cosign.key`, `signing secrets DIR`, `keyless ($SIGSTORE_ID_TOKEN)`. */
  readonly description: string;
}

const SOURCES_HINT = `Sign with --key cosign.key (make one with "caisson generate-key-pair"), --signing-secrets DIR (Tekton Chains' signing-secrets), or keyless with --identity-token-file FILE or $${IDENTITY_TOKEN_ENV}.`;

async function signerFromArgs(args: ParsedArgs, context: CommandContext): Promise<{ readonly signer: PayloadSigner; readonly keyless: boolean; readonly description: string }> {
  const keyFile = args.string('key');
  if (keyFile !== undefined) {
    const password = await resolveKeyPassword({ passwordFile: args.string('key-password-file'), env: context.env, cwd: context.cwd });
    const key = await readSigningKey({ path: resolve(context.cwd, keyFile), shown: keyFile, password });
    return { signer: new KeySigner(key), keyless: false, description: `key ${keyFile}` };
  }
  const secrets = args.string('signing-secrets');
  if (secrets !== undefined) {
    return { signer: await loadSigningSecrets({ directory: resolve(context.cwd, secrets) }), keyless: false, description: `signing secrets ${secrets}` };
  }
  const tokenFile = args.string('identity-token-file');
  const envToken = context.env[IDENTITY_TOKEN_ENV];
  if (tokenFile !== undefined || (envToken !== undefined && envToken !== '')) {
    const tokenSource = identityTokenSource({ ...(tokenFile === undefined ? {} : { tokenFile: resolve(context.cwd, tokenFile) }), env: context.env });
    const fulcioURL = args.string('fulcio-url');
    return {
      signer: new KeylessSigner({ tokenSource, log: context.logger, ...(fulcioURL === undefined ? {} : { fulcioURL }) }),
      keyless: true,
      description: `keyless (${tokenSource.description})`,
    };
  }
  throw new CaissonError({ code: 'ERR_USAGE', message: 'nothing to sign with: no --key, no --signing-secrets, no --identity-token-file and no $SIGSTORE_ID_TOKEN', hint: SOURCES_HINT });
}

/**
 * The signer, Rekor client, timestamp authority and format the flags select. Keys are read (and decrypted) here, so a
 * missing file or a wrong password fails before anything is pushed; a keyless certificate is
 * requested on the first signature.
 */
export async function signingFromArgs(args: ParsedArgs, context: CommandContext): Promise<SigningSetup> {
  const tlogUpload = args.bool('tlog-upload');
  const { signer, keyless, description } = await signerFromArgs(args, context);
  if (keyless && !tlogUpload) {
    throw new CaissonError({
      code: 'ERR_USAGE',
      message: 'keyless signing needs the transparency log: --tlog-upload=false is only for signing with a key',
      hint: 'Drop --tlog-upload=false, or sign with --key / --signing-secrets for air-gapped signing.',
    });
  }
  const rekorURL = args.string('rekor-url');
  const format = args.string('signature-format') === 'bundle' ? 'bundle' : 'legacy';
  const tsaURL = args.string('tsa-url');
  if (tsaURL !== undefined && !URL.canParse(tsaURL)) throw new CaissonError({ code: 'ERR_USAGE', message: `--tsa-url ${tsaURL} is not a URL`, hint: 'e.g. --tsa-url https://timestamp.sigstore.dev' });
  return {
    signer,
    format,
    description,
    ...(tlogUpload ? { tlog: new RekorClient(rekorURL === undefined ? {} : { rekorURL }) } : {}),
    ...(tsaURL === undefined ? {} : { tsa: new TimestampClient({ url: tsaURL }) }),
  };
}
