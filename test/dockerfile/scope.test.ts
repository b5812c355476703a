// Variable scopes and expansion: which instructions and positions are expanded, ARG scoping per
// stage, ARG versus ENV, inheritance between stages.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { loadDockerfile, planBuild, StageScope, type Instruction, type Platform } from '../../src/dockerfile/index.js';

const AMD64: Platform = { os: 'linux', architecture: 'amd64' };

interface Run {
  readonly scope: StageScope;
  readonly expanded: Instruction[];
  readonly undefinedNames: string[];
}

/** Applies every instruction of stage `index` in a fresh scope over `baseEnv`. */
function run(text: string, options: { buildArgs?: Map<string, string>; baseEnv?: Map<string, string>; index?: number } = {}): Run {
  const dockerfile = loadDockerfile({ text, file: 'Dockerfile' });
  const plan = planBuild({ dockerfile, targetPlatform: AMD64, buildPlatform: AMD64, ...(options.buildArgs === undefined ? {} : { buildArgs: options.buildArgs }) });
  const undefinedNames: string[] = [];
  const scope = new StageScope({
    escapeToken: dockerfile.escapeToken,
    buildArgs: options.buildArgs ?? new Map(),
    globalArgs: plan.globalArgs,
    ...(options.baseEnv === undefined ? {} : { baseEnv: options.baseEnv }),
    onUndefined: (name) => undefinedNames.push(name),
  });
  const expanded = (dockerfile.stages[options.index ?? 0]?.instructions ?? []).map((instruction) => scope.apply(instruction));
  return { scope, expanded, undefinedNames };
}

function field<K extends Instruction['kind']>(instruction: Instruction | undefined, kind: K): Extract<Instruction, { kind: K }> {
  assert.equal(instruction?.kind, kind);
  return instruction as Extract<Instruction, { kind: K }>;
}

describe('where variables are expanded', () => {
  const { expanded } = run(
    [
      'FROM a',
      'ENV DIR=/opt/app USER=app PORT=8080',
      'ENV ${USER}_HOME=$DIR QUOTED="a b"',
      'LABEL path=$DIR',
      'WORKDIR $DIR/src',
      'USER ${USER}:staff',
      'VOLUME $DIR/data "${DIR}/logs"',
      'STOPSIGNAL SIG${SIG:-TERM}',
      'EXPOSE $PORT ${PORT}/udp',
      'COPY --chown=$USER --chmod=${MODE:-0644} src/$USER/ $DIR/',
      'ADD --checksum=sha256:${SUM:-abc} https://example.com/${USER}.tgz $DIR/',
      'RUN --mount=type=cache,target=$DIR/.cache,id=${USER} echo $DIR',
      'CMD echo $DIR',
      'ENTRYPOINT ["$DIR/bin"]',
      'HEALTHCHECK CMD check $PORT',
      'SHELL ["/bin/sh", "-c", "$DIR"]',
      'ONBUILD RUN echo $DIR',
      '',
    ].join('\n'),
  );

  test('ENV and LABEL keys and values', () => {
    assert.deepEqual(field(expanded[1], 'env').env, [
      { key: 'app_HOME', value: '/opt/app', legacy: false },
      { key: 'QUOTED', value: 'a b', legacy: false },
    ]);
    assert.deepEqual(field(expanded[2], 'label').labels, [{ key: 'path', value: '/opt/app', legacy: false }]);
  });

  test('WORKDIR, USER, VOLUME, STOPSIGNAL, EXPOSE (split into words)', () => {
    assert.equal(field(expanded[3], 'workdir').path, '/opt/app/src');
    assert.equal(field(expanded[4], 'user').user, 'app:staff');
    assert.deepEqual(field(expanded[5], 'volume').volumes, ['/opt/app/data', '/opt/app/logs']);
    assert.equal(field(expanded[6], 'stopsignal').signal, 'SIGTERM');
    assert.deepEqual(field(expanded[7], 'expose').ports, ['8080', '8080/udp']);
  });

  test('COPY and ADD paths and flags', () => {
    const copy = field(expanded[8], 'copy');
    assert.deepEqual([copy.chown, copy.chmod, copy.sources, copy.destination], ['app', '0644', ['src/app/'], '/opt/app/']);
    const add = field(expanded[9], 'add');
    assert.deepEqual([add.checksum, add.sources, add.destination], ['sha256:abc', ['https://example.com/app.tgz'], '/opt/app/']);
  });

  test('RUN --mount values, not the command', () => {
    const runInstruction = field(expanded[10], 'run');
    assert.equal(runInstruction.mounts[0]?.target, '/opt/app/.cache');
    assert.equal(runInstruction.mounts[0]?.id, 'app');
    assert.deepEqual(runInstruction.command.args, ['echo $DIR']);
  });

  test('CMD, ENTRYPOINT, HEALTHCHECK, SHELL and ONBUILD are left alone', () => {
    assert.deepEqual(field(expanded[11], 'cmd').command.args, ['echo $DIR']);
    assert.deepEqual(field(expanded[12], 'entrypoint').command.args, ['$DIR/bin']);
    assert.deepEqual(field(expanded[13], 'healthcheck').health.test, ['CMD-SHELL', 'check $PORT']);
    assert.deepEqual(field(expanded[14], 'shell').shell, ['/bin/sh', '-c', '$DIR']);
    assert.equal(field(expanded[15], 'onbuild').expression, 'RUN echo $DIR');
  });

  test('COPY heredoc bodies: expanded unless the delimiter is quoted, quotes kept', () => {
    const { expanded: files } = run('FROM a\nENV NAME=world\nCOPY <<EOF <<"RAW" /\nhello "$NAME" \'${NAME}\'\nEOF\n$NAME\nRAW\n');
    assert.deepEqual(
      field(files[1], 'copy').inline.map((file) => file.content),
      ['hello "world" \'world\'\n', '$NAME\n'],
    );
  });

  test('a chmod that becomes invalid after expansion is an error with the line', () => {
    try {
      run('FROM a\nENV MODE=999\nCOPY --chmod=$MODE a /b\n');
      assert.fail('expected an error');
    } catch (error) {
      assert.ok(error instanceof CaissonError);
      assert.equal(error.code, 'ERR_DOCKERFILE_INSTRUCTION');
      assert.equal(error.location?.line, 3);
    }
  });

  test('expansion errors name the line', () => {
    try {
      run('FROM a\nWORKDIR ${DIR:?DIR must be set}\n');
      assert.fail('expected an error');
    } catch (error) {
      assert.ok(error instanceof CaissonError);
      assert.equal(error.code, 'ERR_DOCKERFILE_EXPANSION');
      assert.equal(error.location?.line, 2);
      assert.match(error.message, /DIR must be set/);
    }
  });
});

describe('ARG scoping', () => {
  test('a stage sees a meta ARG only after declaring it', () => {
    const { expanded, undefinedNames } = run('ARG VERSION=1.0\nFROM a\nWORKDIR /v$VERSION\nARG VERSION\nWORKDIR /v$VERSION\n');
    assert.equal(field(expanded[0], 'workdir').path, '/v');
    assert.equal(field(expanded[2], 'workdir').path, '/v1.0');
    assert.deepEqual(undefinedNames, ['VERSION']);
  });

  test('build args override stage defaults and meta values; defaults are expanded', () => {
    const { scope } = run('ARG A=meta\nFROM a\nARG A\nARG B=${A}-b\nARG C=default\n', { buildArgs: new Map([['C', 'given']]) });
    assert.equal(scope.variables.get('A'), 'meta');
    assert.equal(scope.variables.get('B'), 'meta-b');
    assert.equal(scope.variables.get('C'), 'given');
  });

  test('platform ARGs need declaring in a stage', () => {
    const { scope } = run('FROM a\nARG TARGETARCH\nARG BUILDPLATFORM\n');
    assert.equal(scope.variables.get('TARGETARCH'), 'amd64');
    assert.equal(scope.variables.get('BUILDPLATFORM'), 'linux/amd64');
  });

  test('ARG values are visible but not in the config Env; ENV is both; ENV after ARG wins', () => {
    const { scope } = run('FROM a\nARG V=arg\nARG ONLY=x\nENV V=env\n');
    assert.equal(scope.variables.get('V'), 'env');
    assert.equal(scope.variables.get('ONLY'), 'x');
    assert.deepEqual([...scope.configEnv], [['V', 'env']]);
  });

  test('the base environment is visible; a declared ARG without value is not undefined', () => {
    const { expanded, undefinedNames } = run('FROM a\nARG EMPTY\nWORKDIR $HOME/$EMPTY$NOPE\n', { baseEnv: new Map([['HOME', '/root']]) });
    assert.equal(field(expanded[1], 'workdir').path, '/root/');
    assert.deepEqual(undefinedNames, ['NOPE']);
  });

  test('a child stage inherits variables and declared ARGs', () => {
    const parent = run('FROM a\nARG P=1\nENV E=2\n').scope;
    const child = parent.child();
    const expanded = child.apply(loadDockerfile({ text: 'FROM x\nWORKDIR /$P/$E\n' }).stages[0]?.instructions[0] as Instruction);
    assert.equal(field(expanded, 'workdir').path, '/1/2');
    assert.deepEqual([...child.configEnv], [['E', '2']]);
    assert.ok(child.declaredArgs.has('P'));
  });
});
