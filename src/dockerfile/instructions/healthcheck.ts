/**
 * HEALTHCHECK NONE | HEALTHCHECK [--interval --timeout --start-period --start-interval
 * --retries] CMD <command>
 */
import { toCommandLine } from './command-line.js';
import { FLAG_SPECS, parseFlags, type ParsedFlags } from './flags.js';
import type { InstructionRequest } from './request.js';
import type { HealthcheckInstruction } from './types.js';
import { parseGoDuration } from './units.js';

const MILLISECOND = 1e6;

function duration(request: InstructionRequest, flags: ParsedFlags, name: string): number {
  const text = flags.string(name);
  if (text === undefined || text === '') return 0;
  const value = parseGoDuration(text);
  if (value === undefined) request.fail(`invalid duration "${text}" for --${name}`, 'use Go durations such as 30s, 1m30s, 500ms');
  if (value !== 0 && value < MILLISECOND) request.fail(`Interval "${name}" cannot be less than 1ms`);
  return value;
}

export function parseHealthcheck(request: InstructionRequest): HealthcheckInstruction {
  request.requireArgs();
  const type = (request.args[0] as string).toUpperCase();
  const rest = request.args.slice(1);
  const flags = parseFlags(request, FLAG_SPECS.HEALTHCHECK);
  if (type === 'NONE') {
    if (rest.length > 0) request.fail('HEALTHCHECK NONE takes no arguments');
    if (flags.used.length > 0) request.fail('HEALTHCHECK NONE takes no flags', 'flags belong to HEALTHCHECK CMD');
    return { kind: 'healthcheck', ...request.base, health: { test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 } };
  }
  if (type !== 'CMD') request.fail(`Unknown type "${type}" in HEALTHCHECK (try CMD)`, 'write HEALTHCHECK CMD <command> or HEALTHCHECK NONE');
  const command = toCommandLine({ args: rest, json: request.node.json, heredocs: [] });
  if (command.args.length === 0) request.fail('Missing command after HEALTHCHECK CMD');
  const retriesText = flags.string('retries');
  let retries = 0;
  if (retriesText !== undefined && retriesText !== '') {
    if (!/^[+-]?\d+$/.test(retriesText) || Math.abs(Number(retriesText)) > 0x7fffffff) {
      request.fail(`invalid value "${retriesText}" for --retries`, 'give a whole number');
    }
    retries = Number(retriesText);
    if (retries < 0) request.fail(`--retries cannot be negative (${retries})`);
  }
  return {
    kind: 'healthcheck',
    ...request.base,
    health: {
      test: [command.form === 'exec' ? 'CMD' : 'CMD-SHELL', ...command.args],
      interval: duration(request, flags, 'interval'),
      timeout: duration(request, flags, 'timeout'),
      startPeriod: duration(request, flags, 'start-period'),
      startInterval: duration(request, flags, 'start-interval'),
      retries,
    },
  };
}
