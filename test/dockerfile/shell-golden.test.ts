// Golden runners over BuildKit's own shell-lexer corpora (frontend/dockerfile/shell/envVarTest
// and wordsTest, kept in test/golden/buildkit/shell), run the
// way BuildKit's lex_test.go runs them. Each runner asserts how many cases it ran, so a corpus
// that silently shrinks fails.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { isCaissonError } from '../../src/errors.js';
import { envFromList, expandWord, expandWords } from '../../src/dockerfile/shell/index.js';
import type { ShellLexOptions } from '../../src/dockerfile/shell/index.js';
import { buildkitCorpus } from '../support/paths.js';

const CORPUS = join(buildkitCorpus(), 'shell');

/** Lines as Go's bufio.Scanner gives them: split on \n, a trailing \r dropped, no final empty line. */
function readLines(name: string): string[] {
  const lines = readFileSync(join(CORPUS, name), 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

/** Go's strings.TrimSpace (Unicode white space). */
function goTrimSpace(text: string): string {
  return text.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
}

function describeError(error: unknown): string {
  if (isCaissonError(error)) return `${error.code}: ${error.message}`;
  return String(error);
}

test('envVarTest: ProcessWord over every A and U row', () => {
  const env = envFromList(['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL=']);
  const options: ShellLexOptions = { escapeToken: '\\' };
  const failures: string[] = [];
  let ran = 0;
  readLines('envVarTest').forEach((raw, index) => {
    if (raw.startsWith('#')) return;
    const line = goTrimSpace(raw);
    if (line === '') return;
    const fields = line.split('|');
    assert.equal(fields.length, 3, `envVarTest:${index + 1} needs exactly three fields`);
    const [platform, source, expected] = fields.map(goTrimSpace) as [string, string, string];
    assert.ok(['A', 'U', 'W'].includes(platform), `envVarTest:${index + 1}: bad platform tag ${platform}`);
    if (platform === 'W') return;
    ran++;
    const where = `envVarTest:${index + 1} ${JSON.stringify(source)}`;
    let actual: string;
    try {
      actual = expandWord(source, env, options).result;
    } catch (error) {
      const ok = expected === 'error' && isCaissonError(error) && error.code === 'ERR_DOCKERFILE_EXPANSION';
      if (!ok) failures.push(`${where}: expected ${JSON.stringify(expected)}, threw ${describeError(error)}`);
      return;
    }
    if (expected === 'error') failures.push(`${where}: expected an error, got ${JSON.stringify(actual)}`);
    else if (actual !== expected) failures.push(`${where}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  });
  assert.deepEqual(failures, []);
  assert.equal(ran, 228, 'envVarTest A/U row count');
});

interface WordsCase {
  readonly line: number;
  readonly word: string;
  readonly env: readonly string[];
  /** The expected words as written in the corpus (split on ','; `error` for a failure). */
  readonly expected: readonly string[];
}

/** wordsTest's cases, with the ENV lines before each accumulated into its environment. */
function wordsCases(): WordsCase[] {
  const cases: WordsCase[] = [];
  const env: string[] = [];
  readLines('wordsTest').forEach((line, index) => {
    if (line.startsWith('#')) return;
    if (line.startsWith('ENV ')) {
      env.push(line.slice(3).replace(/^ +/, ''));
      return;
    }
    const fields = line.split('|');
    assert.equal(fields.length, 2, `wordsTest:${index + 1} needs exactly one |`);
    const [word, expected] = fields as [string, string];
    cases.push({ line: index + 1, word: goTrimSpace(word), env: [...env], expected: expected.replace(/^ +/, '').split(',') });
  });
  return cases;
}

/** ProcessWords, with any failure reported as the one word `error`, as lex_test.go does. */
function processWords(word: string, env: readonly string[], options: ShellLexOptions): string[] {
  try {
    return expandWords(word, envFromList(env), options);
  } catch (error) {
    if (isCaissonError(error) && error.code === 'ERR_DOCKERFILE_EXPANSION') return ['error'];
    throw error;
  }
}

test('wordsTest: ProcessWords, normal mode, against the corpus', () => {
  const failures: string[] = [];
  let ran = 0;
  for (const c of wordsCases()) {
    ran++;
    const actual = processWords(c.word, c.env, { escapeToken: '\\' });
    if (JSON.stringify(actual) !== JSON.stringify(c.expected)) {
      failures.push(`wordsTest:${c.line} ${JSON.stringify(c.word)}: expected ${JSON.stringify(c.expected)}, got ${JSON.stringify(actual)}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.equal(ran, 24, 'wordsTest case count (normal mode)');
});

/**
 * lex_test.go also loops over a RawQuotes+SkipUnsetEnv mode, but it reuses the file it already
 * read to the end, so that mode compares nothing in BuildKit (and the corpus's expectations are
 * for normal mode only). These are BuildKit's real results for each corpus line in that mode,
 * obtained by running its lexer; they differ from the corpus where quotes are kept.
 */
const RAW_QUOTES_SKIP_UNSET: readonly (readonly [string, readonly string[]])[] = [
  ['hello', ['hello']],
  ['hello${hi}bye', ['hello${hi}bye']],
  ['hello${hi}bye', ['hellohibye']],
  ['hello${space}bye', ['helloabc', 'defbye']],
  ['hello"${space}"bye', ['hello"abc  def"bye']],
  ['hello "${space}"bye', ['hello', '"abc  def"bye']],
  ['hello${leading}def', ['hello', 'ab', 'cdef']],
  ['hello"${leading}" def', ['hello"  ab c"', 'def']],
  ['hello"${leading}"', ['hello"  ab c"']],
  ['hello${leading}', ['hello', 'ab', 'c']],
  ['hello${trailing}', ['helloab', 'c']],
  ['hello${trailing}d', ['helloab', 'c', 'd']],
  ['hello"${trailing}"d', ['hello"ab c   "d']],
  ['hel"lo${trailing}"', ['hel"loab c   "']],
  ['hello" there  "', ['hello" there  "']],
  ['hello there', ['hello', 'there']],
  ['hello\\ there', ['hello there']],
  ['hello" there', ['error']],
  ['hello\\" there', ['hello"', 'there']],
  ['hello"\\\\there"', ['hello"\\there"']],
  ['hello"\\there"', ['hello"\\there"']],
  ["hello'\\\\there'", ["hello'\\\\there'"]],
  ["hello'\\there'", ["hello'\\there'"]],
  ["hello'$there'", ["hello'$there'"]],
];

test('wordsTest: ProcessWords, RawQuotes + SkipUnsetEnv mode, against BuildKit results', () => {
  const cases = wordsCases();
  assert.equal(cases.length, RAW_QUOTES_SKIP_UNSET.length, 'one BuildKit result per corpus line');
  const failures: string[] = [];
  let ran = 0;
  const options: ShellLexOptions = { escapeToken: '\\', rawQuotes: true, skipUnsetEnv: true };
  cases.forEach((c, index) => {
    ran++;
    const [word, expected] = RAW_QUOTES_SKIP_UNSET[index] as readonly [string, readonly string[]];
    assert.equal(c.word, word, `wordsTest:${c.line}: the corpus line changed`);
    const actual = processWords(c.word, c.env, options);
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      failures.push(`wordsTest:${c.line} ${JSON.stringify(c.word)}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    }
  });
  assert.deepEqual(failures, []);
  assert.equal(ran, 24, 'wordsTest case count (RawQuotes + SkipUnsetEnv mode)');
});
