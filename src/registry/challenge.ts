/**
 * WWW-Authenticate challenges (RFC 7235 §4.1, https://www.rfc-editor.org/rfc/rfc7235#section-4.1)
 * as registries send them: `Bearer realm="https://auth.docker.io/token",service="registry.docker.io"`,
 * `Basic realm="Registry Realm"`, several challenges in one header value. Pure; never throws: a
 * malformed value parses to `[]` and the caller raises an error that names the registry.
 */

/** One challenge: the scheme lowercased, parameter names lowercased, values unquoted. */
export interface Challenge {
  /** `bearer`, `basic`, or any other scheme, lowercased. */
  readonly scheme: string;
  readonly params: ReadonlyMap<string, string>;
  /** The token68 form (`Negotiate abc==`), which registries do not use; absent otherwise. */
  readonly token68?: string;
}

/** What a registry asks for in a Bearer challenge (distribution's token auth spec). */
export interface BearerChallenge {
  /** The token endpoint, an absolute http(s) URL. */
  readonly realm: string;
  readonly service?: string;
  readonly scope?: string;
}

// RFC 7230 §3.2.6 tchar.
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
// RFC 7235 §2.1 token68 (without its trailing "=" padding).
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

interface Cursor {
  readonly text: string;
  pos: number;
}

function isSpace(char: string | undefined): boolean {
  return char === ' ' || char === '\t';
}

function skipSpace(cursor: Cursor): void {
  while (isSpace(cursor.text[cursor.pos])) cursor.pos++;
}

function readWhile(cursor: Cursor, pattern: RegExp): string {
  const start = cursor.pos;
  while (cursor.pos < cursor.text.length && pattern.test(cursor.text[cursor.pos] ?? '')) cursor.pos++;
  return cursor.text.slice(start, cursor.pos);
}

/** A quoted-string (RFC 7230 §3.2.6) with backslash escapes; undefined when unterminated. */
function readQuoted(cursor: Cursor): string | undefined {
  let value = '';
  for (let pos = cursor.pos + 1; pos < cursor.text.length; pos++) {
    const char = cursor.text[pos];
    if (char === '"') {
      cursor.pos = pos + 1;
      return value;
    }
    if (char === '\\') {
      pos++;
      if (pos >= cursor.text.length) return undefined;
    }
    value += cursor.text[pos] ?? '';
  }
  return undefined;
}

/**
 * A parameter value: a quoted-string or, leniently, any run of characters up to a comma or
 * whitespace (some servers send `realm=https://host/token` unquoted).
 */
function readValue(cursor: Cursor): string | undefined {
  if (cursor.text[cursor.pos] === '"') return readQuoted(cursor);
  const value = readWhile(cursor, /[^,\s"]/);
  return value === '' ? undefined : value;
}

/** At `name BWS "=" BWS value` (not token68 padding like `abc=` or `abc==`): an auth-param. */
function atParam(cursor: Cursor): boolean {
  const probe: Cursor = { text: cursor.text, pos: cursor.pos };
  if (readWhile(probe, TOKEN_CHAR) === '') return false;
  skipSpace(probe);
  if (probe.text[probe.pos] !== '=' || probe.text[probe.pos + 1] === '=') return false;
  probe.pos++;
  return !atItemEnd(probe);
}

/** At the end of the value or at a comma (after optional whitespace); moves past neither. */
function atItemEnd(cursor: Cursor): boolean {
  const probe: Cursor = { text: cursor.text, pos: cursor.pos };
  skipSpace(probe);
  return probe.pos >= probe.text.length || probe.text[probe.pos] === ',';
}

/** A token68 followed by the end or a comma; the cursor moves only when it matches. */
function readToken68(cursor: Cursor): string | undefined {
  const probe: Cursor = { text: cursor.text, pos: cursor.pos };
  const body = readWhile(probe, TOKEN68_CHAR);
  if (body === '') return undefined;
  const padding = readWhile(probe, /=/);
  if (!atItemEnd(probe)) return undefined;
  cursor.pos = probe.pos;
  return body + padding;
}

/** Skips whitespace and empty list elements (RFC 7230 §7 allows `a, , b`). */
function skipSeparators(cursor: Cursor): void {
  while (isSpace(cursor.text[cursor.pos]) || cursor.text[cursor.pos] === ',') cursor.pos++;
}

/** Parses `auth-param *( OWS "," OWS auth-param )` into `params`; false when malformed. */
function readParams(cursor: Cursor, params: Map<string, string>): boolean {
  for (;;) {
    const name = readWhile(cursor, TOKEN_CHAR).toLowerCase();
    skipSpace(cursor);
    if (cursor.text[cursor.pos] !== '=') return false;
    cursor.pos++;
    skipSpace(cursor);
    const value = readValue(cursor);
    if (value === undefined) return false;
    // RFC 7235: each parameter name MUST only occur once; keep the first.
    if (!params.has(name)) params.set(name, value);
    if (!atItemEnd(cursor)) return false;
    skipSeparators(cursor);
    if (!atParam(cursor)) return true;
  }
}

function parseAll(header: string): Challenge[] | undefined {
  const cursor: Cursor = { text: header, pos: 0 };
  const challenges: Challenge[] = [];
  skipSeparators(cursor);
  while (cursor.pos < header.length) {
    const scheme = readWhile(cursor, TOKEN_CHAR).toLowerCase();
    if (scheme === '') return undefined;
    const params = new Map<string, string>();
    if (atItemEnd(cursor)) {
      challenges.push({ scheme, params });
      skipSeparators(cursor);
      continue;
    }
    // auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    if (!isSpace(header[cursor.pos])) return undefined;
    skipSpace(cursor);
    if (!atParam(cursor)) {
      const token68 = readToken68(cursor);
      if (token68 === undefined) return undefined;
      challenges.push({ scheme, params, token68 });
      skipSeparators(cursor);
      continue;
    }
    if (!readParams(cursor, params)) return undefined;
    challenges.push({ scheme, params });
  }
  return challenges;
}

/** Every challenge in one `WWW-Authenticate` header value, in order; `[]` when malformed. */
export function parseChallenges(header: string): Challenge[] {
  try {
    return parseAll(header) ?? [];
  } catch {
    return [];
  }
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol, hostname } = new URL(value);
  return (protocol === 'https:' || protocol === 'http:') && hostname !== '';
}

/**
 * The first Bearer challenge with a usable realm (an absolute http(s) URL) among all
 * `WWW-Authenticate` header values of a response; undefined when there is none.
 */
export function bearerChallenge(headers: readonly string[]): BearerChallenge | undefined {
  for (const header of headers) {
    for (const challenge of parseChallenges(header)) {
      if (challenge.scheme !== 'bearer') continue;
      const realm = challenge.params.get('realm');
      if (realm === undefined || !isHttpUrl(realm)) continue;
      const service = challenge.params.get('service');
      const scope = challenge.params.get('scope');
      return {
        realm,
        ...(service === undefined ? {} : { service }),
        ...(scope === undefined ? {} : { scope }),
      };
    }
  }
  return undefined;
}
