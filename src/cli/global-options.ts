/** Options every command accepts. */
import { LOG_LEVELS } from '../log.js';
import type { OptionSpec } from './spec.js';

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'verbosity', short: 'v', type: 'string', choices: LOG_LEVELS, default: 'info', placeholder: '<level>', describe: `log level: ${LOG_LEVELS.join(', ')}` },
  { name: 'log-format', type: 'string', choices: ['text', 'color', 'json'], default: 'text', describe: 'format of the logs on stderr' },
  { name: 'help', short: 'h', type: 'boolean', describe: 'show help' },
  { name: 'version', type: 'boolean', describe: "print caisson's version" },
];
