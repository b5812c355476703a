/**
 * One running sandbox: the `unshare` child process, the set-up script's status lines (fd 3) and
 * operations (fd 0), the command's output (held back until the command starts, so set-up noise
 * never reaches the caller and still explains a failure), and killing the whole tree.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { encodeOp, type SetupOp } from './setup-script.js';

export interface SessionOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly onOutput?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
}

export interface SessionEnd {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A status line, or why there is none: the script reported `error ...`, or ended. */
export type StatusLine = { readonly kind: 'line'; readonly text: string } | { readonly kind: 'error'; readonly text: string } | { readonly kind: 'ended' };

/** Field 22 (start time) of /proc/<pid>/stat: tells a process from a later one with its pid. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The first child of `pid` (the namespace's init, before it said who it is). */
function firstChild(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0];
    return first === undefined || first === '' ? undefined : Number(first);
  } catch {
    return undefined;
  }
}

/**
 * util-linux unshare before 2.40 reports the SIGKILL of the namespace's init, which is how a
 * sandbox is killed, as "sigprocmask unblock failed" (util-linux#2614), in up to three writes
 * (its stderr is unbuffered). A killed session holds its stderr until the end, and drops that line,
 * which is not the command's output.
 */
const UNSHARE_COMPLAINT = /^unshare: sigprocmask unblock failed: [^\n]*\n?/gm;

export class Session {
  readonly #child: ChildProcess;
  readonly #onOutput: SessionOptions['onOutput'];
  readonly #lines: string[] = [];
  readonly #waiters: Array<() => void> = [];
  readonly #held: Array<{ readonly chunk: Buffer; readonly stream: 'stdout' | 'stderr' }> = [];
  readonly #ended: Promise<SessionEnd>;
  #partial = '';
  #statusClosed = false;
  #exited = false;
  #started = false;
  #killed = false;
  /** stderr since the kill, held until the end (see UNSHARE_COMPLAINT). */
  readonly #afterKill: Buffer[] = [];
  #init: { readonly pid: number; readonly start: string | undefined } | undefined;

  constructor(options: SessionOptions) {
    this.#onOutput = options.onOutput;
    this.#child = process.getBuiltinModule('node:child_process').spawn(options.command, options.args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    this.#ended = new Promise((resolve) => {
      this.#child.on('error', () => resolve({ code: null, signal: null }));
      this.#child.on('close', (code, signal) => {
        this.#releaseAfterKill();
        resolve({ code, signal });
      });
    });
    this.#child.on('exit', () => {
      this.#exited = true;
    });
    this.#child.stdout?.on('data', (chunk: Buffer) => this.#output(chunk, 'stdout'));
    this.#child.stderr?.on('data', (chunk: Buffer) => this.#output(chunk, 'stderr'));
    this.#child.stdin?.on('error', () => undefined);
    const status = this.#child.stdio[3] as Readable | null;
    const closed = (): void => {
      this.#statusClosed = true;
      this.#wake();
    };
    if (status === null) closed();
    status?.on('data', (chunk: Buffer) => this.#status(chunk.toString('utf8')));
    status?.on('error', closed);
    status?.on('close', closed);
  }

  /** The `unshare` process: its root is the sandbox's mount namespace. */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** Whether the command has been started. */
  get started(): boolean {
    return this.#started;
  }

  /** Output held back before the command started (set-up noise), as text. */
  get heldOutput(): string {
    return Buffer.concat(this.#held.map((entry) => entry.chunk)).toString('utf8');
  }

  /** The namespace's init (the script, then the command), by its host pid from `ready <pid>`. */
  setInit(pid: number): void {
    this.#init = { pid, start: startTime(pid) };
  }

  /** The next status line. */
  async next(): Promise<StatusLine> {
    while (this.#lines.length === 0 && !this.#statusClosed) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    const text = this.#lines.shift();
    if (text === undefined) return { kind: 'ended' };
    if (text.startsWith('error ')) return { kind: 'error', text: text.slice('error '.length) };
    if (text === 'run') this.#start();
    return { kind: 'line', text };
  }

  /** Sends operations to the script. */
  send(ops: readonly SetupOp[]): void {
    this.#child.stdin?.write(ops.map(encodeOp).join(''));
  }

  /** Kills the whole tree: the namespace's init (all its processes die with it), else `unshare`. */
  kill(): void {
    if (this.#exited) return;
    this.#killed = true;
    const init = this.#init ?? (() => {
      const pid = firstChild(this.pid);
      return pid === undefined ? undefined : { pid, start: startTime(pid) };
    })();
    try {
      if (init !== undefined && init.start !== undefined && startTime(init.pid) === init.start) {
        // unshare then reaps it and exits: by then the kernel has killed the whole pid namespace.
        process.kill(init.pid, 'SIGKILL');
        return;
      }
      this.#child.kill('SIGKILL');
    } catch {
      this.#child.kill('SIGKILL');
    }
  }

  /** Resolves when `unshare` has exited and every pipe is closed (all processes are gone). */
  wait(): Promise<SessionEnd> {
    this.#child.stdin?.end();
    return this.#ended;
  }

  #output(chunk: Buffer, stream: 'stdout' | 'stderr'): void {
    if (this.#killed && stream === 'stderr') this.#afterKill.push(chunk);
    else this.#deliver(chunk, stream);
  }

  #deliver(chunk: Buffer, stream: 'stdout' | 'stderr'): void {
    if (this.#started) this.#onOutput?.(chunk, stream);
    else this.#held.push({ chunk, stream });
  }

  #releaseAfterKill(): void {
    const text = Buffer.concat(this.#afterKill.splice(0)).toString('utf8').replace(UNSHARE_COMPLAINT, '');
    if (text !== '') this.#deliver(Buffer.from(text), 'stderr');
  }

  #start(): void {
    this.#started = true;
    for (const entry of this.#held.splice(0)) this.#onOutput?.(entry.chunk, entry.stream);
  }

  #status(text: string): void {
    const parts = (this.#partial + text).split('\n');
    this.#partial = parts.pop() ?? '';
    this.#lines.push(...parts);
    this.#wake();
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

/** The exit code a shell reports for a signal (128 + its number). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}
