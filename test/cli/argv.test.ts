// The command line parts a Tekton step relies on: an empty flag value (an optional param left
// empty, `--target=`) counts as not given, defaults included; arguments after `--` are build args
// for `caisson build` (a Tekton array param spread into args) and stay positionals elsewhere.
// Flag syntax as kaniko's pflag takes it: booleans in strconv.ParseBool's spellings, the last
// value of a repeated single-value option; a context given both as the argument and as -c is
// refused rather than one of them dropped (`-c DIR --cache true` left "true" unused).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCommandLine } from '../../src/cli/argv.js';
import { CaissonError } from '../../src/errors.js';
import { COMMANDS } from '../../src/cli/command-specs.js';
import { GLOBAL_OPTIONS } from '../../src/cli/global-options.js';

function parse(argv: readonly string[]) {
  const invocation = parseCommandLine({ argv, commands: COMMANDS, global: GLOBAL_OPTIONS });
  assert.equal(invocation.kind, 'run');
  return invocation.args;
}

/** The usage error `argv` gets; its message and hint must match. */
function refused(argv: readonly string[], expected: { readonly message: RegExp; readonly hint?: RegExp }): void {
  assert.throws(
    () => parseCommandLine({ argv, commands: COMMANDS, global: GLOBAL_OPTIONS }),
    (error: unknown) => {
      assert.ok(error instanceof CaissonError);
      assert.equal(error.code, 'ERR_USAGE');
      assert.match(error.message, expected.message);
      if (expected.hint !== undefined) assert.match(error.hint ?? '', expected.hint);
      return true;
    },
  );
}

describe('argv for Tekton steps', () => {
  test('empty values count as not given', () => {
    const args = parse(['build', '--target=', '--cache-repo=', '--sign=', '--compression=', '--build-arg=', '--cache-dir', '', '-d', 'r.example/a:1']);
    assert.equal(args.string('cache-repo'), undefined);
    assert.deepEqual(args.strings('target'), []);
    assert.deepEqual(args.strings('build-arg'), []);
    assert.equal(args.bool('sign'), false);
    assert.equal(args.string('compression'), 'gzip', 'the default applies');
    assert.equal(args.string('cache-dir'), undefined);
    assert.equal(parse(['build', '--sign=true', '--sign=', '-d', 'r.example/a:1']).bool('sign'), true, 'an empty repeat is no conflict');
  });

  test('build: the arguments after -- are build args; the context stays a positional', () => {
    const args = parse(['build', 'ctx', '--no-push', '--', 'A=1', 'B=two words', '--not-a-flag=x']);
    assert.deepEqual(args.positionals, ['ctx']);
    assert.deepEqual(args.rest, ['A=1', 'B=two words', '--not-a-flag=x']);
    assert.deepEqual(parse(['build', '--no-push', '--']).rest, []);
  });

  test('commands without rest keep -- as the end of options', () => {
    const args = parse(['inspect', '--', '-odd-name']);
    assert.deepEqual(args.positionals, ['-odd-name']);
    assert.deepEqual(args.rest, []);
  });
});

describe('argv as pflag takes it', () => {
  test("booleans take strconv.ParseBool's spellings, true and false in any case", () => {
    for (const text of ['1', 't', 'T', 'TRUE', 'true', 'True', 'tRuE']) assert.equal(parse(['build', '--no-push', `--cache=${text}`]).bool('cache'), true, text);
    for (const text of ['0', 'f', 'F', 'FALSE', 'false', 'False', 'fAlSe']) assert.equal(parse(['build', '--no-push', `--cache=${text}`]).bool('cache'), false, text);
    assert.equal(parse(['build', '--no-push', '--cache']).bool('cache'), true);
    for (const text of ['yes', 'no', 'on', '2', 'tr']) {
      refused(['build', '--no-push', `--cache=${text}`], { message: new RegExp(`^--cache takes true or false \\(also 1, t, 0, f; any case\\), not "${text}"$`) });
    }
  });

  test('a repeated single-value option takes its last value; multiple ones collect every value', () => {
    const args = parse(['build', '--no-push', '--cache-repo', 'r.example/a', '--cache-repo=r.example/b', '-f', 'A.Dockerfile', '--file', 'B.Dockerfile']);
    assert.equal(args.string('cache-repo'), 'r.example/b');
    assert.equal(args.string('dockerfile'), 'B.Dockerfile', 'through an alias too');
    assert.equal(parse(['build', '--no-push', '--cache', '--cache=false']).bool('cache'), false);
    assert.equal(parse(['build', '--no-push', '--cache=0', '--cache']).bool('cache'), true);
    assert.equal(parse(['build', '--no-push', '--cache', '--cache=']).bool('cache'), true, 'an empty value leaves the last one');
    assert.deepEqual(parse(['build', '--no-push', '--build-arg', 'A=1', '--build-arg=B=2', '--build-arg', 'A=3']).strings('build-arg'), ['A=1', 'B=2', 'A=3']);
    assert.deepEqual(parse(['build', '-d', 'r.example/a:1', '--tag', 'r.example/a:2']).strings('destination'), ['r.example/a:1', 'r.example/a:2']);
  });

  test('conflicts are between the final values', () => {
    const args = parse(['parse', '--dump', '--json', '--dump=false']);
    assert.equal(args.bool('dump'), false);
    assert.equal(args.bool('json'), true);
    refused(['parse', '--dump=false', '--json', '--dump'], { message: /^--dump and --json cannot be used together$/, hint: /^drop one of them$/ });
  });

  test('conflicting string options are refused when both are given, as boolean ones are', () => {
    refused(['sign', 'r.example/a:1', '--key', 'cosign.key', '--signing-secrets', 'secrets/'], { message: /^--key and --signing-secrets cannot be used together$/ });
    refused(['verify', 'r.example/a:1', '--certificate-identity=me@example.com', '--key=cosign.pub'], { message: /^--key and --certificate-identity cannot be used together$/ });
    assert.equal(parse(['sign', 'r.example/a:1', '--key', 'cosign.key', '--signing-secrets=']).string('key'), 'cosign.key', 'an empty value is not given');
  });

  test('the context as the argument and as -c/--context is refused, naming both', () => {
    refused(['build', '-c', 'ctxdir', '--no-push', '--cache', 'true'], {
      message: /^caisson build: the context is given twice, as the argument "true" and as --context "ctxdir"$/,
      hint: /^write --cache \(or --cache=true\): a boolean flag does not take the next word as its value$/,
    });
    refused(['build', '--context=ctxdir', '--no-push', '--reproducible', 'F'], { message: /argument "F" and as --context "ctxdir"/, hint: /^write --reproducible=F: / });
    refused(['build', 'false', '--context', 'ctxdir'], { message: /argument "false" and as --context "ctxdir"/, hint: /^booleans are written --flag or --flag=false: / });
    refused(['build', 'other', '-c', 'ctxdir'], { message: /argument "other" and as --context "ctxdir"/, hint: /^give the context once: as the argument or with -c\/--context$/ });
    refused(['submit', 'other', '-c', 'ctxdir', '-d', 'r.example/a:1'], { message: /^caisson submit: the context is given twice, as the argument "other" and as --context "ctxdir"$/ });
    assert.deepEqual(parse(['build', 'ctxdir', '--context=', '--no-push']).positionals, ['ctxdir'], 'an empty --context is not given');
    assert.equal(parse(['build', '-c', 'ctxdir', '--no-push']).string('context'), 'ctxdir');
  });

  test('a boolean value written as a separate word after the context gets the same hint', () => {
    refused(['build', 'ctxdir', '--cache', 'true'], { message: /^unexpected argument "true" for caisson build$/, hint: /^write --cache \(or --cache=true\): / });
    refused(['lint', 'Dockerfile', '--strict', '0'], { message: /^unexpected argument "0" for caisson lint$/, hint: /^write --strict=0: / });
  });

  test('true or false right after a boolean flag, where the context would go, is refused rather than taken as the context', () => {
    refused(['build', '--no-push', '--cache', 'true'], { message: /^caisson build: "true" after --cache would be the context, not the flag's value$/, hint: /^write --cache \(or --cache=true\): / });
    refused(['build', '--cache', 'FALSE', '--no-push'], { message: /"FALSE" after --cache would be the context/, hint: /^write --cache=FALSE: / });
    assert.deepEqual(parse(['build', '-f', 'Dockerfile', 'true']).positionals, ['true'], 'a context named true, after a flag with a value, is still one');
  });
});
