/**
 * The lint rules: BuildKit's build checks (names, descriptions and links as in BuildKit's
 * linter, https://docs.docker.com/reference/build-checks/) plus caisson's own.
 */

export interface LintRule {
  readonly name: string;
  readonly description: string;
  readonly url?: string;
  /** Off unless enabled with `# check=experimental=<name>` or `experimental=all`. */
  readonly experimental?: boolean;
}

const DOCS = 'https://docs.docker.com/go/dockerfile/rule/';

function rule(name: string, slug: string, description: string): LintRule {
  return { name, description, url: `${DOCS}${slug}/` };
}

export const RULES = {
  StageNameCasing: rule('StageNameCasing', 'stage-name-casing', 'Stage names should be lowercase'),
  FromAsCasing: rule('FromAsCasing', 'from-as-casing', "The 'as' keyword should match the case of the 'from' keyword"),
  NoEmptyContinuation: rule('NoEmptyContinuation', 'no-empty-continuation', 'Empty continuation lines will become errors in a future release'),
  ConsistentInstructionCasing: rule(
    'ConsistentInstructionCasing',
    'consistent-instruction-casing',
    'All commands within the Dockerfile should use the same casing (either upper or lower)',
  ),
  DuplicateStageName: rule('DuplicateStageName', 'duplicate-stage-name', 'Stage names should be unique'),
  ReservedStageName: rule('ReservedStageName', 'reserved-stage-name', 'Reserved words should not be used as stage names'),
  JSONArgsRecommended: rule(
    'JSONArgsRecommended',
    'json-args-recommended',
    'JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals',
  ),
  MaintainerDeprecated: rule(
    'MaintainerDeprecated',
    'maintainer-deprecated',
    'The MAINTAINER instruction is deprecated, use a label instead to define an image author',
  ),
  UndefinedArgInFrom: rule('UndefinedArgInFrom', 'undefined-arg-in-from', 'FROM command must use declared ARGs'),
  WorkdirRelativePath: rule(
    'WorkdirRelativePath',
    'workdir-relative-path',
    'Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes',
  ),
  UndefinedVar: rule('UndefinedVar', 'undefined-var', 'Variables should be defined before their use'),
  MultipleInstructionsDisallowed: rule(
    'MultipleInstructionsDisallowed',
    'multiple-instructions-disallowed',
    'Multiple instructions of the same type should not be used in the same stage',
  ),
  LegacyKeyValueFormat: rule('LegacyKeyValueFormat', 'legacy-key-value-format', 'Legacy key/value format with whitespace separator should not be used'),
  RedundantTargetPlatform: rule(
    'RedundantTargetPlatform',
    'redundant-target-platform',
    'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior',
  ),
  SecretsUsedInArgOrEnv: rule('SecretsUsedInArgOrEnv', 'secrets-used-in-arg-or-env', 'Sensitive data should not be used in the ARG or ENV commands'),
  InvalidDefaultArgInFrom: rule(
    'InvalidDefaultArgInFrom',
    'invalid-default-arg-in-from',
    'Default value for global ARG results in an empty or invalid base image name',
  ),
  FromPlatformFlagConstDisallowed: rule(
    'FromPlatformFlagConstDisallowed',
    'from-platform-flag-const-disallowed',
    'FROM --platform flag should not use a constant value',
  ),
  ExposeProtoCasing: rule('ExposeProtoCasing', 'expose-proto-casing', 'Protocol in EXPOSE instruction should be lowercase'),
  ExposeInvalidFormat: rule(
    'ExposeInvalidFormat',
    'expose-invalid-format',
    'IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release',
  ),
  InvalidDefinitionDescription: {
    ...rule(
      'InvalidDefinitionDescription',
      'invalid-definition-description',
      'Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`.',
    ),
    experimental: true,
  },
  /** caisson: a `# syntax=` directive naming a frontend other than Docker's Dockerfile frontend. */
  SyntaxFrontendIgnored: {
    name: 'SyntaxFrontendIgnored',
    description: "caisson parses Dockerfiles with its built-in frontend; a custom '# syntax=' frontend image is not run",
  },
} as const satisfies Record<string, LintRule>;

export type RuleName = keyof typeof RULES;

/** A syntax or instruction error found while linting (not a rule: always an error). */
export const ERROR_RULE = 'InvalidDockerfile';
