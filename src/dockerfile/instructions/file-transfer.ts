/**
 * What COPY and ADD share: sources (paths, URLs, heredocs) and the destination, `--chown`,
 * `--chmod` (octal or symbolic), `--link`, `--exclude`.
 */
import { chompHeredocContent, parseHeredocWord } from '../heredoc.js';
import { assertChmod } from './chmod.js';
import type { ParsedFlags } from './flags.js';
import type { InstructionRequest } from './request.js';
import type { FileTransfer, InlineFile } from './types.js';

export function parseFileTransfer(request: InstructionRequest, flags: ParsedFlags): FileTransfer {
  if (request.args.length < 2) {
    request.fail(
      `${request.name} requires at least two arguments, but only one was provided. Destination could not be determined`,
      `write ${request.name} <source>... <destination>`,
    );
  }
  const destination = request.args[request.args.length - 1] as string;
  if (parseHeredocWord(destination) !== undefined) {
    request.fail(`${request.name} cannot accept a heredoc as a destination`, `write ${request.name} <<EOF <destination>`);
  }
  const bodies = new Map(request.node.heredocs.map((heredoc) => [heredoc.name, heredoc]));
  const sources: string[] = [];
  const inline: InlineFile[] = [];
  for (const source of request.args.slice(0, -1)) {
    const header = parseHeredocWord(source);
    if (header === undefined) {
      sources.push(source);
      continue;
    }
    const body = bodies.get(header.name)?.content ?? '';
    const content = header.chomp ? chompHeredocContent(body) : body;
    inline.push({ name: header.name, content, chomp: header.chomp, expand: header.expand });
  }
  const chown = flags.string('chown');
  const chmod = flags.string('chmod');
  if (chmod !== undefined && chmod !== '' && !chmod.includes('$')) assertChmod(chmod, request.location);
  return {
    sources,
    inline,
    destination,
    ...(chown === undefined || chown === '' ? {} : { chown }),
    ...(chmod === undefined || chmod === '' ? {} : { chmod }),
    link: flags.bool('link') ?? false,
    exclude: flags.strings('exclude'),
    json: request.node.json,
  };
}
