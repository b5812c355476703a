/** `--help` text, rendered from the command specifications. */
import type { CommandSpec, OptionSpec, PositionalSpec } from './spec.js';

const INTRO = 'caisson: build OCI images from Dockerfiles without a daemon or privileges';

function optionLines(options: readonly OptionSpec[]): string[] {
  const rows = options.filter((option) => option.unsupported === undefined).map((option) => {
    const value = option.type === 'string' ? ` ${option.placeholder ?? (option.choices === undefined ? '<value>' : option.choices.join('|'))}` : '';
    const aliases = (option.aliases ?? []).map((alias) => (alias.length === 1 ? `-${alias}` : `--${alias}`)).join(', ');
    const names = `${option.short === undefined ? '    ' : `-${option.short}, `}--${option.name}${aliases === '' ? '' : `, ${aliases}`}${value}`;
    const extras = [option.multiple === true ? 'repeatable' : '', option.default === undefined ? '' : `default: ${option.default}`].filter((e) => e !== '');
    return [names, `${option.describe}${extras.length === 0 ? '' : ` (${extras.join('; ')})`}`] as const;
  });
  const width = Math.max(...rows.map(([names]) => names.length));
  return rows.map(([names, describe]) => `  ${names.padEnd(width)}  ${describe}`);
}

/** The kaniko flags a command refuses, listed so users see them before trying. */
function unsupportedLines(options: readonly OptionSpec[]): string[] {
  return options.filter((option) => option.unsupported !== undefined).map((option) => `  --${option.name}: ${option.unsupported}`);
}

function positionalLines(positionals: readonly PositionalSpec[]): string[] {
  const width = Math.max(...positionals.map((positional) => positional.name.length));
  return positionals.map((positional) => `  ${positional.name.padEnd(width)}  ${positional.describe}`);
}

function usageLine(command: CommandSpec): string {
  const positionals = (command.positionals ?? []).map((positional) => {
    const name = `${positional.name}${positional.variadic === true ? '...' : ''}`;
    return positional.required === true ? ` <${name}>` : ` [${name}]`;
  });
  return `${command.name}${positionals.join('')}`;
}

export function renderHelp(options: { commands: readonly CommandSpec[]; global: readonly OptionSpec[]; command?: CommandSpec }): string {
  const { command } = options;
  if (command === undefined) {
    const width = Math.max(...options.commands.map((c) => usageLine(c).length));
    return [
      INTRO,
      '',
      'Usage: caisson <command> [options]',
      '',
      'Commands:',
      ...options.commands.map((c) => `  ${usageLine(c).padEnd(width)}  ${c.describe}`),
      '',
      'Global options:',
      ...optionLines(options.global),
      '',
      'Run "caisson <command> --help" for the options of a command.',
      '',
    ].join('\n');
  }
  return [
    `Usage: caisson ${usageLine(command)} [options]${command.rest === undefined ? '' : ` [-- ${command.rest.name}...]`}`,
    '',
    command.describe,
    ...(command.positionals === undefined && command.rest === undefined ? [] : ['', 'Arguments:', ...positionalLines([...(command.positionals ?? []), ...(command.rest === undefined ? [] : [{ ...command.rest, name: `-- ${command.rest.name}` }])])]),
    '',
    'Options:',
    ...optionLines(command.options),
    ...(unsupportedLines(command.options).length === 0 ? [] : ['', 'kaniko flags refused (giving one is an error):', ...unsupportedLines(command.options)]),
    '',
    'Global options:',
    ...optionLines(options.global),
    '',
  ].join('\n');
}
