/**
 * The command of RUN, CMD, ENTRYPOINT and HEALTHCHECK CMD: exec form (a JSON array, argv as is)
 * or shell form (the words joined by single spaces, later run through SHELL).
 */
import type { Heredoc } from '../ast.js';
import type { CommandLine, InlineFile } from './types.js';

export function toInlineFile(heredoc: Heredoc): InlineFile {
  return { name: heredoc.name, content: heredoc.content, chomp: heredoc.chomp, expand: heredoc.expand };
}

export function toCommandLine(options: { args: readonly string[]; json: boolean; heredocs: readonly Heredoc[] }): CommandLine {
  const files = options.heredocs.map(toInlineFile);
  if (options.json) return { form: 'exec', args: [...options.args], files };
  return { form: 'shell', args: options.args.length === 0 ? [] : [options.args.join(' ')], files };
}
