/**
 * Build checks that look at one instruction (after expansion) and the little state of its
 * stage: which of CMD/ENTRYPOINT/HEALTHCHECK were seen, whether SHELL or an absolute WORKDIR was.
 */
import type { SourceLocation } from '../../errors.js';
import type { ExposeInstruction, FromInstruction, Instruction } from '../instructions/types.js';
import type { ProblemSink } from './sink.js';
import { RULES } from './rules.js';

/** Per-stage state; a stage built FROM another starts with that stage's `workdirSet`/`shellSet`. */
export interface StageCheckState {
  workdirSet: boolean;
  shellSet: boolean;
  readonly seen: Map<'cmd' | 'entrypoint' | 'healthcheck', SourceLocation>;
}

const SECRET = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const NOT_SECRET = /(?:_|^)(?:public|file|version)(?:_|$)/i;

export function checkFrom(from: FromInstruction, sink: ProblemSink): void {
  const name = from.stageNameAsWritten;
  if (name !== undefined && name !== name.toLowerCase()) {
    sink.warn(RULES.StageNameCasing, `Stage name '${name}' should be lowercase`, from.location, { comments: from.comments });
  }
  const as = from.asKeyword;
  const keyword = from.keyword;
  const fromLower = keyword === keyword.toLowerCase();
  const fromUpper = keyword === keyword.toUpperCase();
  if (as !== undefined && (fromLower || fromUpper) && as !== (fromLower ? as.toLowerCase() : as.toUpperCase())) {
    sink.warn(RULES.FromAsCasing, `'${as}' and '${keyword}' keywords' casing do not match`, from.location, { comments: from.comments });
  }
}

function checkSecrets(instruction: Instruction, keys: readonly string[], sink: ProblemSink): void {
  for (const key of keys) {
    if (SECRET.test(key) && !NOT_SECRET.test(key)) {
      sink.warn(RULES.SecretsUsedInArgOrEnv, `Do not use ARG or ENV instructions for sensitive data (${instruction.keyword.toUpperCase()} "${key}")`, instruction.location, {
        comments: instruction.comments,
        hint: 'pass secrets with RUN --mount=type=secret and --secret',
      });
    }
  }
}

/** EXPOSE [ip:][hostPort:]containerPort[/proto]: lower-case protocols, no IP or host port. */
function checkExposePorts(instruction: ExposeInstruction, sink: ProblemSink): void {
  for (const port of instruction.ports) {
    const slash = port.indexOf('/');
    const protocol = slash < 0 ? '' : port.slice(slash + 1);
    if (protocol !== protocol.toLowerCase()) {
      sink.warn(RULES.ExposeProtoCasing, `Defined protocol '${port}' in EXPOSE instruction should be lowercase`, instruction.location, { comments: instruction.comments });
    }
    if ((slash < 0 ? port : port.slice(0, slash)).includes(':')) {
      sink.warn(RULES.ExposeInvalidFormat, `EXPOSE instruction should not define an IP address or host-port mapping, found '${port}'`, instruction.location, {
        comments: instruction.comments,
      });
    }
  }
}

/** Checks one expanded stage instruction and updates the stage state. */
export function checkInstruction(instruction: Instruction, state: StageCheckState, sink: ProblemSink): void {
  const at = { comments: instruction.comments };
  switch (instruction.kind) {
    case 'maintainer':
      sink.warn(RULES.MaintainerDeprecated, 'Maintainer instruction is deprecated in favor of using label', instruction.location, {
        ...at,
        hint: 'use LABEL org.opencontainers.image.authors="..."',
      });
      return;
    case 'env':
    case 'label': {
      const pairs = instruction.kind === 'env' ? instruction.env : instruction.labels;
      if (pairs.some((pair) => pair.legacy)) {
        const name = instruction.keyword;
        sink.warn(RULES.LegacyKeyValueFormat, `"${name} key=value" should be used instead of legacy "${name} key value" format`, instruction.location, at);
      }
      if (instruction.kind === 'env') checkSecrets(instruction, pairs.map((pair) => pair.key), sink);
      return;
    }
    case 'arg':
      checkSecrets(instruction, instruction.args.map((definition) => definition.key), sink);
      return;
    case 'expose':
      checkExposePorts(instruction, sink);
      return;
    case 'shell':
      state.shellSet = true;
      return;
    case 'workdir':
      if (!state.workdirSet && !instruction.path.startsWith('/')) {
        sink.warn(RULES.WorkdirRelativePath, `Relative workdir "${instruction.path}" can have unexpected results if the base image changes`, instruction.location, {
          ...at,
          hint: 'set an absolute WORKDIR first',
        });
      }
      state.workdirSet = true;
      return;
    case 'cmd':
    case 'entrypoint':
    case 'healthcheck': {
      const previous = state.seen.get(instruction.kind);
      if (previous !== undefined) {
        sink.warn(
          RULES.MultipleInstructionsDisallowed,
          `Multiple ${instruction.keyword} instructions should not be used in the same stage because only the last one will be used`,
          previous,
          at,
        );
      }
      state.seen.set(instruction.kind, instruction.location);
      if (instruction.kind !== 'healthcheck' && instruction.command.form === 'shell' && !state.shellSet) {
        sink.warn(RULES.JSONArgsRecommended, `JSON arguments recommended for ${instruction.keyword} to prevent unintended behavior related to OS signals`, instruction.location, {
          ...at,
          hint: `write ${instruction.keyword.toUpperCase()} ["executable", "arg"]`,
        });
      }
      return;
    }
    default:
      return;
  }
}

/**
 * InvalidDefinitionDescription (experimental): a comment right above a named FROM or an ARG
 * should start with the name it describes (`# build compiles the binary`).
 */
export function checkDefinitionDescription(instruction: Instruction, names: readonly string[], sink: ProblemSink): void {
  const last = instruction.comments.at(-1);
  if (last === undefined || names.length === 0) return;
  if (names.includes(last.split(' ')[0] ?? '')) return;
  const example = names.length > 1 ? '<arg_key>' : (names[0] as string);
  const name = instruction.kind === 'from' ? 'FROM' : 'ARG';
  sink.warn(RULES.InvalidDefinitionDescription, `Comment for ${name} should follow the format: \`# ${example} <description>\``, instruction.location, {
    comments: instruction.comments,
    hint: 'or separate the comment from the instruction with an empty comment line',
  });
}
