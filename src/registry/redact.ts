/**
 * Secret redaction for text that may carry credentials: server response bodies, URLs, header
 * dumps. Every error message built from text caisson did not write passes through here. Pure.
 * Over-redacting is preferred to leaking; each secret is replaced by `[REDACTED]`.
 */

const MARK = '[REDACTED]';

// JSON string members whose value is a secret: `"password": "…"` (any case, escapes allowed).
const JSON_SECRET =
  /("(?:password|passwd|secret|token|access_token|refresh_token|id_token|identitytoken|registrytoken|auth|authorization|client_secret)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;

// A header line `Authorization: <anything up to the end of the line>` (and Proxy-Authorization).
const AUTHORIZATION_HEADER = /\b((?:proxy-)?authorization\s*:[ \t]*)[^\r\n]+/gi;

// `Bearer <token68>` / `Basic <base64>`, but not a challenge parameter such as `Bearer realm="…"`.
const SCHEME_CREDENTIAL = /\b(bearer|basic)(\s+)([A-Za-z0-9\-._~+/]+=*)(?![A-Za-z0-9\-._~+/="])/gi;

// Words that follow "bearer"/"basic" in prose ("a bearer token", "basic auth required").
const PROSE_WORDS: ReadonlySet<string> = new Set([
  'auth',
  'authentication',
  'authorization',
  'challenge',
  'credentials',
  'realm',
  'scheme',
  'token',
  'tokens',
]);

// The userinfo of a URL: `https://user:pass@host`, `https://token@host`.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]{0,31}:\/\/)[^\s/?#@"'<>]+@/gi;

// Query or form values: `password=…`, `token=…`, `access_token=…`, `refresh_token=…`, `--password=…`.
const FORM_SECRET = /(?<![\w.])(password|passwd|token|access_token|refresh_token|id_token|client_secret|secret)=[^&\s"'<>,;]*/gi;

/** `text` with passwords, tokens, Authorization values and URL userinfo replaced by `[REDACTED]`. */
export function redactSecrets(text: string): string {
  return text
    .replace(JSON_SECRET, `$1"${MARK}"`)
    .replace(AUTHORIZATION_HEADER, `$1${MARK}`)
    .replace(SCHEME_CREDENTIAL, (match: string, scheme: string, space: string, credential: string) =>
      PROSE_WORDS.has(credential.toLowerCase()) ? match : `${scheme}${space}${MARK}`,
    )
    .replace(URL_USERINFO, `$1${MARK}@`)
    .replace(FORM_SECRET, `$1=${MARK}`);
}
