/**
 * Test helper (never a test itself): runs caisson's CLI in-process with captured output.
 */
import { runCli } from '../../src/cli/index.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCaisson(argv: readonly string[], options: { readonly cwd: string; readonly env?: Readonly<Record<string, string>>; readonly stdin?: string; readonly stdinBytes?: Buffer; readonly tektonResultsDir?: string }): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: options.env ?? {},
    cwd: options.cwd,
    readStdin: async () => options.stdin ?? '',
    readStdinBytes: async () => options.stdinBytes ?? Buffer.from(options.stdin ?? ''),
    ...(options.tektonResultsDir === undefined ? {} : { tektonResultsDir: options.tektonResultsDir }),
  });
  return { code, stdout, stderr };
}
