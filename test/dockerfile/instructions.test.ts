// Typed instructions: every instruction's forms and flags, and the errors for bad ones.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { loadDockerfile, type Instruction, type StageInstruction } from '../../src/dockerfile/index.js';

/** The instructions of a one-stage Dockerfile `FROM base` + `body`. */
function stage(body: string): readonly StageInstruction[] {
  return loadDockerfile({ text: `FROM base\n${body}\n`, file: 'Dockerfile' }).stages[0]?.instructions ?? [];
}

function one(body: string): Instruction {
  const [instruction] = stage(body);
  assert.ok(instruction !== undefined);
  return instruction;
}

function failure(text: string): CaissonError {
  try {
    loadDockerfile({ text, file: 'Dockerfile' });
  } catch (error) {
    assert.ok(error instanceof CaissonError, String(error));
    return error;
  }
  assert.fail(`expected an error for ${JSON.stringify(text)}`);
}

function bodyFailure(body: string): CaissonError {
  return failure(`FROM base\n${body}\n`);
}

describe('FROM', () => {
  test('image, AS name (lower-cased), --platform', () => {
    const from = loadDockerfile({ text: 'FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\n' }).stages[0]?.from;
    assert.equal(from?.image, 'golang:1.22');
    assert.equal(from?.stageName, 'build');
    assert.equal(from?.stageNameAsWritten, 'Build');
    assert.equal(from?.platform, '$BUILDPLATFORM');
  });

  test('wrong argument counts and bad stage names', () => {
    assert.equal(failure('FROM a b\n').message, 'FROM requires either one or three arguments');
    assert.equal(failure('FROM a AS\n').message, 'FROM requires either one or three arguments');
    assert.equal(failure('FROM a AS 1st\n').message, 'invalid name for build stage: "1st", name can\'t start with a number or contain symbols');
  });
});

describe('RUN', () => {
  test('shell form, exec form, heredoc', () => {
    assert.deepEqual((one('RUN echo  "a b"') as { command: unknown }).command, { form: 'shell', args: ['echo  "a b"'], files: [] });
    assert.deepEqual((one('RUN ["echo", "a b"]') as { command: unknown }).command, { form: 'exec', args: ['echo', 'a b'], files: [] });
    const heredoc = one('RUN <<EOF\necho hi\nEOF');
    assert.equal(heredoc.kind, 'run');
    assert.deepEqual(heredoc.command, { form: 'shell', args: ['<<EOF'], files: [{ name: 'EOF', content: 'echo hi\n', chomp: false, expand: true }] });
  });

  test('--network and --security with their defaults', () => {
    const plain = one('RUN true');
    assert.equal(plain.kind === 'run' && plain.network, 'default');
    assert.equal(plain.kind === 'run' && plain.security, 'sandbox');
    const flagged = one('RUN --network=none --security=insecure true');
    assert.equal(flagged.kind === 'run' && flagged.network, 'none');
    assert.equal(flagged.kind === 'run' && flagged.security, 'insecure');
    assert.deepEqual(flagged.kind === 'run' && flagged.flagsUsed, ['network', 'security']);
  });

  test('bad network, security, device, no command', () => {
    assert.equal(bodyFailure('RUN --network=bridge true').message, 'invalid network mode "bridge"');
    assert.equal(bodyFailure('RUN --security=root true').message, 'security "root" is not valid');
    assert.match(bodyFailure('RUN --device=/dev/fuse true').message, /only supported in Dockerfile frontend 1\.14\.0-labs/);
    assert.equal(bodyFailure('RUN').message, 'RUN requires a command');
  });
});

describe('RUN --mount', () => {
  function mounts(spec: string) {
    const run = one(`RUN --mount=${spec} true`);
    assert.equal(run.kind, 'run');
    return run.kind === 'run' ? run.mounts : [];
  }

  test('bind (the default type): from, source, target, read-only unless rw', () => {
    assert.deepEqual(mounts('target=/src'), [{ spec: 'target=/src', type: 'bind', required: false, target: '/src', readOnly: true }]);
    const [bind] = mounts('type=bind,from=build,src=/out,dst=/in,rw');
    assert.equal(bind?.from, 'build');
    assert.equal(bind?.source, '/out');
    assert.equal(bind?.target, '/in');
    assert.equal(bind?.readOnly, false);
    assert.equal(mounts('type=bind,target=/x,readwrite=false')[0]?.readOnly, true);
  });

  test('cache: id, sharing, mode, uid, gid; read-write by default', () => {
    const [cache] = mounts('type=cache,id=npm,target=/root/.npm,sharing=locked,mode=0700,uid=1000,gid=1000');
    assert.deepEqual(cache, {
      spec: 'type=cache,id=npm,target=/root/.npm,sharing=locked,mode=0700,uid=1000,gid=1000',
      type: 'cache',
      id: 'npm',
      target: '/root/.npm',
      sharing: 'locked',
      mode: 0o700,
      uid: 1000,
      gid: 1000,
      required: false,
      readOnly: false,
    });
  });

  test('tmpfs with size, secret with env and required, ssh', () => {
    assert.equal(mounts('type=tmpfs,target=/t,size=64m')[0]?.sizeLimit, 64 * 1024 * 1024);
    const [secret] = mounts('type=secret,id=token,env=TOKEN,required');
    assert.equal(secret?.env, 'TOKEN');
    assert.equal(secret?.required, true);
    assert.equal(secret?.readOnly, true);
    assert.equal(mounts('type=ssh')[0]?.type, 'ssh');
    assert.equal(mounts('type=secret,\\"target=/a,b\\"')[0]?.target, '/a,b');
  });

  test('several mounts', () => {
    const run = one('RUN --mount=type=cache,target=/a --mount=type=secret,id=s true');
    assert.equal(run.kind === 'run' && run.mounts.length, 2);
  });

  test('values with variables wait for expansion', () => {
    const [mount] = mounts('type=cache,target=$HOME/.cache,uid=$UID');
    assert.equal(mount?.target, undefined);
    assert.equal(mount?.uid, undefined);
  });

  test('errors: unknown type (did you mean), unknown key, bad values, wrong combinations', () => {
    const unknownType = bodyFailure('RUN --mount=type=cahce,target=/x true');
    assert.equal(unknownType.message, 'unsupported mount type "cahce" in --mount=type=cahce,target=/x');
    assert.equal(unknownType.hint, 'did you mean cache?');
    assert.equal(unknownType.location?.line, 2);
    assert.equal(bodyFailure('RUN --mount=type=volume true').hint, 'one of: bind, cache, tmpfs, secret, ssh');
    assert.equal(bodyFailure('RUN --mount=type=cache,targte=/x true').hint, 'did you mean target?');
    assert.equal(bodyFailure('RUN --mount=type=cache,uid=me true').message, 'invalid value me for uid in --mount=type=cache,uid=me');
    assert.equal(bodyFailure('RUN --mount=type=bind,uid=1 true').message, 'uid not allowed for "bind" type mounts in --mount=type=bind,uid=1');
    assert.equal(bodyFailure('RUN --mount=type=secret true').message, 'invalid secret mount. one of source, target required in --mount=type=secret');
    assert.equal(bodyFailure('RUN --mount=type=bind,sharing=shared true').message, 'invalid cache sharing set for bind mount in --mount=type=bind,sharing=shared');
    assert.equal(bodyFailure('RUN --mount=type=cache,sharing=global true').hint, 'one of: shared, private, locked');
    assert.equal(bodyFailure('RUN --mount=required,type=secret,id=a true').message, "unexpected key 'required' for mount type 'bind' in --mount=required,type=secret,id=a");
    assert.equal(bodyFailure('RUN --mount=type=tmpfs,size=lots true').message, 'invalid value for size: lots in --mount=type=tmpfs,size=lots');
    assert.equal(bodyFailure('RUN --mount=from=$STAGE,target=/x true').message, "'from' doesn't support variable expansion, define alias stage instead in --mount=from=$STAGE,target=/x");
    assert.match(bodyFailure('RUN --mount=target=\\"/x true').message, /^failed to parse csv mounts: bare " in non-quoted-field/);
  });
});

describe('CMD, ENTRYPOINT, SHELL', () => {
  test('forms', () => {
    const cmd = one('CMD ["nginx", "-g", "daemon off;"]');
    assert.deepEqual(cmd.kind === 'cmd' && cmd.command, { form: 'exec', args: ['nginx', '-g', 'daemon off;'], files: [] });
    const entrypoint = one('ENTRYPOINT exec top -b');
    assert.deepEqual(entrypoint.kind === 'entrypoint' && entrypoint.command, { form: 'shell', args: ['exec top -b'], files: [] });
    const clear = one('ENTRYPOINT []');
    assert.deepEqual(clear.kind === 'entrypoint' && clear.command.args, []);
    const shell = one('SHELL ["/bin/bash", "-eo", "pipefail", "-c"]');
    assert.deepEqual(shell.kind === 'shell' && shell.shell, ['/bin/bash', '-eo', 'pipefail', '-c']);
  });

  test('SHELL needs the JSON form and an argument', () => {
    assert.equal(bodyFailure('SHELL /bin/bash -c').message, 'SHELL requires the arguments to be in JSON form');
    assert.equal(bodyFailure('SHELL []').message, 'SHELL requires at least one argument');
  });
});

describe('LABEL, ENV, ARG, EXPOSE', () => {
  test('key=value pairs, the legacy form, quotes kept for expansion', () => {
    const label = one('LABEL a=1 "b c"="d e" f=');
    assert.deepEqual(label.kind === 'label' && label.labels, [
      { key: 'a', value: '1', legacy: false },
      { key: '"b c"', value: '"d e"', legacy: false },
      { key: 'f', value: '', legacy: false },
    ]);
    const env = one('ENV PATH /usr/bin:/bin');
    assert.deepEqual(env.kind === 'env' && env.env, [{ key: 'PATH', value: '/usr/bin:/bin', legacy: true }]);
  });

  test('ARG: several per line, with and without defaults', () => {
    const arg = one('ARG A B=2 C=');
    assert.deepEqual(arg.kind === 'arg' && arg.args, [{ key: 'A' }, { key: 'B', value: '2' }, { key: 'C', value: '' }]);
    assert.equal(bodyFailure('ARG =x').message, 'ARG names can not be blank');
    assert.equal(bodyFailure('ENV =x').message, 'ENV names can not be blank');
    assert.equal(bodyFailure('LABEL').message, 'LABEL requires at least one argument');
  });

  test('EXPOSE ports are sorted as BuildKit sorts them', () => {
    const expose = one('EXPOSE 8080 53/udp 443/tcp');
    assert.deepEqual(expose.kind === 'expose' && expose.ports, ['443/tcp', '53/udp', '8080']);
    assert.equal(bodyFailure('EXPOSE').message, 'EXPOSE requires at least one argument');
  });
});

describe('COPY and ADD', () => {
  test('COPY with every flag', () => {
    const copy = one('COPY --from=build --chown=app:app --chmod=0755 --link --parents --exclude=*.md --exclude=tmp a b /dst/');
    assert.equal(copy.kind, 'copy');
    if (copy.kind !== 'copy') return;
    assert.deepEqual(copy.sources, ['a', 'b']);
    assert.equal(copy.destination, '/dst/');
    assert.equal(copy.from, 'build');
    assert.equal(copy.chown, 'app:app');
    assert.equal(copy.chmod, '0755');
    assert.equal(copy.link, true);
    assert.equal(copy.parents, true);
    assert.deepEqual(copy.exclude, ['*.md', 'tmp']);
  });

  test('ADD with every flag, JSON form, symbolic chmod', () => {
    const add = one('ADD --checksum=sha256:abc --keep-git-dir=true --unpack=false --chmod=u=rwx,go=rx --link=false ["https://example.com/a b.tgz", "/opt/"]');
    assert.equal(add.kind, 'add');
    if (add.kind !== 'add') return;
    assert.deepEqual(add.sources, ['https://example.com/a b.tgz']);
    assert.equal(add.json, true);
    assert.equal(add.checksum, 'sha256:abc');
    assert.equal(add.keepGitDir, true);
    assert.equal(add.unpack, false);
    assert.equal(add.chmod, 'u=rwx,go=rx');
    assert.equal(add.link, false);
  });

  test('heredoc sources become inline files; <<- strips tabs', () => {
    const copy = one('COPY <<one.txt <<-"two.txt" /dst/\nfirst $X\none.txt\n\tsecond $X\n\ttwo.txt');
    assert.deepEqual(copy.kind === 'copy' && copy.inline, [
      { name: 'one.txt', content: 'first $X\n', chomp: false, expand: true },
      { name: 'two.txt', content: 'second $X\n', chomp: true, expand: false },
    ]);
    assert.deepEqual(copy.kind === 'copy' && copy.sources, []);
  });

  test('errors: one argument, heredoc destination, bad chmod, flag of another instruction', () => {
    assert.equal(
      bodyFailure('COPY onlyone').message,
      'COPY requires at least two arguments, but only one was provided. Destination could not be determined',
    );
    assert.equal(bodyFailure('COPY a <<EOF\nx\nEOF').message, 'COPY cannot accept a heredoc as a destination');
    assert.match(bodyFailure('COPY --chmod=999 a /b').message, /^invalid chmod parameter: '999'/);
    assert.match(bodyFailure('COPY --chmod=u+z a /b').message, /^invalid chmod parameter: 'u\+z'/);
    const wrong = bodyFailure('ADD --from=build a /b');
    assert.equal(wrong.message, 'unknown flag --from for ADD');
    assert.equal(wrong.hint, '--from is a flag of COPY; ADD accepts --chown, --chmod, --link, --checksum, --keep-git-dir, --unpack, --exclude');
    assert.equal(wrong.location?.line, 2);
    assert.equal(bodyFailure('COPY --form=build a /b').hint, 'did you mean --from?');
    assert.equal(bodyFailure('RUN --from=build true').hint, '--from is a flag of COPY; RUN accepts --mount, --network, --security, --device');
    assert.equal(bodyFailure('WORKDIR --chown=1 /x').hint, '--chown is a flag of COPY and ADD; WORKDIR takes no flags');
  });

  test('flag value errors', () => {
    assert.equal(bodyFailure('COPY --from a /b').message, 'missing a value on flag: --from');
    assert.equal(bodyFailure('COPY --link= a /b').message, 'missing a value on flag: --link');
    assert.equal(bodyFailure('COPY --link=yes a /b').message, 'expecting boolean value for flag --link, not: yes');
    assert.equal(bodyFailure('COPY --from=a --from=b a /b').message, 'duplicate flag specified: --from');
  });
});

describe('WORKDIR, USER, VOLUME, STOPSIGNAL, MAINTAINER', () => {
  test('values', () => {
    assert.equal((one('WORKDIR /app') as { path: string }).path, '/app');
    assert.equal((one('USER app:staff') as { user: string }).user, 'app:staff');
    assert.deepEqual((one('VOLUME ["/data", "/logs"]') as { volumes: readonly string[] }).volumes, ['/data', '/logs']);
    assert.deepEqual((one('VOLUME /a /b') as { volumes: readonly string[] }).volumes, ['/a', '/b']);
    assert.equal((one('STOPSIGNAL SIGQUIT') as { signal: string }).signal, 'SIGQUIT');
    assert.equal((one('MAINTAINER Jane <jane@example.com>') as { maintainer: string }).maintainer, 'Jane <jane@example.com>');
  });

  test('exactly one argument; no empty volumes', () => {
    assert.equal(bodyFailure('WORKDIR').message, 'WORKDIR requires exactly one argument');
    assert.equal(bodyFailure('VOLUME [""]').message, 'VOLUME specified can not be an empty string');
  });
});

describe('HEALTHCHECK', () => {
  test('NONE, CMD exec and shell forms, every option', () => {
    assert.deepEqual((one('HEALTHCHECK NONE') as { health: unknown }).health, { test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 });
    const check = one('HEALTHCHECK --interval=30s --timeout=1m30s --start-period=1.5s --start-interval=500ms --retries=3 CMD curl -f http://localhost/');
    assert.deepEqual(check.kind === 'healthcheck' && check.health, {
      test: ['CMD-SHELL', 'curl -f http://localhost/'],
      interval: 30e9,
      timeout: 90e9,
      startPeriod: 1.5e9,
      startInterval: 0.5e9,
      retries: 3,
    });
    assert.deepEqual((one('HEALTHCHECK CMD ["/bin/check", "-q"]') as { health: { test: readonly string[] } }).health.test, ['CMD', '/bin/check', '-q']);
  });

  test('errors', () => {
    assert.equal(bodyFailure('HEALTHCHECK NONE x').message, 'HEALTHCHECK NONE takes no arguments');
    assert.equal(bodyFailure('HEALTHCHECK CMD').message, 'Missing command after HEALTHCHECK CMD');
    assert.equal(bodyFailure('HEALTHCHECK CONNECT tcp').message, 'Unknown type "CONNECT" in HEALTHCHECK (try CMD)');
    assert.equal(bodyFailure('HEALTHCHECK --interval=10 CMD x').message, 'invalid duration "10" for --interval');
    assert.equal(bodyFailure('HEALTHCHECK --interval=10us CMD x').message, 'Interval "interval" cannot be less than 1ms');
    assert.equal(bodyFailure('HEALTHCHECK --retries=-1 CMD x').message, '--retries cannot be negative (-1)');
  });
});

describe('ONBUILD', () => {
  test('the trigger is typed and its text kept', () => {
    const onbuild = one('ONBUILD COPY --chown=1 . /app');
    assert.equal(onbuild.kind, 'onbuild');
    if (onbuild.kind !== 'onbuild') return;
    assert.equal(onbuild.expression, 'COPY --chown=1 . /app');
    assert.equal(onbuild.trigger.kind, 'copy');
    const heredoc = one('ONBUILD RUN <<EOF\necho hi\nEOF');
    assert.equal(heredoc.kind === 'onbuild' && heredoc.expression, 'RUN <<EOF\necho hi\nEOF');
  });

  test('ONBUILD ONBUILD, FROM and MAINTAINER are rejected', () => {
    assert.equal(bodyFailure('ONBUILD ONBUILD RUN x').message, 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
    assert.equal(bodyFailure('ONBUILD FROM x').message, "FROM isn't allowed as an ONBUILD trigger");
    assert.equal(bodyFailure('ONBUILD MAINTAINER x').message, "MAINTAINER isn't allowed as an ONBUILD trigger");
    assert.equal(bodyFailure('ONBUILD').message, 'ONBUILD requires at least one argument');
  });
});

describe('stages', () => {
  test('meta ARGs before FROM; instructions grouped by stage', () => {
    const dockerfile = loadDockerfile({ text: 'ARG V=1\nFROM a AS one\nRUN x\nFROM one\nRUN y\nRUN z\n' });
    assert.equal(dockerfile.metaArgs.length, 1);
    assert.deepEqual(dockerfile.stages.map((s) => [s.index, s.name, s.instructions.length]), [[0, 'one', 1], [1, undefined, 2]]);
  });

  test('an instruction before FROM, an unknown instruction, no FROM at all', () => {
    const early = failure('RUN x\nFROM a\n');
    assert.equal(early.code, 'ERR_DOCKERFILE_STAGE');
    assert.equal(early.message, 'RUN before the first FROM: no build stage in current context');
    const unknown = failure('FROM a\n\nRUNN x\n');
    assert.equal(unknown.message, "unknown instruction 'RUNN'");
    assert.equal(unknown.hint, 'did you mean RUN?');
    assert.equal(unknown.location?.line, 3);
    assert.equal(failure('FROM a\ncopy2 x y\n').hint, 'did you mean copy?');
    assert.equal(failure('ARG a\n').message, 'dockerfile contains no stages to build');
  });
});
