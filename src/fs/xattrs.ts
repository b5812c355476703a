/**
 * Extended attributes (`security.capability`, `user.*`, ACLs, overlay's markers). Node has no
 * xattr syscalls, so caisson drives Debian's `attr` tools, batched: one `getfattr` process dumps
 * a whole tree (or a list of paths), one `setfattr --restore` process applies a whole layer's
 * attributes. Neither follows symlinks. The dump format is attr's: `# file: <quoted path>` then
 * `name=0s<base64>` lines, names and paths quoted as `\ooo` octal escapes.
 *
 * A machine without the attr tools can still build: nothing then reads or sets an attribute
 * (reads find none; writes report every path as refused, which callers warn about). Only what
 * overlayfs writes (a RUN step's upperdir: opaque markers, capabilities) must be read, so RUN
 * refuses to start without them (exec/host.ts).
 */
import { relative } from 'node:path';
import { CaissonError } from '../errors.js';
import { runProgram, type ProgramResult } from './program.js';

/** Attributes by name, for one path. */
export type Xattrs = ReadonlyMap<string, Buffer>;

/** Overlayfs's own bookkeeping; never part of an image. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}

/** attr's quoting: backslash, `=` and anything but printable ASCII as `\ooo`. */
export function quoteXattrText(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (byte > 0x20 && byte < 0x7f && byte !== 0x5c && byte !== 0x3d) out += String.fromCharCode(byte);
    else out += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}

export function unquoteXattrText(text: string): string {
  if (!text.includes('\\')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const octal = text.slice(i + 1, i + 4);
    if (text[i] === '\\' && /^[0-7]{3}$/.test(octal)) {
      bytes.push(Number.parseInt(octal, 8));
      i += 3;
    } else {
      bytes.push(...Buffer.from(text[i] as string, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

interface ToolRun {
  readonly command: 'getfattr' | 'setfattr';
  readonly args: readonly string[];
  readonly input?: string;
}

/** Runs one attr tool; `undefined` when it is not installed. Per-file complaints on stderr are the caller's business. */
async function runAttrTool(run: ToolRun): Promise<ProgramResult | undefined> {
  try {
    return await runProgram({ command: run.command, args: run.args, ...(run.input === undefined ? {} : { input: run.input }) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Parses a getfattr dump into attributes by absolute path; overlay markers kept (callers decide). */
export function parseXattrDump(text: string): Map<string, Map<string, Buffer>> {
  const result = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      result.set(unquoteXattrText(line.slice('# file: '.length)), current);
      continue;
    }
    const equals = line.indexOf('=');
    if (current === undefined || equals <= 0) continue;
    const name = unquoteXattrText(line.slice(0, equals));
    const value = line.slice(equals + 1);
    current.set(name, value.startsWith('0s') ? Buffer.from(value.slice(2), 'base64') : Buffer.from(value.replace(/^"|"$/g, ''), 'utf8'));
  }
  return result;
}

/** Paths per getfattr call: keeps argv far below the kernel's limit. */
const PATHS_PER_CALL = 512;

/**
 * Every attribute under `root` (recursive, root included), keyed by path relative to `root`
 * (`''` for the root itself). Paths without attributes are absent.
 */
export async function readTreeXattrs(options: { readonly root: string }): Promise<Map<string, Xattrs>> {
  const run = await runAttrTool({ command: 'getfattr', args: ['--absolute-names', '-R', '-h', '-d', '-m', '-', '-e', 'base64', '--', options.root] });
  return relativeTo(options.root, parseXattrDump(run?.stdout ?? ''));
}

/** The attributes of each of `paths` (absolute); paths without any are absent. */
export async function readXattrs(options: { readonly paths: readonly string[] }): Promise<Map<string, Xattrs>> {
  const result = new Map<string, Xattrs>();
  for (let i = 0; i < options.paths.length; i += PATHS_PER_CALL) {
    const batch = options.paths.slice(i, i + PATHS_PER_CALL);
    const run = await runAttrTool({ command: 'getfattr', args: ['--absolute-names', '-h', '-d', '-m', '-', '-e', 'base64', '--', ...batch] });
    for (const [path, xattrs] of parseXattrDump(run?.stdout ?? '')) result.set(path, xattrs);
  }
  return result;
}

function relativeTo(root: string, byPath: Map<string, Map<string, Buffer>>): Map<string, Xattrs> {
  const result = new Map<string, Xattrs>();
  for (const [path, xattrs] of byPath) result.set(relative(root, path), xattrs);
  return result;
}

export interface XattrAssignment {
  /** Absolute path; symlinks get the attribute themselves. */
  readonly path: string;
  readonly xattrs: Xattrs;
}

/** A getfattr-format dump of `assignments`, as `setfattr --restore` reads it. */
export function formatXattrDump(assignments: readonly XattrAssignment[]): string {
  let text = '';
  for (const { path, xattrs } of assignments) {
    text += `# file: ${quoteXattrText(path)}\n`;
    for (const [name, value] of xattrs) text += `${quoteXattrText(name)}=0s${value.toString('base64')}\n`;
    text += '\n';
  }
  return text;
}

/**
 * Sets every attribute of `assignments` in one setfattr process. Resolves to the attributes the
 * kernel refused (unprivileged `trusted.*`, a filesystem without `user.*` on symlinks), each with
 * setfattr's complaint, or one complaint for all when setfattr is not installed; other failures throw.
 */
export async function writeXattrs(options: { readonly assignments: readonly XattrAssignment[]; readonly what: string }): Promise<readonly string[]> {
  if (options.assignments.length === 0) return [];
  const run = await runAttrTool({ command: 'setfattr', args: ['-h', '--restore=-'], input: formatXattrDump(options.assignments) });
  if (run === undefined) return [`setfattr is not installed (Debian: apt-get install attr): ${options.assignments.length} path(s) keep no extended attributes`];
  const complaints = run.stderr.split('\n').filter((line) => line.trim() !== '');
  if (run.code !== 0 && complaints.length === 0) throw new CaissonError({ code: 'ERR_LAYER_UNSUPPORTED', message: `${options.what}: setfattr failed with exit ${run.code}`, hint: 'Check that the target filesystem supports extended attributes.' });
  return complaints;
}
