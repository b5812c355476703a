// The lexer and parser: continuations, directives, comments, CRLF, BOM, heredocs, and the
// errors with their lines.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { dumpDockerfile, parseDockerfile, type DockerfileAst } from '../../src/dockerfile/index.js';

function parse(text: string): DockerfileAst {
  return parseDockerfile({ text, file: 'Dockerfile' });
}

function dump(text: string): string {
  return dumpDockerfile(parse(text));
}

function parseError(text: string): CaissonError {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof CaissonError, `expected a CaissonError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a parse error');
}

describe('line continuations', () => {
  test('backslash joins lines and keeps the text before it', () => {
    assert.equal(dump('FROM a\nRUN echo a \\\n  b\n'), '(from "a")\n(run "echo a   b")\n');
  });

  test('the escape directive makes backtick the continuation token', () => {
    const ast = parse('# escape=`\nFROM a\nRUN echo a `\n  b\nCOPY c:\\x d\n');
    assert.equal(ast.escapeToken, '`');
    assert.equal(dumpDockerfile(ast), '(from "a")\n(run "echo a   b")\n(copy "c:\\\\x" "d")\n');
  });

  test('comment lines inside a continuation are dropped, even ending in a backslash', () => {
    assert.equal(dump('FROM a\nRUN echo a \\\n# a comment \\\n  b\n'), '(from "a")\n(run "echo a   b")\n');
  });

  test('an empty continuation line is skipped with a NoEmptyContinuation warning', () => {
    const ast = parse('FROM a\nRUN echo a \\\n\n  b\n');
    assert.equal(dumpDockerfile(ast), '(from "a")\n(run "echo a   b")\n');
    assert.deepEqual(ast.warnings, [{ rule: 'NoEmptyContinuation', message: 'Empty continuation line found in: RUN echo a   b', line: 4 }]);
    assert.deepEqual(ast.instructions[1]?.range, { start: 2, end: 4 });
  });

  test('a continuation at the end of the file ends the instruction', () => {
    assert.equal(dump('FROM a\nRUN echo a \\'), '(from "a")\n(run "echo a")\n');
  });

  test('an escaped escape token is not a continuation', () => {
    assert.equal(dump('FROM a\nRUN echo a\\\\\nRUN b\n'), '(from "a")\n(run "echo a\\\\\\\\")\n(run "b")\n');
  });
});

describe('line endings and encodings', () => {
  test('CRLF line endings', () => {
    const ast = parse('FROM a\r\nRUN echo a \\\r\n  b\r\nLABEL x=y\r\n');
    assert.equal(dumpDockerfile(ast), '(from "a")\n(run "echo a   b")\n(label "x" "y" "=")\n');
    assert.deepEqual(ast.instructions[2]?.range, { start: 4, end: 4 });
  });

  test('a UTF-8 byte order mark is ignored', () => {
    assert.equal(dump('\uFEFF# escape=`\nFROM a\n'), '(from "a")\n');
    assert.equal(parse('\uFEFF# escape=`\nFROM a\n').escapeToken, '`');
  });

  test('leading whitespace; comments since the last instruction or empty comment', () => {
    const ast = parse('# about a\n\n  # the base\n  FROM a\n#\n# run it\nRUN x\n');
    assert.deepEqual(ast.instructions[0]?.comments, ['about a', 'the base']);
    assert.deepEqual(ast.instructions[1]?.comments, ['run it']);
    assert.deepEqual(ast.instructions[0]?.range, { start: 4, end: 4 });
  });
});

describe('parser directives', () => {
  test('syntax, escape and check, case-insensitive, spaces around =', () => {
    const ast = parse('# Syntax = docker/dockerfile:1.7\n#ESCAPE=`\n# check=skip=JSONArgsRecommended;error=true\nFROM a\n');
    assert.deepEqual(ast.directives, [
      { name: 'syntax', value: 'docker/dockerfile:1.7', line: 1 },
      { name: 'escape', value: '`', line: 2 },
      { name: 'check', value: 'skip=JSONArgsRecommended;error=true', line: 3 },
    ]);
    assert.deepEqual(ast.instructions[0]?.comments, []);
  });

  test('directives stop at the first other comment, empty line or instruction', () => {
    assert.equal(parse('# hello\n# escape=`\nFROM a\n').escapeToken, '\\');
    assert.equal(parse('\n# escape=`\nFROM a\n').escapeToken, '\\');
    assert.equal(parse('FROM a\n# escape=`\nRUN b\n').escapeToken, '\\');
    assert.deepEqual(parse('# unknown=x\n# escape=`\nFROM a\n').directives, []);
  });

  test('a directive given twice is an error naming the line', () => {
    const error = parseError('# escape=`\n# escape=\\\nFROM a\n');
    assert.equal(error.code, 'ERR_DOCKERFILE_SYNTAX');
    assert.equal(error.message, 'only one escape parser directive can be used');
    assert.equal(error.location?.line, 2);
  });

  test('an invalid escape token is an error', () => {
    const error = parseError('# escape=x\nFROM a\n');
    assert.equal(error.message, "invalid escape token 'x' does not match ` or \\");
    assert.equal(error.location?.line, 1);
    assert.ok(error.hint?.includes('escape=`'));
  });
});

describe('heredocs', () => {
  test('RUN <<EOF keeps the body with its newlines', () => {
    const ast = parse('FROM a\nRUN <<EOF\necho hello\necho world\nEOF\nRUN done\n');
    const run = ast.instructions[1];
    assert.deepEqual(run?.heredocs, [{ name: 'EOF', fileDescriptor: 0, expand: true, chomp: false, content: 'echo hello\necho world\n' }]);
    assert.deepEqual(run?.range, { start: 2, end: 5 });
    assert.equal(dumpDockerfile(ast), '(from "a")\n(run "<<EOF")\n(run "done")\n');
  });

  test('<<-EOF strips tabs from the delimiter line; quoted delimiters disable expansion', () => {
    const ast = parse('FROM a\nRUN <<-"EOT" cat\n\tx $y\n\tEOT\nCOPY <<\'A\' <<B /dst/\na\nA\nb\nB\n');
    assert.deepEqual(ast.instructions[1]?.heredocs, [{ name: 'EOT', fileDescriptor: 0, expand: false, chomp: true, content: '\tx $y\n' }]);
    assert.deepEqual(ast.instructions[2]?.heredocs, [
      { name: 'A', fileDescriptor: 0, expand: false, chomp: false, content: 'a\n' },
      { name: 'B', fileDescriptor: 0, expand: true, chomp: false, content: 'b\n' },
    ]);
  });

  test('a file descriptor and partial quoting', () => {
    const ast = parse('FROM a\nRUN 3<<E"O"F cat <&3\nbody\nEOF\n');
    assert.deepEqual(ast.instructions[1]?.heredocs, [{ name: 'EOF', fileDescriptor: 3, expand: false, chomp: false, content: 'body\n' }]);
  });

  test('heredocs under ONBUILD, not on other instructions or the JSON form', () => {
    assert.equal(parse('FROM a\nONBUILD RUN <<EOF\nx\nEOF\n').instructions[1]?.heredocs.length, 1);
    assert.equal(dump('FROM a\nLABEL a=<<EOF\nRUN b\n'), '(from "a")\n(label "a" "<<EOF" "=")\n(run "b")\n');
    assert.equal(dump('FROM a\nRUN ["cat", "<<EOF"]\nRUN b\n'), '(from "a")\n(run "cat" "<<EOF")\n(run "b")\n');
  });

  test('an unterminated heredoc is an error with the instruction lines', () => {
    const error = parseError('FROM a\nRUN <<EOF\necho\n');
    assert.equal(error.message, 'unterminated heredoc');
    assert.equal(error.location?.line, 2);
    assert.equal(error.location?.endLine, 3);
    assert.ok(error.hint?.includes('EOF'));
  });
});

describe('argument forms', () => {
  test('invalid JSON falls back to the shell form', () => {
    assert.equal(dump('FROM a\nCMD ["a", "b"\nCMD [\'a\']\n'), '(from "a")\n(cmd "[\\"a\\", \\"b\\"")\n(cmd "[\'a\']")\n');
  });

  test('a JSON array of non-strings is an error', () => {
    const error = parseError('FROM a\nCMD ["a", 1]\n');
    assert.equal(error.message, 'when using JSON array syntax, arrays must be comprised of strings only');
    assert.equal(error.location?.line, 2);
  });

  test('ENV without a value is an error', () => {
    const error = parseError('FROM a\nENV name\n');
    assert.equal(error.message, 'ENV must have two arguments');
    assert.equal(error.location?.line, 2);
    assert.equal(error.hint, 'write ENV name=<value>');
  });

  test('a word without = among key=value pairs is an error', () => {
    assert.equal(parseError('FROM a\nLABEL a=b c\n').message, 'Syntax error - can\'t find = in "c". Must be of the form: name=value');
  });

  test('flags are split before the arguments; -- ends them', () => {
    const node = parse('FROM a\nCOPY --from=b --chown="u g" -- --x /y\n').instructions[1];
    assert.deepEqual(node?.flags, ['--from=b', '--chown=u g']);
    assert.deepEqual(node?.args, ['--x', '/y']);
  });

  test('unknown instructions keep one empty argument (as BuildKit dumps them)', () => {
    assert.equal(dump('FROM a\nRUNN x\n'), '(from "a")\n(runn "")\n');
  });
});

describe('empty input', () => {
  test('an empty file', () => {
    const error = parseError('');
    assert.equal(error.code, 'ERR_DOCKERFILE_SYNTAX');
    assert.equal(error.message, 'the Dockerfile is empty');
  });

  test('only comments and blank lines', () => {
    const error = parseError('# nothing\n\n# here\n');
    assert.equal(error.message, 'file with no instructions');
    assert.equal(error.location?.file, 'Dockerfile');
  });
});
