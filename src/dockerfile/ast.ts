/**
 * The Dockerfile syntax tree: one node per instruction, as BuildKit's parser shapes it
 * (frontend/dockerfile/parser). Arguments are already split per instruction family (JSON arrays,
 * key=value pairs, whitespace lists) but nothing is expanded or validated yet.
 */

/** A here-document attached to a RUN, COPY or ADD line (`<<EOF`, `<<-EOF`, `<<"EOF"`). */
export interface Heredoc {
  /** The delimiter word with quotes removed. */
  readonly name: string;
  /** The file descriptor before `<<` (`3<<EOF`), 0 when absent. */
  readonly fileDescriptor: number;
  /** False when any part of the delimiter was quoted: the body is taken literally. */
  readonly expand: boolean;
  /** `<<-`: leading tabs are stripped from the body lines and the delimiter line. */
  readonly chomp: boolean;
  /** The body, every line with its line ending, without the delimiter line. */
  readonly content: string;
}

/** Lines of a node in the Dockerfile, 1-based and inclusive. */
export interface LineRange {
  readonly start: number;
  readonly end: number;
}

/** One instruction line (after joining continuations). */
export interface InstructionNode {
  /** The instruction keyword as written (`RUN`, `run`, `Copy`). */
  readonly command: string;
  /** Builder flags as written (`--from=build`), in order. */
  readonly flags: readonly string[];
  /** The arguments as BuildKit's line parsers split them. */
  readonly args: readonly string[];
  /** ONBUILD's trigger instruction. */
  readonly trigger?: InstructionNode;
  /** The arguments were a JSON array (exec form). */
  readonly json: boolean;
  readonly heredocs: readonly Heredoc[];
  /** The joined line, continuations removed, as the parser saw it. */
  readonly original: string;
  readonly range: LineRange;
  /** Comment lines directly above the instruction (without `#`). */
  readonly comments: readonly string[];
}

/** A parser directive from the top of the file (`# syntax=`, `# escape=`, `# check=`). */
export interface Directive {
  readonly name: 'syntax' | 'escape' | 'check';
  readonly value: string;
  readonly line: number;
}

/** A problem the parser noticed but BuildKit accepts (for now). */
export interface ParserWarning {
  readonly rule: 'NoEmptyContinuation';
  readonly message: string;
  readonly line: number;
}

export interface DockerfileAst {
  /** The file name used in messages (`Dockerfile`, `build/Dockerfile.prod`). */
  readonly file: string;
  readonly escapeToken: '\\' | '`';
  readonly directives: readonly Directive[];
  readonly instructions: readonly InstructionNode[];
  readonly warnings: readonly ParserWarning[];
}
