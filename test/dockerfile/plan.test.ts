// The build plan: meta ARGs, platform ARGs, FROM expansion, the stage graph, cycles, targets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { loadDockerfile, planBuild, type BuildPlan, type PlanOptions, type Platform } from '../../src/dockerfile/index.js';

const AMD64: Platform = { os: 'linux', architecture: 'amd64' };
const ARM64: Platform = { os: 'linux', architecture: 'arm64' };

function plan(text: string, options: Omit<PlanOptions, 'dockerfile'> = {}): BuildPlan {
  return planBuild({ dockerfile: loadDockerfile({ text, file: 'Dockerfile' }), targetPlatform: ARM64, buildPlatform: AMD64, ...options });
}

function planError(text: string, options: Omit<PlanOptions, 'dockerfile'> = {}): CaissonError {
  try {
    plan(text, options);
  } catch (error) {
    assert.ok(error instanceof CaissonError, String(error));
    return error;
  }
  assert.fail('expected a plan error');
}

describe('global ARGs', () => {
  test('the automatic platform ARGs', () => {
    const args = plan('FROM a AS final\n').globalArgs;
    assert.equal(args.get('TARGETPLATFORM'), 'linux/arm64');
    assert.equal(args.get('TARGETOS'), 'linux');
    assert.equal(args.get('TARGETARCH'), 'arm64');
    assert.equal(args.get('TARGETVARIANT'), '');
    assert.equal(args.get('BUILDPLATFORM'), 'linux/amd64');
    assert.equal(args.get('BUILDOS'), 'linux');
    assert.equal(args.get('BUILDARCH'), 'amd64');
    assert.equal(args.get('BUILDVARIANT'), '');
    assert.equal(args.get('TARGETSTAGE'), 'final');
    const arm = plan('FROM a\n', { targetPlatform: { os: 'linux', architecture: 'arm', variant: 'v7' } }).globalArgs;
    assert.equal(arm.get('TARGETPLATFORM'), 'linux/arm/v7');
    assert.equal(arm.get('TARGETVARIANT'), 'v7');
  });

  test('meta ARGs: defaults expanded in order, build args win, declared-only ARGs stay unset', () => {
    const p = plan('ARG REG=docker.io\nARG IMAGE=${REG}/library/alpine\nARG TAG\nARG UNSET\nFROM ${IMAGE}:${TAG:-3.20}\n', {
      buildArgs: new Map([['TAG', '3.19']]),
    });
    assert.equal(p.globalArgs.get('IMAGE'), 'docker.io/library/alpine');
    assert.equal(p.globalArgs.get('TAG'), '3.19');
    assert.equal(p.globalArgs.has('UNSET'), false);
    assert.equal(p.stages[0]?.baseName, 'docker.io/library/alpine:3.19');
    assert.deepEqual(p.stages[0]?.base, { kind: 'image', reference: 'docker.io/library/alpine:3.19' });
  });

  test('a build arg overrides a platform ARG', () => {
    assert.equal(plan('FROM a\n', { buildArgs: new Map([['TARGETARCH', 'riscv64']]) }).globalArgs.get('TARGETARCH'), 'riscv64');
  });

  test('FROM --platform is expanded and normalised; undefined FROM args are recorded', () => {
    const p = plan('FROM --platform=$BUILDPLATFORM golang AS build\nFROM --platform=linux/aarch64 $MISSING${IMG:-alpine}\n');
    assert.deepEqual(p.stages[0]?.platform, AMD64);
    assert.deepEqual(p.stages[1]?.platform, ARM64);
    assert.deepEqual(p.stages[1]?.undefinedFromArgs, ['MISSING', 'IMG']);
    assert.equal(p.stages[1]?.baseName, 'alpine');
  });

  test('errors: blank base name, empty or invalid platform, ${v:?} in FROM', () => {
    const blank = planError('ARG IMG\nFROM ${IMG}\n');
    assert.equal(blank.code, 'ERR_DOCKERFILE_STAGE');
    assert.equal(blank.message, 'base name (${IMG}) should not be blank');
    assert.equal(blank.location?.line, 2);
    assert.equal(planError('FROM --platform=$NOPE a\n').message, 'empty platform value from expression $NOPE');
    assert.match(planError('FROM --platform=linux/z80 a\n').message, /^failed to parse platform linux\/z80: "linux\/z80": unknown architecture "z80"/);
    const required = planError('ARG TAG\nFROM alpine:${TAG:?}\n');
    assert.equal(required.code, 'ERR_DOCKERFILE_EXPANSION');
    assert.equal(required.location?.line, 2);
  });
});

describe('the stage graph', () => {
  const DOCKERFILE = [
    'FROM golang AS build', // 0
    'RUN go build',
    'FROM alpine AS unused', // 1
    'FROM build AS test', // 2
    'RUN --mount=type=bind,from=build,target=/src go test',
    'FROM scratch', // 3
    'COPY --from=build /out /bin/app',
    'COPY --from=0 /etc/passwd /etc/passwd',
    'COPY --from=busybox:1.36 /bin/busybox /bin/',
    '',
  ].join('\n');

  test('bases and dependencies', () => {
    const p = plan(DOCKERFILE);
    assert.deepEqual(p.stages.map((s) => s.name), ['build', 'unused', 'test', 'stage-3']);
    assert.deepEqual(p.stages[2]?.base, { kind: 'stage', index: 0 });
    assert.deepEqual(p.stages[3]?.base, { kind: 'scratch' });
    assert.deepEqual(
      p.stages[3]?.dependencies.map((d) => [d.via, d.source, d.location.line]),
      [
        ['from', { kind: 'scratch' }, 6],
        ['copy', { kind: 'stage', index: 0 }, 7],
        ['copy', { kind: 'stage', index: 0 }, 8],
        ['copy', { kind: 'image', reference: 'busybox:1.36' }, 9],
      ],
    );
    assert.deepEqual(p.stages[2]?.dependencies[1]?.source, { kind: 'stage', index: 0 });
  });

  test('the default target is the last stage; unused stages are skipped', () => {
    const p = plan(DOCKERFILE);
    assert.deepEqual(p.targets, [3]);
    assert.deepEqual(p.order, [0, 3]);
  });

  test('several targets, case-insensitive names', () => {
    const p = plan(DOCKERFILE, { targets: ['TEST', 'unused'] });
    assert.deepEqual(p.targets, [2, 1]);
    assert.deepEqual(p.order, [0, 1, 2]);
    assert.equal(p.globalArgs.get('TARGETSTAGE'), 'test');
  });

  test('an unknown target suggests the closest stage', () => {
    const error = planError(DOCKERFILE, { targets: ['tset'] });
    assert.equal(error.message, 'target stage "tset" could not be found in Dockerfile');
    assert.equal(error.hint, 'did you mean test?');
  });

  test('named contexts replace images and stages of the same name', () => {
    const p = plan('FROM base AS app\nCOPY --from=tools /x /x\nRUN --mount=from=deps,target=/d true\n', { namedContexts: new Set(['base', 'tools', 'deps']) });
    assert.deepEqual(
      p.stages[0]?.dependencies.map((d) => d.source),
      [
        { kind: 'context', name: 'base' },
        { kind: 'context', name: 'tools' },
        { kind: 'context', name: 'deps' },
      ],
    );
  });

  test('a named context overrides a stage of that name for FROM too, as BuildKit', () => {
    const p = plan('FROM alpine AS build\nRUN make\nFROM build AS app\nCOPY --from=build /out /out\n', { namedContexts: new Set(['build']) });
    assert.deepEqual(
      p.stages[1]?.dependencies.map((d) => d.source),
      [
        { kind: 'context', name: 'build' },
        { kind: 'context', name: 'build' },
      ],
    );
  });

  test('FROM only sees earlier stages: a later stage of that name is an image', () => {
    const p = plan('FROM later AS first\nFROM alpine AS later\nFROM first\n');
    assert.deepEqual(p.stages[0]?.base, { kind: 'image', reference: 'later' });
  });

  test('cycles are rejected with the line that closes them', () => {
    const self = planError('FROM a AS one\nCOPY --from=one /x /x\n');
    assert.equal(self.message, 'circular dependency detected on stage: one');
    assert.equal(self.location?.line, 2);
    const loop = planError('FROM a AS one\nCOPY --from=two /x /x\nFROM one AS two\n');
    assert.equal(loop.message, 'circular dependency detected on stage: one');
  });

  test('copying from a later stage, a bad index, a variable in --from', () => {
    const later = planError('FROM a AS one\nCOPY --from=two /x /x\nFROM b AS two\n', { targets: ['one'] });
    assert.equal(later.message, 'cannot copy from stage "two", it needs to be defined before current stage "one"');
    assert.equal(later.location?.line, 2);
    assert.equal(planError('FROM a\nCOPY --from=5 /x /x\n').message, 'invalid stage index 5');
    assert.match(planError('ARG S=a\nFROM a\nCOPY --from=$S /x /x\n').message, /^variable expansion is not supported for --from/);
  });
});
