/**
 * RUN [--mount=...] [--network=default|none|host] [--security=sandbox|insecure] <command>
 * (shell form, exec form, or heredocs).
 */
import { toCommandLine } from './command-line.js';
import { FLAG_SPECS, parseFlags } from './flags.js';
import { parseMount } from './mount.js';
import type { InstructionRequest } from './request.js';
import type { NetworkMode, RunInstruction, SecurityMode } from './types.js';

const NETWORKS: readonly NetworkMode[] = ['default', 'none', 'host'];
const SECURITY: readonly SecurityMode[] = ['sandbox', 'insecure'];

export function parseRun(request: InstructionRequest): RunInstruction {
  const flags = parseFlags(request, FLAG_SPECS.RUN);
  if (flags.strings('device').length > 0) {
    request.fail('device feature is only supported in Dockerfile frontend 1.14.0-labs or later', 'caisson implements the stable Dockerfile syntax; remove --device');
  }
  const network = flags.string('network') ?? 'default';
  if (!NETWORKS.includes(network as NetworkMode)) {
    request.fail(`invalid network mode "${network}"`, 'use --network=default, --network=none or --network=host');
  }
  const security = flags.string('security') ?? 'sandbox';
  if (!SECURITY.includes(security as SecurityMode)) {
    request.fail(`security "${security}" is not valid`, 'use --security=sandbox or --security=insecure');
  }
  if (request.args.length === 0) request.fail('RUN requires a command', 'write RUN <command> or RUN ["executable", "arg"]');
  return {
    kind: 'run',
    ...request.base,
    command: toCommandLine({ args: request.args, json: request.node.json, heredocs: request.node.heredocs }),
    mounts: flags.strings('mount').map((spec) => parseMount({ spec, location: request.location })),
    network: network as NetworkMode,
    security: security as SecurityMode,
    flagsUsed: flags.used,
  };
}
