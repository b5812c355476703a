/**
 * Dockerfile text → syntax tree, with BuildKit's lexing rules: a UTF-8 BOM, CRLF, parser
 * directives, comments (also inside continuations), line continuations with the escape token,
 * empty continuation lines (a warning), heredoc bodies for RUN/COPY/ADD (also under ONBUILD).
 */
import { CaissonError } from '../errors.js';
import type { DockerfileAst, Heredoc, InstructionNode, ParserWarning } from './ast.js';
import { DirectiveScanner } from './directives.js';
import { heredocsFromLine } from './heredoc.js';
import { LineSyntaxError, parseLineArgs } from './line-parsers.js';
import { splitCommand } from './split-command.js';
import { trimLeadingSpace, trimNewline, trimSpace } from './text.js';

export interface ParseDockerfileOptions {
  /** The Dockerfile's content. */
  readonly text: string;
  /** The name used in messages; defaults to `Dockerfile`. */
  readonly file?: string;
}

type EscapeToken = '\\' | '`';

const HEREDOC_INSTRUCTIONS = new Set(['add', 'copy', 'run']);

/** Physical lines, each with its line ending (the last may have none). */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline + 1;
    lines.push(text.slice(start, end));
    start = end;
  }
  return lines;
}

/**
 * Removes a trailing continuation token (the escape token, then only spaces and tabs) unless it
 * is itself escaped; `ends` is false when the instruction goes on. A line that is only the token
 * continues too. (BuildKit: `([^\\])\\[ \t]*$|^\\[ \t]*$`.)
 */
function trimContinuation(text: string, escapeToken: EscapeToken): { text: string; ends: boolean } {
  let end = text.length;
  while (end > 0 && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  if (end === 0 || text[end - 1] !== escapeToken) return { text, ends: true };
  if (end === 1) return { text: '', ends: false };
  if (text[end - 2] === escapeToken) return { text, ends: true };
  return { text: text.slice(0, end - 1), ends: false };
}

function canContainHeredoc(node: InstructionNode): boolean {
  const target = node.command.toLowerCase() === 'onbuild' && node.trigger !== undefined ? node.trigger : node;
  return HEREDOC_INSTRUCTIONS.has(target.command.toLowerCase()) && !target.json;
}

/** Parses a Dockerfile into its syntax tree. Throws `CaissonError` (ERR_DOCKERFILE_SYNTAX). */
export function parseDockerfile(options: ParseDockerfileOptions): DockerfileAst {
  const file = options.file ?? 'Dockerfile';
  const fail = (message: string, start: number, end = start, hint?: string): never => {
    throw new CaissonError({
      code: 'ERR_DOCKERFILE_SYNTAX',
      message,
      location: { file, line: Math.max(start, 1), endLine: Math.max(end, start, 1) },
      ...(hint === undefined ? {} : { hint }),
    });
  };
  if (options.text.length === 0) {
    fail('the Dockerfile is empty', 1, 1, 'start it with a FROM instruction');
  }

  const lines = splitLines(options.text.startsWith('\uFEFF') ? options.text.slice(1) : options.text);
  const directives = new DirectiveScanner(file);
  let escapeToken: EscapeToken = '\\';
  const instructions: InstructionNode[] = [];
  const warnings: ParserWarning[] = [];
  let comments: string[] = [];
  let index = 0; // next physical line to read; also the number of lines read so far

  /**
   * A physical line with its newline (and, for the first line of an instruction, its leading
   * space) trimmed; comments become empty text. Directives are noted on the way.
   */
  const processLine = (raw: string, stripLeft: boolean): { text: string; comment: boolean; directive: boolean } => {
    const trimmed = trimNewline(raw);
    const stripped = trimLeadingSpace(trimmed);
    const text = stripLeft ? stripped : trimmed;
    const directive = directives.scan(text, index + 1);
    if (directive?.name === 'escape') {
      if (directive.value !== '\\' && directive.value !== '`') {
        fail(`invalid escape token '${directive.value}' does not match \` or \\`, index + 1, index + 1, 'use # escape=\\ or # escape=`');
      }
      escapeToken = directive.value as EscapeToken;
    }
    const comment = stripped.startsWith('#');
    return { text: comment ? '' : text, comment, directive: directive !== undefined };
  };

  const parseNode = (line: string, nodeComments: string[], start: number, end: number): InstructionNode => {
    try {
      const split = splitCommand(line, escapeToken);
      const parsed = parseLineArgs(split.command, split.rest, {
        escapeToken,
        parseTrigger: (rest) => parseNode(rest, [], start, end),
      });
      return {
        command: split.command,
        flags: split.flags,
        args: parsed.args,
        ...(parsed.trigger === undefined ? {} : { trigger: parsed.trigger }),
        json: parsed.json,
        heredocs: [],
        original: line,
        range: { start, end },
        comments: nodeComments,
      };
    } catch (error) {
      if (error instanceof LineSyntaxError) return fail(error.message, start, end, error.hint);
      throw error;
    }
  };

  while (index < lines.length) {
    const first = processLine(lines[index] as string, true);
    if (first.comment && !first.directive) {
      const comment = trimSpace(trimLeadingSpace(lines[index] as string).slice(1));
      if (comment === '') comments = [];
      else comments.push(comment);
    }
    index++;
    const startLine = index;
    let part = trimContinuation(first.text, escapeToken);
    if (part.ends && part.text.length === 0) continue;

    let line = part.text;
    let sawEmptyContinuation = false;
    while (!part.ends && index < lines.length) {
      const processed = processLine(lines[index] as string, false);
      index++;
      if (processed.comment) continue;
      if (trimLeadingSpace(processed.text).length === 0) {
        sawEmptyContinuation = true;
        continue;
      }
      part = trimContinuation(processed.text, escapeToken);
      line += part.text;
    }
    if (sawEmptyContinuation) {
      warnings.push({ rule: 'NoEmptyContinuation', message: `Empty continuation line found in: ${line}`, line: index });
    }

    const node = parseNode(line, comments, startLine, index);
    const heredocs: Heredoc[] = [];
    if (canContainHeredoc(node) && line.includes('<<')) {
      let headers;
      try {
        headers = heredocsFromLine(line);
      } catch (error) {
        return fail(`invalid heredoc: ${(error as Error).message}`, startLine, index);
      }
      for (const header of headers) {
        let content = '';
        let terminated = false;
        while (index < lines.length) {
          const bodyLine = lines[index] as string;
          index++;
          let candidate = trimNewline(bodyLine);
          if (header.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === header.name) {
            terminated = true;
            break;
          }
          content += bodyLine;
        }
        if (!terminated) {
          fail('unterminated heredoc', startLine, index, `end the here-document with a line that is exactly ${header.name}`);
        }
        heredocs.push({ ...header, content });
      }
    }
    instructions.push({ ...node, heredocs, range: { start: startLine, end: index } });
    comments = [];
  }

  if (instructions.length === 0) {
    fail('file with no instructions', index, index, 'a Dockerfile needs at least a FROM instruction');
  }
  return { file, escapeToken, directives: directives.directives, instructions, warnings };
}
