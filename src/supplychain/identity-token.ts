/**
 * The OIDC identity token keyless signing trades for a Fulcio certificate: read from
 * `--identity-token-file` (a projected ServiceAccount token, which the kubelet rotates, so the file
 * is re-read on every use), else from `SIGSTORE_ID_TOKEN` (the variable cosign and sigstore-js
 * read). The token is a bearer credential: it never reaches a message, a hint or a log line.
 */
import { readFile } from 'node:fs/promises';
import { CaissonError } from '../errors.js';

/** The environment variable cosign and sigstore-js take a token from. */
export const IDENTITY_TOKEN_ENV = 'SIGSTORE_ID_TOKEN';

/** Where a token comes from, for messages (`file /var/run/…`, `$SIGSTORE_ID_TOKEN`); never the token itself. */
export interface IdentityTokenSource {
  readonly description: string;
  /** The current token, trimmed; ERR_SIGNING when it is missing, empty or not a JWT. */
  getToken(): Promise<string>;
}

export interface IdentityTokenOptions {
  /** `--identity-token-file`: wins over the environment when set. */
  readonly tokenFile?: string;
  /** The process environment (the CLI passes `process.env`; nothing else reads it). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const HINT =
  'keyless signing needs an OIDC token with audience "sigstore": pass --identity-token-file (e.g. a projected ServiceAccount token) or set SIGSTORE_ID_TOKEN, or sign with --key';

/** The token source the options select; reading happens in `getToken`, on every call. */
export function identityTokenSource(options: IdentityTokenOptions): IdentityTokenSource {
  const file = options.tokenFile;
  if (file !== undefined && file !== '') {
    const description = `identity token file ${file}`;
    return {
      description,
      getToken: async () => {
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (error) {
          const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
          throw new CaissonError({ code: 'ERR_SIGNING', message: `cannot read the ${description} (${reason})`, hint: HINT });
        }
        return checkToken(text, description);
      },
    };
  }
  const description = `$${IDENTITY_TOKEN_ENV}`;
  const value = options.env?.[IDENTITY_TOKEN_ENV];
  return {
    description,
    getToken: async () => {
      if (value === undefined || value.trim() === '') {
        throw new CaissonError({ code: 'ERR_SIGNING', message: `no OIDC identity token for keyless signing: no --identity-token-file and ${description} is unset`, hint: HINT });
      }
      return checkToken(value, description);
    },
  };
}

/** The JWT claims keyless signing looks at (unverified: Fulcio verifies the token). */
export interface TokenClaims {
  readonly iss?: string;
  readonly sub?: string;
  readonly email?: string;
  readonly aud?: string | readonly string[];
}

/** The payload of a JWT, decoded without verifying it; ERR_SIGNING (naming only `description`) when malformed. */
export function decodeTokenClaims(token: string, description: string): TokenClaims {
  const payload = token.split('.')[1];
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
  } catch {
    claims = undefined;
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    throw new CaissonError({ code: 'ERR_SIGNING', message: `the ${description} is not a JWT (its payload is not a JSON object)`, hint: HINT });
  }
  return claims as TokenClaims;
}

/**
 * What Fulcio's proof of possession signs: the `email` claim when the token has one, else `sub`
 * (as cosign and sigstore-js choose).
 */
export function tokenSubject(token: string, description: string): string {
  const claims = decodeTokenClaims(token, description);
  const subject = typeof claims.email === 'string' && claims.email !== '' ? claims.email : claims.sub;
  if (typeof subject !== 'string' || subject === '') {
    throw new CaissonError({ code: 'ERR_SIGNING', message: `the ${description} has neither an email nor a sub claim`, hint: HINT });
  }
  return subject;
}

function checkToken(text: string, description: string): string {
  const token = text.trim();
  if (token === '') throw new CaissonError({ code: 'ERR_SIGNING', message: `the ${description} is empty`, hint: HINT });
  if (token.split('.').length !== 3) {
    throw new CaissonError({ code: 'ERR_SIGNING', message: `the ${description} is not a JWT (header.payload.signature)`, hint: HINT });
  }
  return token;
}
