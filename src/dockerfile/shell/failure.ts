/** The errors of one expansion: BuildKit's inner message text plus a caisson hint. */

const DOCS = 'see https://docs.docker.com/reference/dockerfile/#environment-replacement';

/** An expansion failure before it is wrapped as `failed to process "<word>": <message>`. */
export class LexFailure extends Error {
  override readonly name = 'LexFailure';
  readonly hint: string | undefined;

  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

export function missingBrace(): LexFailure {
  return new LexFailure("syntax error: missing '}'", `close the \${…} reference; ${DOCS}`);
}

export function missingSlash(): LexFailure {
  return new LexFailure("syntax error: missing '/' in ${}", `write \${var/pattern/replacement}; ${DOCS}`);
}

export function badSubstitution(): LexFailure {
  return new LexFailure('syntax error: bad substitution', DOCS);
}

export function unsupportedModifier(modifier: string): LexFailure {
  return new LexFailure(`unsupported modifier (${modifier}) in substitution`, DOCS);
}

export function unterminated(what: string, escapeToken: string): LexFailure {
  return new LexFailure(
    `unexpected end of statement while looking for matching ${what}`,
    `close the quote, or escape the quote character with ${escapeToken}`,
  );
}

export function requiredVariable(name: string, message: string): LexFailure {
  return new LexFailure(
    `${name}: ${message}`,
    `pass it with --build-arg ${name}=… or give the ARG a default`,
  );
}

export function invalidPattern(message: string): LexFailure {
  return new LexFailure(message, `patterns support *, ? and the escapes \\*, \\? and \\\\; ${DOCS}`);
}
