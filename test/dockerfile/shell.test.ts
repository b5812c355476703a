// Unit tests for src/dockerfile/shell: every operator, quotes and escapes, the escape tokens,
// the lexer modes, the matched/unmatched sets and the errors, ported from BuildKit's
// frontend/dockerfile/shell/lex_test.go and extended with cases whose expected values were
// produced by running BuildKit's lexer itself.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CaissonError } from '../../src/errors.js';
import { goQuote } from '../../src/dockerfile/shell/go-quote.js';
import { PatternError, PatternMatcher, compileShellPattern } from '../../src/dockerfile/shell/glob.js';
import { reversePattern, reverseString } from '../../src/dockerfile/shell/pattern.js';
import { emptyEnv, envFromList, envFromMap, expandWord, expandWords } from '../../src/dockerfile/shell/index.js';
import type { EnvLookup, EscapeToken, ShellLexOptions } from '../../src/dockerfile/shell/index.js';

const BACKSLASH: ShellLexOptions = { escapeToken: '\\' };

function env(values: Record<string, string>): EnvLookup {
  return envFromMap(new Map(Object.entries(values)));
}

function expand(word: string, values: Record<string, string> = {}, options: ShellLexOptions = BACKSLASH): string {
  return expandWord(word, env(values), options).result;
}

/** Asserts that expanding fails with BuildKit's message for `word` and, when given, a hint. */
function assertFails(
  word: string,
  reason: string,
  values: Record<string, string> = {},
  options: ShellLexOptions = BACKSLASH,
  hint?: RegExp,
): void {
  assert.throws(
    () => expandWord(word, env(values), options),
    (error: unknown) => {
      assert.ok(error instanceof CaissonError, 'a CaissonError');
      assert.equal(error.code, 'ERR_DOCKERFILE_EXPANSION');
      assert.equal(error.message, `failed to process ${goQuote(word)}: ${reason}`);
      if (hint !== undefined) assert.match(error.hint ?? '', hint);
      return true;
    },
  );
}

describe('operators with matched and unmatched names (TestProcessWithMatches)', () => {
  // [input, env, expected result or null for an error, matched, unmatched]
  const cases: readonly (readonly [string, Record<string, string>, string | null, string[], string[]])[] = [
    ['x', { DUMMY: 'dummy' }, 'x', [], []],
    ['x ${UNUSED}', { DUMMY: 'dummy' }, 'x ', [], ['UNUSED']],
    ['x ${FOO}', { FOO: 'y' }, 'x y', ['FOO'], []],
    ['${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx  ccc', ['FOO', 'BAR'], ['BAZ']],
    ['${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx bbb ccc', ['FOO', 'BAR'], ['BAZ']],
    ['${FOO:-}', { FOO: 'xxx', BAR: '' }, 'xxx', ['FOO'], []],
    ['${FOO:-}', {}, '', [], ['FOO']],
    ['${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa bbb ', ['FOO', 'BAR'], ['BAZ']],
    ['${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa  ', ['FOO', 'BAR'], ['BAZ']],
    ['${FOO?aaa}', { FOO: 'xxx', BAR: '' }, 'xxx', ['FOO'], []],
    ['${BAR?bbb}', { FOO: 'xxx', BAR: '' }, '', ['BAR'], []],
    ['${BAZ?ccc}', { FOO: 'xxx', BAR: '' }, null, [], []],
    ['${FOO:?aaa}', { FOO: 'xxx', BAR: '' }, 'xxx', ['FOO'], []],
    ['${BAR:?bbb}', { FOO: 'xxx', BAR: '' }, null, [], []],
    ['${BAZ:?ccc}', { FOO: 'xxx', BAR: '' }, null, [], []],
    ['${BAZ:?}', { FOO: 'xxx', BAR: '' }, null, [], []],
    ['${FOO=aaa}', { FOO: 'xxx', BAR: '' }, null, [], []],
    ['${FOO=:aaa}', { FOO: 'xxx', BAR: '' }, null, [], []],
    ['${FOO=}', {}, null, [], []],
    ['${FOO#()[]{\\}^$.\\*\\?|\\\\}', { FOO: '()[]{}^$.*?|\\x' }, 'x', ['FOO'], []],
    ['${FOO%%\\**}', { FOO: 'xx**' }, 'xx', ['FOO'], []],
    ['${FOO#*x*y}', { FOO: 'xxyy' }, 'y', ['FOO'], []],
    ['${FOO#*}', { FOO: 'xxyy' }, 'xxyy', ['FOO'], []],
    ['${FOO#$BAR}', { FOO: 'xxyy', BAR: 'x' }, 'xyy', ['FOO', 'BAR'], []],
    ['${FOO#$BAR}', { FOO: 'xxyy', BAR: '' }, 'xxyy', ['FOO', 'BAR'], []],
    ['${FOO#}', { FOO: 'xxyy' }, 'xxyy', ['FOO'], []],
    ['${FOO##*x}', { FOO: 'xxyy' }, 'yy', ['FOO'], []],
    ['${FOO##}', { FOO: 'xxyy' }, 'xxyy', ['FOO'], []],
    ['${FOO#?\\?}', { FOO: '???y' }, '?y', ['FOO'], []],
    ['${ABC:-.}${FOO%x}${ABC:-.}', { FOO: 'xxyy' }, '.xxyy.', ['FOO'], ['ABC']],
    ['${FOO%%\\**\\*}', { FOO: 'a***yy*' }, 'a', ['FOO'], []],
    ['${FOO%}', { FOO: 'xxyy' }, 'xxyy', ['FOO'], []],
    ['${FOO%%$BAR}', { FOO: 'xxyy', BAR: '' }, 'xxyy', ['FOO', 'BAR'], []],
    ['${FOO:#}', {}, null, [], []],
    ['${FOO:##}', {}, null, [], []],
    ['${FOO:%}', {}, null, [], []],
    ['${FOO:%%}', {}, null, [], []],
    ['${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}', { FOO: '/foo*/*/*.txt', NEEDLE: '\\*/' }, '/foo.*/*.txt - /foo..*.txt', ['FOO', 'NEEDLE'], []],
    ['${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}', { FOO: '/tmp/tmp/bar.txt', NEEDLE: '/tmp' }, '/tmp/bar.txt - /bar.txt', ['FOO', 'NEEDLE'], []],
    [
      '${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}',
      { FOO: '/a/foo/b/c.txt', NEEDLE: '/?/', REPLACEMENT: '/' },
      '/foo/b/c.txt - /foo/c.txt',
      ['FOO', 'NEEDLE', 'REPLACEMENT'],
      [],
    ],
    [
      '${FOO/$NEEDLE/$REPLACEMENT}',
      { FOO: 'http://google.de', NEEDLE: 'http://', REPLACEMENT: 'https://' },
      'https://google.de',
      ['FOO', 'NEEDLE', 'REPLACEMENT'],
      [],
    ],
    ['${FOO//\\//\\/}', { FOO: '/tmp/foo.txt' }, '\\/tmp\\/foo.txt', ['FOO'], []],
    ['${FOO/$BAR/ww}', { FOO: 'xxyy', BAR: '' }, 'wwxxyy', ['FOO', 'BAR'], []],
    ['${FOO//ww}', { FOO: 'xxyy' }, null, [], []],
    ['${FOO//}', { FOO: 'xxyy' }, null, [], []],
    ['${FOO///}', { FOO: 'xxyy' }, 'xxyy', ['FOO'], []],
    ['${FOO///}', {}, '', [], ['FOO']],
  ];
  for (const [input, values, expected, matched, unmatched] of cases) {
    test(input, () => {
      if (expected === null) {
        assert.throws(() => expandWord(input, env(values), BACKSLASH), CaissonError);
        return;
      }
      const result = expandWord(input, env(values), BACKSLASH);
      assert.equal(result.result, expected);
      assert.deepEqual([...result.matched].sort(), [...matched].sort());
      assert.deepEqual([...result.unmatched].sort(), [...unmatched].sort());
    });
  }
});

test('the release file name of TestProcessWithMatchesPlatform', () => {
  const release = 'something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz';
  const base = { VERSION: 'v1.2.3', TARGETOS: 'linux' };
  assert.equal(expand(release, { ...base, TARGETARCH: 'arm', TARGETVARIANT: 'v7' }), 'something-v1.2.3.linux-arm-v7.tar.gz');
  assert.equal(expand(release, { ...base, TARGETARCH: 'arm64', TARGETVARIANT: '' }), 'something-v1.2.3.linux-arm64.tar.gz');
  assert.equal(expand(release, { ...base, TARGETARCH: 'arm64' }), 'something-v1.2.3.linux-arm64.tar.gz');
});

describe('mandatory variables (TestShellParserMandatoryEnvVars)', () => {
  const noEmpty = '${VAR:?message here$ARG}';
  const noUnset = '${VAR?message here$ARG}';
  const hint = /--build-arg VAR=/;
  test('${VAR:?msg} accepts a value, refuses empty and unset with the expanded message', () => {
    assert.equal(expandWord(noEmpty, envFromList(['VAR=plain', 'ARG=x']), BACKSLASH).result, 'plain');
    assertFails(noEmpty, 'VAR: message herex', { VAR: '', ARG: 'x' }, BACKSLASH, hint);
    assertFails(noEmpty, 'VAR: message herex', { ARG: 'x' }, BACKSLASH, hint);
  });
  test('${VAR?msg} accepts a value and empty, refuses unset', () => {
    assert.equal(expand(noUnset, { VAR: 'plain', ARG: 'x' }), 'plain');
    assert.equal(expand(noUnset, { VAR: '', ARG: 'x' }), '');
    assertFails(noUnset, 'VAR: message herex', { ARG: 'x' }, BACKSLASH, hint);
  });
  test('default messages', () => {
    assertFails('${V?}', 'V: is not allowed to be unset');
    assertFails('${V:?}', 'V: is not allowed to be unset');
    assertFails('${V:?}', 'V: is not allowed to be empty', { V: '' });
    assert.equal(expand('${V?}', { V: '' }), '');
  });
});

describe('environments (TestGetEnv)', () => {
  const get = (entries: string[], name: string): string | undefined => envFromList(entries).get(name);
  test('lookups over KEY=value lists', () => {
    assert.equal(get([], 'foo'), undefined);
    assert.equal(get(['foo'], 'foo'), '', 'an entry without = sets an empty value');
    assert.equal(get(['foo='], 'foo'), '');
    assert.equal(get(['foo=bar'], 'foo'), 'bar');
    assert.equal(get(['foo=bar', 'car=hat'], 'car'), 'hat');
    assert.equal(get(['foo=bar', 'car=hat', 'car=bike'], 'car'), 'bike', 'later entries win');
    assert.equal(get(['a=b=c'], 'a'), 'b=c', 'split at the first =');
  });
  test('keys in order of first definition, each once', () => {
    assert.deepEqual(envFromList(['b=1', 'a=2', 'b=3']).keys(), ['b', 'a']);
    assert.deepEqual(envFromMap(new Map([['z', '1'], ['y', '2']])).keys(), ['z', 'y']);
    assert.deepEqual(emptyEnv.keys(), []);
    assert.equal(emptyEnv.get('PATH'), undefined);
  });
  test('an entry that is set but empty counts as matched', () => {
    const result = expandWord('$foo$bar', envFromList(['foo']), BACKSLASH);
    assert.deepEqual([...result.matched], ['foo']);
    assert.deepEqual([...result.unmatched], ['bar']);
  });
  test('envFromMap copies the map', () => {
    const map = new Map([['A', '1']]);
    const lookup = envFromMap(map);
    map.set('A', '2');
    assert.equal(lookup.get('A'), '1');
  });
});

describe('shell patterns', () => {
  test('compilation (TestConvertShellPatternToRegex)', () => {
    const compiled = compileShellPattern('(()[]{\\}^$.\\*\\?|\\\\a*?\\/', true, true);
    const literal = (text: string) => [...text].map((char) => ({ kind: 'rune', rune: char.codePointAt(0) }));
    assert.deepEqual(compiled.tokens, [...literal('(()[]{}^$.*?|\\a'), { kind: 'star' }, { kind: 'any' }, ...literal('/')]);
    for (const invalid of ['\\', '\\x', '\\\\\\']) {
      assert.throws(() => compileShellPattern(invalid, true, true), PatternError);
    }
    assert.throws(() => compileShellPattern('a\\', true, true), { message: "invalid escape '\\\uFFFD'" });
  });
  test('matching agrees with a backtracking RegExp written as BuildKit writes the Go one', () => {
    // BuildKit's regular expression for a pattern, with Go's `.` (no newline) as [^\n].
    const toRegExp = (pattern: string, greedy: boolean, anchored: boolean): RegExp => {
      let source = anchored ? '^' : '';
      for (const char of pattern) {
        if (char === '*') source += greedy ? '[^\\n]*' : '[^\\n]*?';
        else if (char === '?') source += '[^\\n]';
        else source += char;
      }
      return new RegExp(source, 'u');
    };
    let seed = 7;
    const pick = (choices: string): string => {
      seed = (seed * 48271) % 2147483647;
      return choices[seed % choices.length] ?? '';
    };
    for (let i = 0; i < 3000; i++) {
      let pattern = '';
      let value = '';
      for (let n = seed % 6; n >= 0; n--) pattern += pick('ab*?*');
      for (let n = seed % 9; n >= 0; n--) value += pick('aab\n');
      for (const greedy of [true, false]) {
        const match = new PatternMatcher(compileShellPattern(pattern, greedy, false), value).find(0);
        const expected = toRegExp(pattern, greedy, false).exec(value);
        const actual = match === undefined ? null : [match[0], match[1]];
        const want = expected === null ? null : [expected.index, expected.index + expected[0].length];
        assert.deepEqual(actual, want, `${JSON.stringify(pattern)} greedy=${greedy} in ${JSON.stringify(value)}`);
      }
    }
  });
  // A backtracking matcher needs ~2000^6 steps here and never finishes; the memoised one finishes
  // (the test runner's timeout is only a guard against a hang, not a speed limit).
  test('matching finishes on patterns that make backtracking explode', { timeout: 300_000 }, () => {
    assert.equal(expand('${V//*a*a*a*a*a*b/x}', { V: 'a'.repeat(2000) }), 'a'.repeat(2000));
    assert.equal(expand('${V##*a*a*a*a*a*b}', { V: 'a'.repeat(2000) }), 'a'.repeat(2000));
  });
  test('reverseString and reversePattern (TestReverseString, TestReversePattern)', () => {
    assert.equal(reverseString('54321'), '12345');
    assert.equal(reverseString('🖖🚀👽'), '👽🚀🖖');
    const cases: Record<string, string> = {
      'a\\*c': 'c\\*a',
      '\\\\\\ab': 'b\\a\\\\',
      'ab\\': '\\ba',
      '👽\\🚀🖖': '🖖\\🚀👽',
      '\\\\b': 'b\\\\',
    };
    for (const [pattern, reversed] of Object.entries(cases)) assert.equal(reversePattern(pattern), reversed, pattern);
  });
  test('prefix and suffix removal, shortest and longest', () => {
    const values = { F: 'a/b/c.tar.gz' };
    assert.equal(expand('${F#*/}', values), 'b/c.tar.gz');
    assert.equal(expand('${F##*/}', values), 'c.tar.gz');
    assert.equal(expand('${F%.*}', values), 'a/b/c.tar');
    assert.equal(expand('${F%%.*}', values), 'a/b/c');
    assert.equal(expand('${F#nomatch}', values), 'a/b/c.tar.gz');
  });
  test('`?` and `*` do not match a newline', () => {
    const values = { N: 'a\nb' };
    assert.equal(expand('${N#*}', values), 'a\nb');
    assert.equal(expand('${N##*}', values), '\nb');
    assert.equal(expand('${N//?/.}', values), '.\n.');
  });
  test('replacement follows Go: empty matches after a match are skipped, $0 is the match', () => {
    assert.equal(expand('${B//*/-}', { B: 'foo' }), '-');
    assert.equal(expand('${B//o/\\$0}', { B: 'foo' }), 'f\\o\\o');
    assert.equal(expand('${B/o/\\$0}', { B: 'foo' }), 'f\\$0o', 'a single replacement is literal');
    assert.equal(expand('${B//o/$R}', { B: 'foo', R: '$$' }), 'f$$');
    assert.equal(expand('${A//$Z/-}', { A: 'ab' }), '-a-b-');
  });
  test('invalid patterns', () => {
    assertFails('${B#\\x}', "invalid pattern (\\x) in substitution: invalid escape '\\x'", { B: 'x' });
    assertFails('${B#$D}', "invalid pattern (\\) in substitution: invalid escape '\\\uFFFD'", { B: 'x', D: '\\' });
    // Suffix patterns are reversed before conversion, and the message shows them reversed.
    assertFails('${B%a$D}', "invalid pattern (\\a) in substitution: invalid escape '\\a'", { B: 'x', D: '\\' });
  });
});

describe('quotes and escapes', () => {
  test('single quotes are literal and cannot be escaped', () => {
    assert.equal(expand("'$A \\\"'", { A: 'x' }), '$A \\"');
    assert.equal(expand("'a\\'"), 'a\\');
  });
  test('double quotes expand $ and escape only " $ and the escape token', () => {
    assert.equal(expand('"$A \\$A \\" \\\\ \\t"', { A: 'x' }), 'x $A " \\ \\t');
  });
  test('outside quotes the escape token escapes anything and vanishes at the end', () => {
    assert.equal(expand('\\a\\ b\\$A\\'), 'a b$A');
  });
  test('the backtick escape token', () => {
    const backtick: ShellLexOptions = { escapeToken: '`' };
    assert.equal(expand('C:\\path`$A`"', { A: 'x' }, backtick), 'C:\\path$A"');
    assert.equal(expand('"a`"b``c`x"', {}, backtick), 'a"b`c`x');
    assert.equal(expand('${B#`*}', { B: '*x' }, backtick), '*x', 'pattern escapes are always backslashes');
  });
});

describe('lexer modes', () => {
  test('rawQuotes keeps the quotes', () => {
    assert.equal(expand(`'a b'"c $A"`, { A: 'x' }, { escapeToken: '\\', rawQuotes: true }), `'a b'"c x"`);
  });
  test('rawEscapes keeps escape tokens (twice before an ordinary character in double quotes)', () => {
    const raw: ShellLexOptions = { escapeToken: '\\', rawEscapes: true };
    assert.equal(expand('a\\ b\\\\', {}, raw), 'a\\ b\\\\');
    assert.equal(expand('"a\\tb"', {}, raw), 'a\\\\tb');
    assert.equal(expand('${Z:-a\\ b}', {}, raw), 'a b', 'operands of :- never keep escapes');
  });
  test('skipProcessQuotes treats quotes as ordinary characters', () => {
    const skip: ShellLexOptions = { escapeToken: '\\', skipProcessQuotes: true };
    assert.equal(expand(`a"b`, {}, skip), 'a"b');
    assert.deepEqual(expandWords(`'a b'"c $A"`, env({ A: 'x' }), skip), [`'a`, `b'"c`, 'x"']);
  });
  test('skipUnsetEnv leaves references to unset variables as written', () => {
    const skip: ShellLexOptions = { escapeToken: '\\', skipUnsetEnv: true };
    const word = '$Z ${Z} ${Z:-d} ${Z?m} ${Z#p} ${Z%%p} ${Z/p/r} $A';
    assert.equal(expand(word, { A: 'x' }, skip), '$Z ${Z} ${Z:-d} ${Z?m} ${Z#p} ${Z%%p} ${Z/p/r} x');
    assert.equal(expand('${Z//p/r}', {}, skip), '${Z/p/r}', 'BuildKit writes one slash back');
    assert.equal(expand('${Z:YYY}', {}, skip), '${Z:YYY}', 'even an unsupported modifier');
    assertFails('${A:YYY}', 'unsupported modifier (:Y) in substitution', { A: 'x' }, skip);
  });
});

describe('names', () => {
  test('positional and special parameters are never set', () => {
    assert.equal(expand('$1a ${12}b $0c $@d $*e $#f $?g $-h $$i $!j'), 'a b c d e f g h i j');
    assert.equal(expand('${999:-bbb}aaa ${@:+x}'), 'bbbaaa ');
    assert.equal(expand('$@@@'), '@@');
  });
  test('Unicode letters and digits', () => {
    assert.equal(expand('$한국어!', { 한국어: 'k' }), 'k!');
    assert.equal(expand('$\u0661\u0662x'), 'x', 'Arabic-Indic digits are a positional parameter');
  });
  test('a lone $ and $ before a non-name stay', () => {
    assert.equal(expand('$ $. a$'), '$ $. a$');
  });
  test('a byte order mark at the start is skipped, like Go text/scanner', () => {
    assert.equal(expand('\uFEFF$A', { A: 'x' }), 'x');
    assert.equal(expand('a\uFEFF$A', { A: 'x' }), 'a\uFEFFx');
  });
});

describe('heredoc markers and word splitting', () => {
  test('<< passes through with the blanks after it', () => {
    assert.deepEqual(expandWords('<< \t EOF x', emptyEnv, BACKSLASH), ['<< \t EOF', 'x']);
    assert.equal(expand('a<b<<c'), 'a<b<<c');
  });
  test('expanded values split on Unicode white space, quoted ones do not', () => {
    const values = { A: ' a\u00a0b\u3000c ' };
    assert.deepEqual(expandWords('x$A"$A"', env(values), BACKSLASH), ['x', 'a', 'b', 'c', ' a\u00a0b\u3000c ']);
    assert.deepEqual(expandWords('x$B"$A"', env({ ...values, B: 'q' }), BACKSLASH), ['xq a\u00a0b\u3000c ']);
    assert.deepEqual(expandWords(`'' "" \\ `, emptyEnv, BACKSLASH), [' '], 'empty quotes make no word');
  });
  test('text before a ${v:-…} operand is dropped from the words, as in BuildKit', () => {
    const result = expandWord('x${Z:-y} z', emptyEnv, BACKSLASH);
    assert.equal(result.result, 'xy z');
    assert.deepEqual(result.words, ['y', 'z']);
  });
});

describe('errors', () => {
  const docs = /environment-replacement/;
  test('missing }', () => {
    assertFails('${', "syntax error: missing '}'", {}, BACKSLASH, docs);
    assertFails('${A:-x', "syntax error: missing '}'");
    assertFails('${A:-${B:?boom}', "syntax error: missing '}'", {}, BACKSLASH, docs);
    assertFails('${A/a/b', "syntax error: missing '}'");
    assertFails('${A/a', "syntax error: missing '/' in ${}");
  });
  test('bad substitution', () => {
    for (const word of ['${}', '${:x}', '${:}', '${{A}}', 'he${}xx']) {
      assertFails(word, 'syntax error: bad substitution', {}, BACKSLASH, docs);
    }
  });
  test('unsupported modifiers', () => {
    assertFails('${A=x}', 'unsupported modifier (=) in substitution', {}, BACKSLASH, docs);
    assertFails('${A:=x}', 'unsupported modifier (:=) in substitution');
    assertFails('${A:#x}', 'unsupported modifier (:#) in substitution');
    assertFails('${.}', 'unsupported modifier (.) in substitution');
    assertFails('${A', 'unsupported modifier (\uFFFD) in substitution', {}, BACKSLASH, docs);
  });
  test('unterminated quotes', () => {
    assertFails('he"llo', 'unexpected end of statement while looking for matching double-quote', {}, BACKSLASH, /quote/);
    assertFails("he'llo", 'unexpected end of statement while looking for matching single-quote');
    assertFails('"a\\"', 'unexpected end of statement while looking for matching double-quote');
    assertFails('"a`"', 'unexpected end of statement while looking for matching double-quote', {}, { escapeToken: '`' });
  });
  test('the source is quoted like Go %q', () => {
    assert.throws(() => expandWord('\n\t"\u00a0\u0001😀', emptyEnv, BACKSLASH), {
      message: `failed to process "\\n\\t\\"\\u00a0\\x01😀": unexpected end of statement while looking for matching double-quote`,
    });
    // The inner message is not quoted: BuildKit names a newline modifier as is.
    assertFails('${\n}', 'unsupported modifier (\n) in substitution');
  });
});

test('goQuote matches strconv.Quote', () => {
  assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goQuote('\u0007\b\f\n\r\t\v'), '"\\a\\b\\f\\n\\r\\t\\v"');
  assert.equal(goQuote('\u0000\u001f\u007f'), '"\\x00\\x1f\\x7f"');
  assert.equal(goQuote('\u0085\u00a0\uFEFF\u200b'), '"\\u0085\\u00a0\\ufeff\\u200b"');
  assert.equal(goQuote('\u{E0001}'), '"\\U000e0001"');
  assert.equal(goQuote('한국어 é 😀 $'), '"한국어 é 😀 $"');
  assert.equal(goQuote('\uD800'), '"\\ufffd"');
});

/** Options as written in the table below. */
interface Row {
  readonly escape?: EscapeToken;
  readonly rawQuotes?: boolean;
  readonly rawEscapes?: boolean;
  readonly skipProcessQuotes?: boolean;
  readonly skipUnsetEnv?: boolean;
}
type Outcome = { readonly result: string; readonly words: readonly string[] } | { readonly error: string };

describe("results of BuildKit's lexer on edge cases", () => {
  const values = envFromList(['A=a b', 'B=foo*bar/foo', 'C=', 'D=\\', 'N=a\nb', 'P=*', 'R=$0']);
  // [word, options, what BuildKit's ProcessWordWithMatches and ProcessWords return]
  const rows: readonly (readonly [string, Row, Outcome])[] = [
    ["a\\", {}, { result: "a", words: ["a"] }],
    ["a\\\\", {}, { result: "a\\", words: ["a\\"] }],
    ["\\a\\ b", {}, { result: "a b", words: ["a b"] }],
    ["\"a\\b\\\"c\\$A\\\\\"", {}, { result: "a\\b\"c$A\\", words: ["a\\b\"c$A\\"] }],
    ["'a\\'", {}, { result: "a\\", words: ["a\\"] }],
    ["\"a\\tb\"", { rawEscapes: true }, { result: "a\\\\tb", words: ["a\\\\tb"] }],
    ["a\\ b\\\\", { rawEscapes: true }, { result: "a\\ b\\\\", words: ["a\\ b\\\\"] }],
    ["\"a\\\"b\"", { rawEscapes: true }, { result: "a\\\"b", words: ["a\\\"b"] }],
    ["\"\\", { rawEscapes: true }, { error: "failed to process \"\\\"\\\\\": unexpected end of statement while looking for matching double-quote" }],
    ["a`b", { escape: "`" }, { result: "ab", words: ["ab"] }],
    ["a\\b`$A`\"`c", { escape: "`" }, { result: "a\\b$A\"c", words: ["a\\b$A\"c"] }],
    ["\"a`\"b``c`x\"", { escape: "`" }, { result: "a\"b`c`x", words: ["a\"b`c`x"] }],
    ["a`", { escape: "`" }, { result: "a", words: ["a"] }],
    ["\"a`\"", { escape: "`" }, { error: "failed to process \"\\\"a`\\\"\": unexpected end of statement while looking for matching double-quote" }],
    ["'a b'\"c $A\"", { rawQuotes: true }, { result: "'a b'\"c a b\"", words: ["'a b'\"c a b\""] }],
    ["'a b'\"c $A\"", { skipProcessQuotes: true }, { result: "'a b'\"c a b\"", words: ["'a", "b'\"c", "a", "b\""] }],
    ["a\"b", { skipProcessQuotes: true }, { result: "a\"b", words: ["a\"b"] }],
    ["''", {}, { result: "", words: [] }],
    ["\"\" x ''", {}, { result: " x ", words: ["x"] }],
    ["\"$C\"", {}, { result: "", words: [] }],
    ["a'' b", {}, { result: "a b", words: ["a", "b"] }],
    ["$Z ${Z} ${Z:-d} ${Z-d} ${Z:+a} ${Z?m} ${Z:?m} ${Z#p} ${Z%%p} ${Z/p/r} ${Z//p/r} $A", { skipUnsetEnv: true }, { result: "$Z ${Z} ${Z:-d} ${Z-d} ${Z:+a} ${Z?m} ${Z:?m} ${Z#p} ${Z%%p} ${Z/p/r} ${Z/p/r} a b", words: ["$Z", "${Z}", "${Z:-d}", "${Z-d}", "${Z:+a}", "${Z?m}", "${Z:?m}", "${Z#p}", "${Z%%p}", "${Z/p/r}", "${Z/p/r}", "a", "b"] }],
    ["${Z:YYY} ${Z:=x}", { skipUnsetEnv: true }, { result: "${Z:YYY} ${Z:=x}", words: ["${Z:YYY}", "${Z:=x}"] }],
    ["${A:YYY}", { skipUnsetEnv: true }, { error: "failed to process \"${A:YYY}\": unsupported modifier (:Y) in substitution" }],
    ["${Z:-$Y}", { skipUnsetEnv: true }, { result: "${Z:-$Y}", words: ["${Z:-$Y}"] }],
    ["<<EOF", {}, { result: "<<EOF", words: ["<<EOF"] }],
    ["<< \t EOF x", {}, { result: "<< \t EOF x", words: ["<< \t EOF", "x"] }],
    ["a<b<<c", {}, { result: "a<b<<c", words: ["a<b<<c"] }],
    ["\"<<\" <<-EOF", {}, { result: "<< <<-EOF", words: ["<<", "<<-EOF"] }],
    ["${Z:-<<  x}", {}, { result: "<<  x", words: ["<<", "x"] }],
    ["x${Z:-y} z", {}, { result: "xy z", words: ["y", "z"] }],
    ["x${A}y", {}, { result: "xa by", words: ["xa", "by"] }],
    ["x \"${Z:-y}\"z", {}, { result: "x yz", words: ["x", "yz"] }],
    ["a${A:+p q}b", {}, { result: "ap qb", words: ["p", "qb"] }],
    ["$A\"$A\"$A", {}, { result: "a ba ba b", words: ["a", "ba ba", "b"] }],
    ["\\ $C \\ ", {}, { result: "   ", words: [" ", " "] }],
    ["a\u00a0b\u3000c\u0085d", {}, { result: "a\u00a0b\u3000c\u0085d", words: ["a", "b", "c", "d"] }],
    ["$1a ${12}b $0c $@d $*e $#f $?g $-h $$i $!j", {}, { result: "a b c d e f g h i j", words: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] }],
    ["$\u0661\u0662x", {}, { result: "x", words: ["x"] }],
    ["$\u00aab ${\u00e9}", {}, { result: " ", words: [] }],
    ["$_A ${_}", {}, { result: " ", words: [] }],
    ["${#} ${#A}", {}, { error: "failed to process \"${#} ${#A}\": unsupported modifier (A) in substitution" }],
    ["${##} ${#:-x}", {}, { result: " x", words: ["x"] }],
    ["\ufeff$A", {}, { result: "a b", words: ["a", "b"] }],
    ["a\ufeff$A", {}, { result: "a\ufeffa b", words: ["a\ufeffa", "b"] }],
    ["$.", {}, { result: "$.", words: ["$."] }],
    ["$", {}, { result: "$", words: ["$"] }],
    ["${", {}, { error: "failed to process \"${\": syntax error: missing '}'" }],
    ["${A", {}, { error: "failed to process \"${A\": unsupported modifier (\ufffd) in substitution" }],
    ["${A:", {}, { error: "failed to process \"${A:\": syntax error: missing '}'" }],
    ["${A:}", {}, { error: "failed to process \"${A:}\": syntax error: missing '}'" }],
    ["${}", {}, { error: "failed to process \"${}\": syntax error: bad substitution" }],
    ["${:}", {}, { error: "failed to process \"${:}\": syntax error: bad substitution" }],
    ["${{A}}", {}, { error: "failed to process \"${{A}}\": syntax error: bad substitution" }],
    ["${A=x}", {}, { error: "failed to process \"${A=x}\": unsupported modifier (=) in substitution" }],
    ["${A:=x}", {}, { error: "failed to process \"${A:=x}\": unsupported modifier (:=) in substitution" }],
    ["${A:#x}", {}, { error: "failed to process \"${A:#x}\": unsupported modifier (:#) in substitution" }],
    ["${A:%%x}", {}, { error: "failed to process \"${A:%%x}\": unsupported modifier (:%) in substitution" }],
    ["${A:/x/y}", {}, { error: "failed to process \"${A:/x/y}\": unsupported modifier (:/) in substitution" }],
    ["${A!}", {}, { error: "failed to process \"${A!}\": unsupported modifier (!) in substitution" }],
    ["${ A}", {}, { error: "failed to process \"${ A}\": unsupported modifier ( ) in substitution" }],
    ["${A }", {}, { error: "failed to process \"${A }\": unsupported modifier ( ) in substitution" }],
    ["${Z?}", {}, { error: "failed to process \"${Z?}\": Z: is not allowed to be unset" }],
    ["${Z:?}", {}, { error: "failed to process \"${Z:?}\": Z: is not allowed to be unset" }],
    ["${C:?}", {}, { error: "failed to process \"${C:?}\": C: is not allowed to be empty" }],
    ["${C?}", {}, { result: "", words: [] }],
    ["${Z?need it $A}", {}, { error: "failed to process \"${Z?need it $A}\": Z: need it a b" }],
    ["${C:?\"q\"}", {}, { error: "failed to process \"${C:?\\\"q\\\"}\": C: q" }],
    ["${Z:-${Y:?boom}", {}, { error: "failed to process \"${Z:-${Y:?boom}\": syntax error: missing '}'" }],
    ["${Z:-${Y:?boom}}", {}, { error: "failed to process \"${Z:-${Y:?boom}}\": Y: boom" }],
    ["${B#*o}|${B##*o}|${B%o*}|${B%%o*}|${B#\\*}|${B#f\\*}|${B%/*}|${B%%/*}", {}, { result: "o*bar/foo||foo*bar/fo|f|foo*bar/foo|foo*bar/foo|foo*bar|foo*bar", words: ["foo*bar"] }],
    ["${B/o/0}|${B//o/0}|${B/\\//:}|${B//\\//:}|${B//?/.}|${B/*/x}|${B///}", {}, { result: "f0o*bar/foo|f00*bar/f00|foo*bar:foo|foo*bar:foo|...........|x|foo*bar/foo", words: ["foo*bar/foo"] }],
    ["${B//}", {}, { error: "failed to process \"${B//}\": syntax error: missing '/' in ${}" }],
    ["${B//x}", {}, { error: "failed to process \"${B//x}\": syntax error: missing '/' in ${}" }],
    ["${Z///}", {}, { result: "", words: [] }],
    ["${B//*/-}", {}, { result: "-", words: ["-"] }],
    ["${B//x*/-}", {}, { result: "foo*bar/foo", words: ["foo*bar/foo"] }],
    ["${N#?}|${N#*}|${N##*}|${N%?}|${N%%*}|${N//?/.}|${N/a*/x}", {}, { result: "\nb|a\nb|\nb|a\n|a\n|.\n.|x\nb", words: ["a", "a", "a", ".", "x", "b"] }],
    ["${B//o/$R}|${B//o/\\$0}|${B/o/\\$0}|${B//o/${R}$R}", {}, { result: "foo*bar/foo|f\\o\\o*bar/f\\o\\o|f\\$0o*bar/foo|foooo*bar/foooo", words: ["foooo*bar/foooo"] }],
    ["${B//o/\\${0\\}}", {}, { result: "f\\${0\\}\\${0\\}*bar/f\\${0\\}\\${0\\}", words: ["f\\${0\\}\\${0\\}*bar/f\\${0\\}\\${0\\}"] }],
    ["${A//$Z/-}", {}, { result: "-a- -b-", words: ["-a-", "-b-"] }],
    ["${B//o*/[\\$\\$]}", {}, { result: "f[\\$\\$]", words: ["f[\\$\\$]"] }],
    ["${B#$D}", {}, { error: "failed to process \"${B#$D}\": invalid pattern (\\) in substitution: invalid escape '\\\ufffd'" }],
    ["${B%$D}", {}, { error: "failed to process \"${B%$D}\": invalid pattern (\\) in substitution: invalid escape '\\\ufffd'" }],
    ["${B%a$D}", {}, { error: "failed to process \"${B%a$D}\": invalid pattern (\\a) in substitution: invalid escape '\\a'" }],
    ["${B#\\x}", {}, { error: "failed to process \"${B#\\\\x}\": invalid pattern (\\x) in substitution: invalid escape '\\x'" }],
    ["${B/\\x/y}", {}, { error: "failed to process \"${B/\\\\x/y}\": invalid pattern (\\x) in substitution: invalid escape '\\x'" }],
    ["${B/a\\", {}, { error: "failed to process \"${B/a\\\\\": syntax error: missing '/' in ${}" }],
    ["${B/a", {}, { error: "failed to process \"${B/a\": syntax error: missing '/' in ${}" }],
    ["${B/a/b", {}, { error: "failed to process \"${B/a/b\": syntax error: missing '}'" }],
    ["${B//a\\/b}", {}, { error: "failed to process \"${B//a\\\\/b}\": syntax error: missing '/' in ${}" }],
    ["${B#${P}o}", {}, { result: "o*bar/foo", words: ["o*bar/foo"] }],
    ["${B%%$P}", {}, { result: "", words: [] }],
    ["${B#%}", {}, { result: "foo*bar/foo", words: ["foo*bar/foo"] }],
    ["${B%#}", {}, { result: "foo*bar/foo", words: ["foo*bar/foo"] }],
    ["${B##\"*\"o}", {}, { result: "", words: [] }],
    ["${B#'*'}", {}, { result: "foo*bar/foo", words: ["foo*bar/foo"] }],
    ["${B#\"o\\*\"}", {}, { result: "foo*bar/foo", words: ["foo*bar/foo"] }],
    ["${B#\\\"}", {}, { error: "failed to process \"${B#\\\\\\\"}\": invalid pattern (\\\") in substitution: invalid escape '\\\"'" }],
    ["${B%\\}}", {}, { result: "foo*bar/foo", words: ["foo*bar/foo"] }],
    ["${B#f}", { escape: "`" }, { result: "oo*bar/foo", words: ["oo*bar/foo"] }],
    ["${B#`*}", { escape: "`" }, { result: "foo*bar/foo", words: ["foo*bar/foo"] }],
    ["${B/o/`}}", { escape: "`" }, { result: "f`}o*bar/foo", words: ["f`}o*bar/foo"] }],
    ["${B#*o}", { rawEscapes: true }, { result: "o*bar/foo", words: ["o*bar/foo"] }],
    ["${Z:-a\\ b}", { rawEscapes: true }, { result: "a b", words: ["a", "b"] }],
    ["${Z:-a\\ b}", {}, { result: "a b", words: ["a", "b"] }],
    ["${A:+\"x  y\"}w", {}, { result: "x  yw", words: ["x", "yw"] }],
    ["${A-\"q\"}", {}, { result: "a b", words: ["a", "b"] }],
    ["\"${Z:-\"x y\"}\"", {}, { result: "x y", words: ["x y"] }],
    ["${Z:-'a}'}", {}, { result: "a}", words: ["a}"] }],
    ["${Z:-\"a}\"}", {}, { result: "a}", words: ["a}"] }],
  ];
  for (const [word, row, outcome] of rows) {
    test(JSON.stringify(word), () => {
      const { escape, ...flags } = row;
      const options: ShellLexOptions = { escapeToken: escape ?? '\\', ...flags };
      if ('error' in outcome) {
        assert.throws(() => expandWord(word, values, options), (error: unknown) => {
          assert.ok(error instanceof CaissonError);
          assert.equal(error.code, 'ERR_DOCKERFILE_EXPANSION');
          assert.equal(error.message, outcome.error);
          return true;
        });
        return;
      }
      const result = expandWord(word, values, options);
      assert.equal(result.result, outcome.result);
      assert.deepEqual(result.words, outcome.words);
      assert.deepEqual(expandWords(word, values, options), outcome.words);
    });
  }
});
