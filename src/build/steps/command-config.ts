/** The argv CMD and ENTRYPOINT store: exec form as written, shell form through the stage's SHELL. */
import type { CommandLine } from '../../dockerfile/index.js';

export function commandArgv(options: { readonly command: CommandLine; readonly shell: readonly string[] }): string[] {
  const { command } = options;
  return command.form === 'exec' ? [...command.args] : [...options.shell, command.args[0] ?? ''];
}
