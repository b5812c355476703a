// Unit tests for src/build/patterns. The Go filepath.Match table starts with Go's own matchTests
// (src/path/filepath/match_test.go); the .dockerignore tables start with moby/patternmatcher's
// TestMatches, its multi-pattern cases and its copy of Go's matchTests, and ignorefile's
// TestReadAll. Every expected value, the added cases included, was checked against Go's
// filepath.Match and patternmatcher/ignorefile themselves (`bad`: a malformed pattern).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CaissonError } from '../../src/errors.js';
import {
  checkGoPattern,
  cleanPath,
  goMatch,
  hasGlob,
  ignoreFileFor,
  IgnoreMatcher,
  parseIgnoreFile,
  toIgnorePatterns,
} from '../../src/build/patterns/index.js';

type Expected = boolean | 'bad';

/** A validator for assert.throws: a CaissonError ERR_BUILD_PATTERN whose message includes `text`. */
function patternError(text: string, line?: number): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof CaissonError, 'a CaissonError');
    assert.equal(error.code, 'ERR_BUILD_PATTERN');
    assert.ok(error.message.includes(text), `${JSON.stringify(error.message)} names ${JSON.stringify(text)}`);
    if (line !== undefined) {
      assert.deepEqual(error.location, { file: '.dockerignore', line });
      assert.ok(error.detail.startsWith(`.dockerignore:${line}: `), error.detail);
    }
    return true;
  };
}

function matcherFor(patterns: readonly string[]): IgnoreMatcher {
  return new IgnoreMatcher({ patterns: toIgnorePatterns({ patterns }) });
}

// [pattern, name, expected]
const GO_MATCH_CASES: readonly (readonly [string, string, Expected])[] = [
  ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true],
  ['a*', 'abc', true], ['a*', 'ab/c', false], ['a*/b', 'abc/b', true], ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true], ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true], ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false], ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true], ['a*b?c*x', 'abxbbxdbxebxczzy', false], ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false], ['ab[^c]', 'abc', false], ['ab[^b-d]', 'abc', false], ['ab[^e-g]', 'abc', true],
  ['a\\*b', 'a*b', true], ['a\\*b', 'ab', false], ['a?b', 'a☺b', true], ['a[^a]b', 'a☺b', true],
  ['a???b', 'a☺b', false], ['a[^a][^a][^a]b', 'a☺b', false], ['[a-ζ]*', 'α', true], ['*[a-ζ]', 'A', false],
  ['a?b', 'a/b', false], ['a*b', 'a/b', false], ['[\\]a]', ']', true], ['[\\-]', '-', true],
  ['[x\\-]', 'x', true], ['[x\\-]', '-', true], ['[x\\-]', 'z', false], ['[\\-x]', 'x', true],
  ['[\\-x]', '-', true], ['[\\-x]', 'a', false], ['[]a]', ']', 'bad'], ['[-]', '-', 'bad'],
  ['[x-]', 'x', 'bad'], ['[x-]', '-', 'bad'], ['[x-]', 'z', 'bad'], ['[-x]', 'x', 'bad'],
  ['[-x]', '-', 'bad'], ['[-x]', 'a', 'bad'], ['\\', 'a', 'bad'], ['[a-b-c]', 'a', 'bad'],
  ['[', 'a', 'bad'], ['[^', 'a', 'bad'], ['[^bc', 'a', 'bad'], ['a[', 'a', 'bad'],
  ['a[', 'ab', 'bad'], ['a[', 'x', 'bad'], ['a/b[', 'x', 'bad'], ['*x', 'xxx', true],
  ['', '', true], ['', 'a', false], ['*', '', true], ['*', 'a/b', false],
  ['**', 'a/b', false], ['*/*', 'a/b', true], ['[!a]', '!', true], ['[!a]', 'b', false],
  ['[^!a]', 'b', true], ['[/]', '/', true], ['a[^x]b', 'a/b', true], ['[*]', '*', true],
  ['[?]', 'x', false], ['\\[x]', '[x]', true], ['a\\\\b', 'a\\b', true], ['\\a', 'a', true],
  ['a]', 'a]', true], ['^a', '^a', true], ['[z-a]', 'm', false], ['[[]', '[', true],
  ['*??', '☺', true], ['*[a/][a/]*b', 'aa/b', false], ['*.go', 'main.go', true], ['*.go', '.go', true],
  ['?', '', false], ['[]', 'a', 'bad'], ['[^]', 'a', 'bad'], ['a\\', 'a', 'bad'],
  ['*[', 'x', 'bad'], ['[a-]', 'a', 'bad'], ['x*[', 'y', 'bad'], ['[\\', 'a', 'bad'],
];

describe('goMatch: Go filepath.Match on Linux', () => {
  test('the table', () => {
    let ran = 0;
    for (const [pattern, name, expected] of GO_MATCH_CASES) {
      const what = `goMatch(${JSON.stringify(pattern)}, ${JSON.stringify(name)})`;
      if (expected === 'bad') {
        assert.throws(() => goMatch({ pattern, name }), patternError(JSON.stringify(pattern)), what);
        assert.throws(() => checkGoPattern(pattern), patternError(JSON.stringify(pattern)), what);
      } else {
        assert.equal(goMatch({ pattern, name }), expected, what);
        assert.doesNotThrow(() => checkGoPattern(pattern), what);
      }
      ran++;
    }
    assert.equal(ran, 88);
    assert.equal(GO_MATCH_CASES.filter(([, , e]) => e === 'bad').length, 24);
  });

  test('bad patterns are reported with a reason', () => {
    assert.throws(() => checkGoPattern('a['), patternError('syntax error in pattern "a[": unclosed character class'));
    assert.throws(() => checkGoPattern('x\\'), patternError('lone backslash'));
    assert.throws(() => checkGoPattern('[]'), patternError('empty character class'));
    assert.throws(() => checkGoPattern('[a-]'), patternError('no upper bound'));
    assert.throws(() => checkGoPattern('[-a]'), patternError("'-'"));
  });
});

describe('hasGlob', () => {
  // [pattern, expected]
  const cases: readonly (readonly [string, boolean])[] = [
    ['a*', true], ['a?', true], ['[ab]', true], ['dir/*.go', true], ['plain/path', false], ['', false], ['dir/', false],
    ['a\\*', false], ['a\\?b', false], ['a\\[b]', false], ['a\\\\*', true], [']', false], ['\\', false], ['a{b,c}', false],
  ];
  test('the table', () => {
    let ran = 0;
    for (const [pattern, expected] of cases) {
      assert.equal(hasGlob(pattern), expected, `hasGlob(${JSON.stringify(pattern)})`);
      ran++;
    }
    assert.equal(ran, 14);
  });
});

// [patterns (patternmatcher.New input), path, expected]
const IGNORE_CASES: readonly (readonly [readonly string[], string, Expected])[] = [
  [['**'], 'file', true], [['**'], 'file/', true], [['**/'], 'file', true],
  [['**/'], 'file/', true], [['**'], 'dir/file', true], [['**/'], 'dir/file', true],
  [['**'], 'dir/file/', true], [['**/'], 'dir/file/', true], [['**/**'], 'dir/file', true],
  [['**/**'], 'dir/file/', true], [['dir/**'], 'dir/file', true], [['dir/**'], 'dir/file/', true],
  [['dir/**'], 'dir/dir2/file', true], [['dir/**'], 'dir/dir2/file/', true], [['**/dir'], 'dir', true],
  [['**/dir'], 'dir/file', true], [['**/dir2/*'], 'dir/dir2/file', true], [['**/dir2/*'], 'dir/dir2/file/', true],
  [['**/dir2/**'], 'dir/dir2/dir3/file', true], [['**/dir2/**'], 'dir/dir2/dir3/file/', true], [['**file'], 'file', true],
  [['**file'], 'dir/file', true], [['**/file'], 'dir/file', true], [['**file'], 'dir/dir/file', true],
  [['**/file'], 'dir/dir/file', true], [['**/file*'], 'dir/dir/file', true], [['**/file*'], 'dir/dir/file.txt', true],
  [['**/file*txt'], 'dir/dir/file.txt', true], [['**/file*.txt'], 'dir/dir/file.txt', true], [['**/file*.txt*'], 'dir/dir/file.txt', true],
  [['**/**/*.txt'], 'dir/dir/file.txt', true], [['**/**/*.txt2'], 'dir/dir/file.txt', false], [['**/*.txt'], 'file.txt', true],
  [['**/**/*.txt'], 'file.txt', true], [['a**/*.txt'], 'a/file.txt', true], [['a**/*.txt'], 'a/dir/file.txt', true],
  [['a**/*.txt'], 'a/dir/dir/file.txt', true], [['a/*.txt'], 'a/dir/file.txt', false], [['a/*.txt'], 'a/file.txt', true],
  [['a/*.txt**'], 'a/file.txt', true], [['a[b-d]e'], 'ae', false], [['a[b-d]e'], 'ace', true],
  [['a[b-d]e'], 'aae', false], [['a[^b-d]e'], 'aze', true], [['.*'], '.foo', true],
  [['.*'], 'foo', false], [['abc.def'], 'abcdef', false], [['abc.def'], 'abc.def', true],
  [['abc.def'], 'abcZdef', false], [['abc?def'], 'abcZdef', true], [['abc?def'], 'abcdef', false],
  [['a\\\\'], 'a\\', true], [['**/foo/bar'], 'foo/bar', true], [['**/foo/bar'], 'dir/foo/bar', true],
  [['**/foo/bar'], 'dir/dir2/foo/bar', true], [['abc/**'], 'abc', false], [['abc/**'], 'abc/def', true],
  [['abc/**'], 'abc/def/ghi', true], [['**/.foo'], '.foo', true], [['**/.foo'], 'bar.foo', false],
  [['a(b)c/def'], 'a(b)c/def', true], [['a(b)c/def'], 'a(b)c/xyz', false], [['a.|)$(}+{bc'], 'a.|)$(}+{bc', true],
  [['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true], [['dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true], [['a\\*b'], 'a*b', true],
  [['**', '!util/docker/web'], 'util/docker/web/foo', false], [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true], [['**', '!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
  [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false], [['*'], 'fileutils.go', true], [['*.go'], 'fileutils.go', true],
  [['!fileutils.go', '*.go'], 'fileutils.go', true], [['docs', '!docs/README.md'], 'docs/README.md', false], [['docs/', '!docs/README.md'], 'docs/README.md', false],
  [['docs/*', '!docs/README.md'], 'docs/README.md', false], [['*.go', '!fileutils.go'], 'fileutils.go', false], [['*.go'], '.', false],
  [[], 'any/path/there', false], [['docs', '  !docs/README.md  '], 'docs/README.md', false], [['a*'], 'ab/c', true],
  [['a*/b'], 'a/c/b', false], [['a*b*c*d*e*/f'], 'axbxcxdxe/xxx/f', false], [['a?b'], 'a/b', false],
  [['a*b'], 'a/b', false], [['[\\]a]'], ']', true], [['[\\-x]'], '-', true],
  [['a[^a][^a][^a]b'], 'a☺b', false], [['*[a-ζ]'], 'A', false], [['*/'], 'a', true],
  [['*/'], 'a/b', true], [['*/*'], 'a', false], [['*/*'], 'a/b/c', true],
  [['./foo'], 'foo/bar', true], [['foo/../bar'], 'bar', true], [['.'], 'a', false],
  [['/foo'], 'foo', false], [['**/*.go'], 'a/b/c.go', true], [['*.go'], 'a/b.go', false],
  [['a/**/b'], 'a/b', true], [['a/**/b'], 'a/x/y/b', true], [['a/**/b'], 'a/xb', false],
  [['**file'], 'dir/myfile', true], [['**.txt'], 'a/b.txt', true], [['foo**'], 'foobar/baz', true],
  [['foo**'], 'fo', false], [['a[^x]b'], 'a/b', true], [['[a-c]/d'], 'b/d/e', true],
  [['\\[x]'], '[x]', true], [['**/node_modules'], 'x/node_modules/y', true], [['*', '!a'], 'a/b', false],
  [['*', '!a'], 'b/c', true], [['a', '!a/b', 'a/b/c'], 'a/b/c', true], [['a', '!a/b', 'a/b/c'], 'a/b/d', false],
  [['a', '!a/b', 'a/b/c'], 'a/c', true], [['**/*.md', '!README.md'], 'README.md', false], [['**/*.md', '!README.md'], 'docs/README.md', true],
  [['!a', 'a'], 'a', true], [['docs', '!docs/**/*.md'], 'docs/x/y.md', false], [['docs', '!docs/**/*.md'], 'docs/y.md', false],
  [['docs', '!docs/**/*.md'], 'docs/y.txt', true], [['a b'], 'a b', true], [['ä*'], 'äx/y', true],
  [['?'], '☺', true], [['[!a]'], '!', true], [['a]'], 'a]', true],
];

// [.dockerignore text, path, expected]
const IGNORE_FILE_CASES: readonly (readonly [string, string, Expected])[] = [
  ['# comment\nfoo\n', 'foo', true], ['# comment\nfoo\n', '# comment', false], [' # not a comment\n', '# not a comment', true],
  ['/foo\n', 'foo', true], ['/foo\n', 'foo/bar', true], ['foo/\n', 'foo/x', true],
  ['\uFEFFfoo', 'foo', true], ['\uFEFF#foo', '#foo', false], ['*\n! keep\n', 'keep', false],
  ['*\n! keep\n', 'other', true], ['a\r\n!a/b\r\n', 'a/b', false], ['a\r\n!a/b\r\n', 'a/c', true],
  ['  foo  \n', 'foo', true], ['!/\n', 'x', 'bad'], ['foo\n!\n', 'foo', 'bad'],
  ['x\n\n[\n', 'x', 'bad'], ['/\n', 'x', false], ['\tbar\t\n', 'bar/baz', true],
  ['*/\n!*/keep\n', 'a/keep', false], ['*/\n!*/keep\n', 'a/drop', true], ['node_modules\n**/*.log\n!important.log\n', 'src/debug.log', true],
  ['node_modules\n**/*.log\n!important.log\n', 'important.log', false], ['node_modules\n**/*.log\n!important.log\n', 'node_modules/x/y.js', true],
];

describe('IgnoreMatcher: patternmatcher MatchesOrParentMatches', () => {
  test('pattern lists', () => {
    let ran = 0;
    for (const [patterns, path, expected] of IGNORE_CASES) {
      const what = `${JSON.stringify(patterns)} on ${JSON.stringify(path)}`;
      if (expected === 'bad') {
        assert.throws(() => matcherFor(patterns), patternError(''), what);
      } else {
        assert.equal(matcherFor(patterns).matches(path), expected, what);
      }
      ran++;
    }
    assert.equal(ran, 126);
  });

  test('ignore files', () => {
    let ran = 0;
    for (const [text, path, expected] of IGNORE_FILE_CASES) {
      const what = `${JSON.stringify(text)} on ${JSON.stringify(path)}`;
      const read = () => new IgnoreMatcher({ patterns: parseIgnoreFile({ text, file: '.dockerignore' }) });
      if (expected === 'bad') {
        assert.throws(read, patternError(''), what);
      } else {
        assert.equal(read().matches(path), expected, what);
      }
      ran++;
    }
    assert.equal(ran, 23);
  });

  test('the context root is never excluded; paths are cleaned first', () => {
    const all = matcherFor(['**', '*']);
    for (const root of ['', '.', './', '/']) assert.equal(all.matches(root), false, JSON.stringify(root));
    const docs = matcherFor(['docs']);
    for (const path of ['docs', './docs', 'docs/', '/docs/x', 'a/../docs/y']) assert.equal(docs.matches(path), true, path);
    assert.equal(docs.matches('docsx'), false);
  });

  test('the empty matcher excludes nothing', () => {
    assert.equal(IgnoreMatcher.empty.isEmpty, true);
    assert.equal(IgnoreMatcher.empty.matches('a/b'), false);
    assert.equal(IgnoreMatcher.empty.mayIncludeChildren('a'), false);
    assert.equal(matcherFor(['', '   ']).isEmpty, true);
  });

  test('a hand-made malformed pattern is refused with its location', () => {
    assert.throws(
      () => new IgnoreMatcher({ patterns: [{ pattern: 'a[', negated: false, location: { file: '.dockerignore', line: 9 } }] }),
      patternError('"a["', 9),
    );
    assert.throws(() => toIgnorePatterns({ patterns: ['ok', '!'] }), patternError('illegal exclusion pattern: "!"'));
  });
});

describe('parseIgnoreFile', () => {
  // [text, patterns as patternmatcher lists them (`!` for negated), line of each]
  const cases: readonly (readonly [string, readonly string[], readonly number[]])[] = [
    [
      'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n',
      ['test1', 'test2', 'a/file/here', 'lastfile', '!inverted/abs/path'],
      [1, 2, 3, 5, 7],
    ],
    [
      'foo/\n./bar\n!baz/./qux/\n/\n.\n..\n../x\na/../../b\n',
      ['foo', 'bar', '!baz/qux', '/', '.', '..', '../x', '../b'],
      [1, 2, 3, 4, 5, 6, 7, 8],
    ],
    [
      '\uFEFF# c\n  spaced  \t\n*/\n**/\n!**/keep/\n\\#literal\nwin\r\n',
      ['spaced', '*', '**', '!**/keep', '\\#literal', 'win'],
      [2, 3, 4, 5, 6, 7],
    ],
    ['', [], []],
    ['# only\n\n   \n', [], []],
    ['last-line-without-newline', ['last-line-without-newline'], [1]],
  ];
  test('the table', () => {
    let ran = 0;
    for (const [text, expected, lines] of cases) {
      const parsed = parseIgnoreFile({ text, file: '.dockerignore' });
      assert.deepEqual(parsed.map((p) => (p.negated ? `!${p.pattern}` : p.pattern)), expected, JSON.stringify(text));
      assert.deepEqual(parsed.map((p) => p.location?.line), lines, JSON.stringify(text));
      assert.ok(parsed.every((p) => p.location?.file === '.dockerignore'));
      ran++;
    }
    assert.equal(ran, 6);
  });

  // [text, line of the error, text the message includes]
  const errors: readonly (readonly [string, number, string])[] = [
    ['foo\n!\n', 2, 'illegal exclusion pattern: "!"'],
    ['a\n! \n', 2, 'illegal exclusion pattern: "!"'],
    ['!/\n', 1, 'illegal exclusion pattern: "!"'],
    ['x\n\n[\n', 3, 'syntax error in pattern "["'],
    ['# c\nok\nsrc/[z-a]\n', 3, 'is reversed'],
    ['a\\', 1, 'syntax error in pattern "a\\\\"'],
    ['ok\n!keep/[^\n', 2, 'syntax error in pattern "keep/[^"'],
  ];
  test('errors name file:line', () => {
    let ran = 0;
    for (const [text, line, message] of errors) {
      assert.throws(() => parseIgnoreFile({ text, file: '.dockerignore' }), patternError(message, line), JSON.stringify(text));
      ran++;
    }
    assert.equal(ran, 7);
  });
});

describe('IgnoreMatcher.mayIncludeChildren', () => {
  // [patterns, directory, expected]
  const cases: readonly (readonly [readonly string[], string, boolean])[] = [
    [['*'], 'a', false],
    [['a', '!a/b'], 'a', true],
    [['a', '!a/b'], 'c', false],
    [['a', '!b'], 'a', false],
    [['a', '!a'], 'a', false],
    [['a', '!**/keep'], 'a', true],
    [['a', '!**/keep'], 'a/b/c', true],
    [['a', '!*/keep'], 'a', true],
    [['a', '!*/keep'], 'a/b', false],
    [['a', '!a/*.go'], 'a', true],
    [['a', '!a/*.go'], 'a/sub', false],
    [['x', '!x/y**'], 'x', true],
    [['x', '!x/y**'], 'x/z', false],
    [['x', '!xy/z'], 'x', false],
    [['a/b', '!a/b/c'], 'a/b', true],
    [['a/b', '!a/b/c'], 'a/b/c', false],
    [['**', '!**/*.txt'], 'deep/dir', true],
    [['**', '![a-c]/x'], 'b', true],
    [['**', '![a-c]/x'], 'd', false],
    [['**', '!docs/**/*.md'], 'docs/x/y', true],
    [['**', '!docs/**/*.md'], 'src', false],
    [['**', '!x'], '.', true],
    [['**', '!x'], './x/', false],
  ];
  test('the table', () => {
    let ran = 0;
    for (const [patterns, dir, expected] of cases) {
      assert.equal(matcherFor(patterns).mayIncludeChildren(dir), expected, `${JSON.stringify(patterns)} below ${JSON.stringify(dir)}`);
      ran++;
    }
    assert.equal(ran, 23);
  });

  test('a walker that prunes with it keeps exactly what matches() keeps', () => {
    const tree = [
      'a', 'a/keep', 'a/drop', 'a/b', 'a/b/keep', 'a/b/x.go', 'docs', 'docs/r.md', 'docs/sub', 'docs/sub/s.md', 'docs/sub/s.txt',
      'node_modules', 'node_modules/m', 'node_modules/m/index.js', 'src', 'src/main.go', 'src/debug.log', 'README.md',
    ];
    const patterns = ['a', '!a/**/keep', 'docs', '!docs/**/*.md', 'node_modules', '**/*.log', '*.md', '!README.md'];
    const matcher = matcherFor(patterns);
    const everything = tree.filter((path) => !matcher.matches(path));
    const walked: string[] = [];
    const pruned: string[] = [];
    for (const path of tree) {
      if (pruned.some((dir) => path.startsWith(`${dir}/`))) continue;
      const isDir = tree.some((other) => other.startsWith(`${path}/`));
      if (matcher.matches(path)) {
        if (isDir && !matcher.mayIncludeChildren(path)) pruned.push(path);
        continue;
      }
      walked.push(path);
    }
    assert.deepEqual(walked, everything);
    assert.deepEqual(pruned, ['node_modules']);
    assert.deepEqual(everything, ['a/keep', 'a/b/keep', 'docs/r.md', 'docs/sub/s.md', 'src', 'src/main.go', 'README.md']);
  });
});

describe('ignoreFileFor', () => {
  const cases: readonly (readonly [string, readonly string[]])[] = [
    ['Dockerfile', ['Dockerfile.dockerignore', '.dockerignore']],
    ['build.Dockerfile', ['build.Dockerfile.dockerignore', '.dockerignore']],
    ['docker/app.Dockerfile', ['docker/app.Dockerfile.dockerignore', '.dockerignore']],
    ['./docker//Dockerfile', ['docker/Dockerfile.dockerignore', '.dockerignore']],
    ['/src/app/Dockerfile', ['/src/app/Dockerfile.dockerignore', '.dockerignore']],
    ['-', ['.dockerignore']],
  ];
  test('the table', () => {
    let ran = 0;
    for (const [dockerfile, expected] of cases) {
      assert.deepEqual(ignoreFileFor({ dockerfile }), expected, dockerfile);
      ran++;
    }
    assert.equal(ran, 6);
  });
});

describe('cleanPath: Go filepath.Clean', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['', '.'], ['.', '.'], ['/', '/'], ['a/b/', 'a/b'], ['./a', 'a'], ['a//b', 'a/b'], ['a/./b/.', 'a/b'],
    ['a/../..', '..'], ['../../x', '../../x'], ['/..', '/'], ['/a/./b/../c', '/a/c'], ['a/b/../../..', '..'], ['//a', '/a'],
  ];
  test('the table', () => {
    let ran = 0;
    for (const [path, expected] of cases) {
      assert.equal(cleanPath(path), expected, JSON.stringify(path));
      ran++;
    }
    assert.equal(ran, 13);
  });
});
