// Lint: every build check we implement fires on its trigger, stays quiet otherwise, honours
// `# check=` directives, and errors are reported all at once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lintDockerfile, type LintProblem } from '../../src/dockerfile/index.js';

function lint(text: string, buildArgs?: Map<string, string>): readonly LintProblem[] {
  return lintDockerfile({ text, file: 'Dockerfile', targetPlatform: { os: 'linux', architecture: 'amd64' }, ...(buildArgs === undefined ? {} : { buildArgs }) }).problems;
}

/** `rule@line message` for each problem, for compact comparisons. */
function summary(text: string): string[] {
  return lint(text).map((p) => `${p.rule}@${p.location?.line ?? '-'} ${p.message}`);
}

describe('a clean Dockerfile has no problems', () => {
  test('the example style', () => {
    assert.deepEqual(
      summary('# syntax=docker/dockerfile:1\nARG BASE=alpine:3.20\nFROM ${BASE} AS build\nWORKDIR /src\nCOPY . .\nRUN make\nFROM scratch\nCOPY --from=build /src/out /app\nENTRYPOINT ["/app"]\n'),
      [],
    );
  });
});

describe('build checks', () => {
  const cases: [string, string, string[]][] = [
    ['MaintainerDeprecated', 'FROM a\nMAINTAINER me\n', ['MaintainerDeprecated@2 Maintainer instruction is deprecated in favor of using label']],
    ['LegacyKeyValueFormat', 'FROM a\nENV A b\nLABEL x y\n', [
      'LegacyKeyValueFormat@2 "ENV key=value" should be used instead of legacy "ENV key value" format',
      'LegacyKeyValueFormat@3 "LABEL key=value" should be used instead of legacy "LABEL key value" format',
    ]],
    ['JSONArgsRecommended', 'FROM a\nCMD run it\nENTRYPOINT go\n', [
      'JSONArgsRecommended@2 JSON arguments recommended for CMD to prevent unintended behavior related to OS signals',
      'JSONArgsRecommended@3 JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals',
    ]],
    ['JSONArgsRecommended is quiet after SHELL', 'FROM a\nSHELL ["/bin/bash", "-c"]\nCMD run it\n', []],
    ['StageNameCasing and FromAsCasing', 'FROM a as Build\n', [
      "StageNameCasing@1 Stage name 'Build' should be lowercase",
      "FromAsCasing@1 'as' and 'FROM' keywords' casing do not match",
    ]],
    ['ConsistentInstructionCasing', 'FROM a\nRUN x\nrun y\nCopy a b\n', [
      "ConsistentInstructionCasing@3 Command 'run' should match the case of the command majority (uppercase)",
      "ConsistentInstructionCasing@4 Command 'Copy' should match the case of the command majority (uppercase)",
    ]],
    ['DuplicateStageName and ReservedStageName', 'FROM a AS one\nFROM b AS one\nFROM c AS scratch\n', [
      'DuplicateStageName@2 Duplicate stage name "one", stage names should be unique',
      'ReservedStageName@3 Stage name should not use the same name as reserved stage "scratch"',
    ]],
    ['UndefinedArgInFrom', 'ARG VERSION=1\nFROM alpine:$VERSON\n', [
      "UndefinedArgInFrom@2 FROM argument 'VERSON' is not declared (did you mean VERSION?)",
      'InvalidDefaultArgInFrom@2 Default value for ARG alpine:$VERSON results in empty or invalid base image name',
    ]],
    ['InvalidDefaultArgInFrom', 'ARG IMG=Not/Valid\nFROM $IMG\n', ['InvalidDefaultArgInFrom@2 Default value for ARG $IMG results in empty or invalid base image name']],
    ['WorkdirRelativePath', 'FROM a\nWORKDIR app\nWORKDIR more\n', ['WorkdirRelativePath@2 Relative workdir "app" can have unexpected results if the base image changes']],
    ['UndefinedVar', 'FROM a\nENV APP_HOME=/app\nCOPY x $APP_HOM/\n', ["UndefinedVar@3 Usage of undefined variable '$APP_HOM' (did you mean $APP_HOME?)"]],
    ['MultipleInstructionsDisallowed', 'FROM a\nCMD ["a"]\nCMD ["b"]\nHEALTHCHECK NONE\nHEALTHCHECK NONE\n', [
      'MultipleInstructionsDisallowed@2 Multiple CMD instructions should not be used in the same stage because only the last one will be used',
      'MultipleInstructionsDisallowed@4 Multiple HEALTHCHECK instructions should not be used in the same stage because only the last one will be used',
    ]],
    ['RedundantTargetPlatform', 'FROM --platform=$TARGETPLATFORM a\n', ['RedundantTargetPlatform@1 Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior']],
    ['FromPlatformFlagConstDisallowed', 'FROM --platform=linux/arm64 a AS build\nFROM --platform=linux/arm64 a AS arm64-build\n', [
      'FromPlatformFlagConstDisallowed@1 FROM --platform flag should not use constant value "linux/arm64"',
    ]],
    ['SecretsUsedInArgOrEnv', 'FROM a\nARG GITHUB_TOKEN\nENV DB_PASSWORD=x PUBLIC_KEY=y\n', [
      'SecretsUsedInArgOrEnv@2 Do not use ARG or ENV instructions for sensitive data (ARG "GITHUB_TOKEN")',
      'SecretsUsedInArgOrEnv@3 Do not use ARG or ENV instructions for sensitive data (ENV "DB_PASSWORD")',
    ]],
    ['ExposeProtoCasing and ExposeInvalidFormat (ports sorted as BuildKit sorts them)', 'FROM a\nEXPOSE 80/TCP 127.0.0.1:8080:80\n', [
      "ExposeInvalidFormat@2 EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:8080:80'",
      "ExposeProtoCasing@2 Defined protocol '80/TCP' in EXPOSE instruction should be lowercase",
    ]],
    ['NoEmptyContinuation', 'FROM a\nRUN a \\\n\n  b\n', ['NoEmptyContinuation@4 Empty continuation line']],
    ['SyntaxFrontendIgnored', '# syntax=example.com/my/frontend:1\nFROM a\n', [
      'SyntaxFrontendIgnored@1 the syntax directive names the frontend "example.com/my/frontend:1"; caisson parses the file with its built-in Dockerfile frontend instead',
    ]],
    ['docker/dockerfile frontends are fine', '# syntax=docker.io/docker/dockerfile:1.7-labs@sha256:abc\nFROM a\n', []],
  ];
  for (const [name, text, expected] of cases) {
    test(name, () => assert.deepEqual(summary(text), expected));
  }

  test('every problem carries a documentation link and a location', () => {
    for (const problem of lint('FROM a\nMAINTAINER me\nENV A b\n')) {
      assert.match(problem.url ?? '', /^https:\/\/docs\.docker\.com\/go\/dockerfile\/rule\//);
      assert.equal(problem.level, 'warning');
      assert.equal(problem.location?.file, 'Dockerfile');
    }
  });

  test('UndefinedVar hints that an image base may define the variable', () => {
    const [problem] = lint('FROM golang\nWORKDIR $GOPATH/src\n');
    assert.equal(problem?.hint, 'unless the base image golang sets it');
    const [fromScratch] = lint('FROM scratch\nWORKDIR /$X\n');
    assert.equal(fromScratch?.rule, 'UndefinedVar');
    assert.equal(fromScratch?.hint, undefined);
  });

  test('build args define FROM variables; InvalidDefaultArgInFrom still checks the defaults', () => {
    assert.deepEqual(
      lint('ARG V\nFROM a:$V\n', new Map([['V', '1']])).map((p) => p.rule),
      ['InvalidDefaultArgInFrom'],
    );
    assert.deepEqual(lint('ARG V=1\nFROM a:$V\n'), []);
  });
});

describe('check directives', () => {
  test('skip rules for the file or one instruction; skip=all', () => {
    assert.deepEqual(summary('# check=skip=MaintainerDeprecated,JSONArgsRecommended\nFROM a\nMAINTAINER me\nCMD x\n'), []);
    assert.deepEqual(summary('# check=skip=all\nFROM a\nMAINTAINER me\n'), []);
    assert.deepEqual(summary('FROM a\n# check=skip=MaintainerDeprecated\nMAINTAINER me\nMAINTAINER you\n'), ['MaintainerDeprecated@4 Maintainer instruction is deprecated in favor of using label']);
  });

  test('experimental rules need enabling', () => {
    const text = '# check=experimental=InvalidDefinitionDescription\n# the base image\nFROM a AS base\n# VERSION of the tool\nARG VERSION\n';
    assert.deepEqual(summary(text), ['InvalidDefinitionDescription@3 Comment for FROM should follow the format: `# base <description>`']);
    assert.deepEqual(summary(text.replace('# check=experimental=InvalidDefinitionDescription\n', '')), []);
  });

  test('error=true makes warnings failures', () => {
    assert.equal(lintDockerfile({ text: '# check=error=true\nFROM a\nMAINTAINER me\n' }).warningsAreErrors, true);
    assert.equal(lintDockerfile({ text: 'FROM a\n' }).warningsAreErrors, false);
  });

  test('an invalid check directive is an error', () => {
    const [problem] = lint('# check=skip=A;bogus=1\nFROM a\n');
    assert.equal(problem?.level, 'error');
    assert.equal(problem?.message, 'failed to parse check options: invalid check option "bogus"');
    assert.equal(problem?.location?.line, 1);
  });
});

describe('errors', () => {
  test('every malformed instruction is reported, not just the first', () => {
    const problems = lint('FROM a\nRUNN x\nCOPY onlyone\nADD --from=b c d\n');
    assert.deepEqual(problems.map((p) => [p.level, p.code, p.location?.line]), [
      ['error', 'ERR_DOCKERFILE_SYNTAX', 2],
      ['error', 'ERR_DOCKERFILE_INSTRUCTION', 3],
      ['error', 'ERR_DOCKERFILE_INSTRUCTION', 4],
    ]);
    assert.equal(problems[0]?.hint, 'did you mean RUN?');
  });

  test('an unterminated quote in a value is an expansion error on its line', () => {
    const problems = lint('FROM a\nENV A="unterminated\nLABEL b=\'x\n');
    assert.deepEqual(problems.map((p) => [p.code, p.location?.line, p.message]), [
      ['ERR_DOCKERFILE_EXPANSION', 2, 'failed to process "\\"unterminated": unexpected end of statement while looking for matching double-quote'],
      ['ERR_DOCKERFILE_EXPANSION', 3, 'failed to process "\'x": unexpected end of statement while looking for matching single-quote'],
    ]);
  });

  test('a syntax error stops at the parser; a broken stage graph stops the per-stage checks', () => {
    assert.deepEqual(summary('FROM a\nRUN <<EOF\nx\n'), ['InvalidDockerfile@2 unterminated heredoc']);
    assert.deepEqual(summary('FROM a AS x\nMAINTAINER me\nCOPY --from=x a b\n'), ['InvalidDockerfile@3 circular dependency detected on stage: x']);
  });
});
