/**
 * log: the logger, a leaf every folder may import. Human progress on stderr (text or color) or
 * one JSON object per line (`--log-format json`), filtered by `--verbosity`. Created once per
 * command by the CLI and passed down; no global logger. Imports nothing.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'panic'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'text' | 'color' | 'json';

export interface Logger {
  log(level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void;
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export interface LoggerOptions {
  /** Where lines go (stderr in the CLI). */
  readonly write: (line: string) => void;
  readonly format?: LogFormat;
  /** The least severe level printed; default `info`. */
  readonly level?: LogLevel;
  /** Timestamps for json lines; injected so tests are stable. */
  readonly now?: () => Date;
}

const COLORS: Readonly<Partial<Record<LogLevel, string>>> = { debug: '\u001b[2m', warn: '\u001b[33m', error: '\u001b[31m', fatal: '\u001b[31m' };

export function createLogger(options: LoggerOptions): Logger {
  const format = options.format ?? 'text';
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
  const now = options.now ?? (() => new Date());
  const log = (level: LogLevel, message: string, fields: Readonly<Record<string, unknown>> = {}): void => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    if (format === 'json') {
      options.write(`${JSON.stringify({ time: now().toISOString(), level, msg: message, ...fields })}\n`);
      return;
    }
    const prefix = level === 'info' ? '' : `${level}: `;
    const color = format === 'color' ? COLORS[level] : undefined;
    options.write(color === undefined ? `${prefix}${message}\n` : `${color}${prefix}${message}\u001b[0m\n`);
  };
  return {
    log,
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
  };
}
