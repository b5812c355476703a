/**
 * Where lint problems collect: warnings filtered by the check configuration (file-wide, or from
 * a `# check=` comment above the instruction), errors always kept.
 */
import { CaissonError, type SourceLocation } from '../../errors.js';
import { checkFromComments, DEFAULT_CHECK_CONFIG, isRuleEnabled, parseCheckConfig, type CheckConfig } from './config.js';
import { ERROR_RULE, type LintRule } from './rules.js';

export interface LintProblem {
  /** A rule name (`UndefinedVar`), or `InvalidDockerfile` for errors. */
  readonly rule: string;
  readonly level: 'warning' | 'error';
  readonly message: string;
  readonly location?: SourceLocation;
  readonly url?: string;
  readonly hint?: string;
  /** For errors: the stable error code. */
  readonly code?: string;
}

/** Collects problems, honouring the check configuration (file-wide and per instruction). */
export class ProblemSink {
  readonly problems: LintProblem[] = [];
  config: CheckConfig = DEFAULT_CHECK_CONFIG;

  warn(rule: LintRule, message: string, location: SourceLocation | undefined, options: { hint?: string; comments?: readonly string[] } = {}): void {
    let config = this.config;
    const local = options.comments === undefined ? undefined : checkFromComments(options.comments);
    if (local !== undefined) {
      try {
        config = parseCheckConfig(local, config);
      } catch {
        // an invalid comment-level check is ignored, as BuildKit does
      }
    }
    if (!isRuleEnabled(config, rule)) return;
    this.problems.push({
      rule: rule.name,
      level: 'warning',
      message,
      ...(location === undefined ? {} : { location }),
      ...(rule.url === undefined ? {} : { url: rule.url }),
      ...(options.hint === undefined ? {} : { hint: options.hint }),
    });
  }

  error(error: CaissonError): void {
    this.problems.push({
      rule: ERROR_RULE,
      level: 'error',
      message: error.message,
      code: error.code,
      ...(error.location === undefined ? {} : { location: error.location }),
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    });
  }
}

