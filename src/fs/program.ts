/**
 * Runs one of the system programs the filesystem layer relies on (mknod, mount via unshare,
 * getfattr, setfattr) to completion, with its output collected. Rejects only when the program
 * cannot be started; a non-zero exit is the caller's to judge.
 */

export interface ProgramResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runProgram(options: { readonly command: string; readonly args: readonly string[]; readonly input?: string }): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = process.getBuiltinModule('node:child_process').spawn(options.command, options.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
