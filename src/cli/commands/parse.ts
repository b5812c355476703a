/**
 * `caisson parse [--dump | --json] [Dockerfile]`: a summary of the stages, the syntax tree in
 * BuildKit's s-expression form (`--dump`), or typed instructions and the stage plan (`--json`).
 */
import { dumpDockerfile, formatPlatform, loadDockerfile, parseDockerfile, parsePlatform, planBuild, type BuildPlan, type DependencySource } from '../../dockerfile/index.js';
import { CaissonError } from '../../errors.js';
import { parseBuildArgs } from '../build-args.js';
import type { CommandContext } from '../context.js';
import { readDockerfile } from '../input.js';
import type { ParsedArgs } from '../spec.js';

function describeSource(source: DependencySource, plan: BuildPlan): string {
  switch (source.kind) {
    case 'stage':
      return `stage ${plan.stages[source.index]?.name ?? source.index}`;
    case 'image':
      return `image ${source.reference}`;
    case 'context':
      return `build context ${source.name}`;
    case 'scratch':
      return 'scratch';
  }
}

function summary(plan: BuildPlan): string {
  const needed = new Set(plan.order);
  let out = `${plan.dockerfile.file}: ${plan.stages.length} stage(s), target ${plan.targets.map((t) => plan.stages[t]?.name).join(', ')} for ${formatPlatform(plan.targetPlatform)}\n`;
  for (const planned of plan.stages) {
    const platform = planned.platform === undefined ? '' : ` (${formatPlatform(planned.platform)})`;
    const skipped = needed.has(planned.stage.index) ? '' : '  [not needed by the target: skipped]';
    out += `  ${planned.stage.index}: ${planned.name} FROM ${describeSource(planned.base, plan)}${platform}, ${planned.stage.instructions.length} instruction(s)${skipped}\n`;
    for (const dependency of planned.dependencies.slice(1)) {
      out += `       ${dependency.via === 'copy' ? 'COPY --from' : 'RUN --mount from'} ${describeSource(dependency.source, plan)} (line ${dependency.location.line})\n`;
    }
  }
  return out;
}

export async function run(args: ParsedArgs, context: CommandContext): Promise<void> {
  const { file, text } = await readDockerfile(context, args.positional);
  if (args.bool('dump')) {
    context.stdout(dumpDockerfile(parseDockerfile({ text, file })));
    return;
  }
  let targetPlatform;
  const platform = args.string('platform');
  if (platform !== undefined) {
    const parsed = parsePlatform(platform);
    if ('error' in parsed) throw new CaissonError({ code: 'ERR_USAGE', message: `invalid --platform ${parsed.error}`, hint: 'write os/arch[/variant], e.g. linux/arm64' });
    targetPlatform = parsed;
  }
  const dockerfile = loadDockerfile({ text, file });
  const plan = planBuild({
    dockerfile,
    buildArgs: parseBuildArgs(args.strings('build-arg'), context.env),
    targets: args.strings('target'),
    ...(targetPlatform === undefined ? {} : { targetPlatform }),
  });
  if (!args.bool('json')) {
    context.stdout(summary(plan));
    return;
  }
  const json = {
    file: dockerfile.file,
    escapeToken: dockerfile.escapeToken,
    directives: dockerfile.directives,
    metaArgs: dockerfile.metaArgs,
    stages: dockerfile.stages,
    plan: {
      targetPlatform: formatPlatform(plan.targetPlatform),
      buildPlatform: formatPlatform(plan.buildPlatform),
      globalArgs: Object.fromEntries(plan.globalArgs),
      targets: plan.targets,
      order: plan.order,
      stages: plan.stages.map((planned) => ({
        index: planned.stage.index,
        name: planned.name,
        baseName: planned.baseName,
        base: planned.base,
        ...(planned.platform === undefined ? {} : { platform: formatPlatform(planned.platform) }),
        dependencies: planned.dependencies,
      })),
    },
  };
  context.stdout(`${JSON.stringify(json, null, 2)}\n`);
}
