/**
 * Which checks run: the `# check=` directive (`skip=<rules>|all`, `error=true`,
 * `experimental=<rules>|all`) at the top of the file, or in a comment directly above an
 * instruction for that instruction only.
 */

export interface CheckConfig {
  readonly skip: ReadonlySet<string> | 'all';
  readonly experimental: ReadonlySet<string> | 'all';
  /** Warnings fail the build (and make `caisson lint` exit 1). */
  readonly error: boolean;
}

export const DEFAULT_CHECK_CONFIG: CheckConfig = { skip: new Set(), experimental: new Set(), error: false };

function ruleList(value: string): ReadonlySet<string> | 'all' {
  const trimmed = value.trim();
  return trimmed === 'all' ? 'all' : new Set(trimmed.split(',').map((rule) => rule.trim()));
}

/** Parses a check directive value; throws an Error naming the bad option. */
export function parseCheckConfig(value: string, base: CheckConfig = DEFAULT_CHECK_CONFIG): CheckConfig {
  const text = value.trim();
  if (text === '') return base;
  let config = { ...base };
  for (const part of text.split(';')) {
    const equals = part.indexOf('=');
    if (equals < 0) throw new Error(`invalid check option "${part}"`);
    const key = part.slice(0, equals).trim();
    const optionValue = part.slice(equals + 1);
    if (key === 'skip') config = { ...config, skip: ruleList(optionValue) };
    else if (key === 'experimental') config = { ...config, experimental: ruleList(optionValue) };
    else if (key === 'error') {
      const flag = optionValue.trim().toLowerCase();
      if (!['1', 't', 'true', '0', 'f', 'false'].includes(flag)) throw new Error(`failed to parse check option "${part}"`);
      config = { ...config, error: ['1', 't', 'true'].includes(flag) };
    } else throw new Error(`invalid check option "${key}"`);
  }
  return config;
}

/** The `# check=` directive in an instruction's comments, if any. */
export function checkFromComments(comments: readonly string[]): string | undefined {
  for (const comment of comments) {
    const match = /^check[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/i.exec(comment);
    if (match?.[1] !== undefined) return match[1].split(' ')[0];
  }
  return undefined;
}

export function isRuleEnabled(config: CheckConfig, rule: { readonly name: string; readonly experimental?: boolean }): boolean {
  if (rule.experimental === true && config.experimental !== 'all' && !config.experimental.has(rule.name)) return false;
  return config.skip !== 'all' && !config.skip.has(rule.name);
}
