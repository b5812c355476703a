// The command line: in-process through runCli (output, exit codes, error rendering), and the real
// bin/caisson.js in a child process (help, version, stdin, exit status).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCaisson, type CliResult } from '../support/cli.js';
import { projectRoot } from '../support/paths.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-cli-test-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function cli(argv: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return runCaisson(argv, { cwd: dir, ...options });
}

describe('caisson parse', () => {
  test('the summary names stages, bases and dependencies', async () => {
    const file = write('multi.Dockerfile', 'ARG BASE=alpine\nFROM ${BASE} AS build\nRUN make\nFROM scratch\nCOPY --from=build /out /\n');
    const result = await cli(['parse', file, '--platform', 'linux/arm64']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      `${file}: 2 stage(s), target stage-1 for linux/arm64\n  0: build FROM image alpine, 1 instruction(s)\n  1: stage-1 FROM scratch, 1 instruction(s)\n       COPY --from stage build (line 5)\n`,
    );
  });

  test('--dump prints the BuildKit s-expression', async () => {
    const result = await cli(['parse', '--dump', write('dump.Dockerfile', 'FROM a\nCOPY --from=b x /y\n')]);
    assert.equal(result.stdout, '(from "a")\n(copy ["--from=b"] "x" "/y")\n');
  });

  test('--json prints typed instructions and the plan, with build args and targets', async () => {
    const file = write('json.Dockerfile', 'ARG TAG\nFROM alpine:${TAG} AS one\nRUN --mount=type=cache,target=/c true\nFROM one AS two\n');
    const result = await cli(['parse', '--json', file, '--build-arg', 'TAG=3.20', '--target', 'one']);
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout) as {
      stages: { instructions: { kind: string; mounts: { type: string }[] }[] }[];
      plan: { targets: number[]; order: number[]; globalArgs: Record<string, string>; stages: { baseName: string }[] };
    };
    assert.equal(json.stages[0]?.instructions[0]?.kind, 'run');
    assert.equal(json.stages[0]?.instructions[0]?.mounts[0]?.type, 'cache');
    assert.deepEqual(json.plan.targets, [0]);
    assert.deepEqual(json.plan.order, [0]);
    assert.equal(json.plan.globalArgs['TAG'], '3.20');
    assert.equal(json.plan.stages[0]?.baseName, 'alpine:3.20');
  });

  test('a bare --build-arg takes the environment value', async () => {
    const file = write('env.Dockerfile', 'ARG TAG=default\nFROM alpine:${TAG}\n');
    const result = await cli(['parse', '--json', file, '--build-arg', 'TAG'], { env: { TAG: 'from-env' } });
    assert.equal((JSON.parse(result.stdout) as { plan: { stages: { baseName: string }[] } }).plan.stages[0]?.baseName, 'alpine:from-env');
  });

  test('caisson build names a Dockerfile error as the Dockerfile was given: <stdin> for -f -, the path as written, each with its line', async () => {
    write('Dockerfile', 'FROM scratch\n');
    write('other.Dockerfile', 'FROM scratch\nCOPY missing /m\n');
    const flags = ['--no-push', '--cache-dir', join(dir, 'build-cache')];
    const piped = await cli(['build', '-f', '-', dir, ...flags], { stdin: 'FROM scratch\nRUNN x\n' });
    assert.equal(piped.code, 3);
    assert.match(piped.stderr, /^error: <stdin>:2: unknown instruction 'RUNN' \[ERR_DOCKERFILE_SYNTAX\]\n 2 \| RUNN x\nhint: did you mean RUN\?\n$/m);
    const named = await cli(['build', '-f', 'other.Dockerfile', dir, ...flags]);
    assert.equal(named.code, 4);
    assert.match(named.stderr, /^error: other\.Dockerfile:2: "missing": not found .*\n 2 \| COPY missing \/m\n/m);
  });

  test('a Dockerfile given as an http URL (as kaniko takes one): downloaded, its credentials sent as basic auth and never shown, errors naming the URL', async () => {
    const authorizations: (string | undefined)[] = [];
    const server = createServer((incoming, response) => {
      authorizations.push(incoming.headers.authorization);
      const bodies: Record<string, string> = { '/Dockerfile': 'FROM scratch\nCOPY a.txt /a.txt\n', '/bad': 'FROM scratch\nRUNN x\n' };
      const body = bodies[incoming.url ?? ''];
      response.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/plain' });
      response.end(body ?? 'not found\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}`;
      const parsed = await cli(['parse', `${url}/Dockerfile`]);
      assert.equal(parsed.code, 0, parsed.stderr);
      assert.match(parsed.stdout, new RegExp(`^${url}/Dockerfile: 1 stage\\(s\\)`));
      const bad = await cli(['parse', `http://builder:s3cret@127.0.0.1:${port}/bad`]);
      assert.equal(bad.code, 3);
      assert.equal(bad.stderr, `error: http://***@127.0.0.1:${port}/bad:2: unknown instruction 'RUNN' [ERR_DOCKERFILE_SYNTAX]\n 2 | RUNN x\nhint: did you mean RUN?\n`);
      assert.ok(authorizations.includes(`Basic ${Buffer.from('builder:s3cret').toString('base64')}`), 'the userinfo went as basic auth');
      const missing = await cli(['parse', `${url}/gone`]);
      assert.equal(missing.code, 4);
      assert.match(missing.stderr, new RegExp(`^error: cannot read Dockerfile ${url}/gone: the server answered 404 \\[ERR_INPUT_NOT_FOUND\\]\nhint: Check the URL`));
      const context = join(dir, 'url-context');
      mkdirSync(context);
      writeFileSync(join(context, 'a.txt'), 'a\n');
      const built = await cli(['build', '-f', `${url}/Dockerfile`, context, '--oci-layout-path', join(dir, 'url-layout'), '--cache-dir', join(dir, 'url-cache')]);
      assert.equal(built.code, 0, built.stderr);
      assert.match(built.stdout, /@sha256:[0-9a-f]{64}$/m);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('- reads standard input', async () => {
    const result = await cli(['parse', '--dump', '-'], { stdin: 'FROM a\n' });
    assert.equal(result.stdout, '(from "a")\n');
  });

  test('a Dockerfile error: message with file:line, the source line, the hint, exit 3', async () => {
    const file = write('bad.Dockerfile', 'FROM a\n\nRUNN echo hi\n');
    const result = await cli(['parse', file]);
    assert.equal(result.code, 3);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, `error: ${file}:3: unknown instruction 'RUNN' [ERR_DOCKERFILE_SYNTAX]\n 3 | RUNN echo hi\nhint: did you mean RUN?\n`);
  });

  test('a missing file: exit 4 naming the path', async () => {
    const result = await cli(['parse', 'nope/Dockerfile']);
    assert.equal(result.code, 4);
    assert.equal(result.stderr, 'error: cannot read Dockerfile nope/Dockerfile: no such file [ERR_INPUT_NOT_FOUND]\nhint: give the path of a Dockerfile, or - to read standard input\n');
  });

  test('a directory instead of a file', async () => {
    const result = await cli(['parse', '.']);
    assert.equal(result.code, 4);
    assert.match(result.stderr, /cannot read Dockerfile \.: it is a directory/);
  });

  test('usage errors exit 2: unknown flag, conflicting flags, bad platform, unknown command', async () => {
    assert.equal((await cli(['parse', '--bogus'])).code, 2);
    assert.equal((await cli(['parse', '--dump', '--json', 'x'])).code, 2);
    const platform = await cli(['parse', write('p.Dockerfile', 'FROM a\n'), '--platform', 'linux/z80']);
    assert.equal(platform.code, 2);
    assert.match(platform.stderr, /invalid --platform "linux\/z80": unknown architecture "z80"/);
    const unknown = await cli(['prase']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, 'error: unknown command "prase" [ERR_USAGE]\nhint: did you mean parse?\nRun "caisson --help" for usage.\n');
    const option = await cli(['lint', '--stirct']);
    assert.equal(option.code, 2);
    assert.equal(option.stderr, 'error: unknown option --stirct for caisson lint [ERR_USAGE]\nhint: did you mean --strict?\nRun "caisson lint --help" for usage.\n');
    const choice = await cli(['lint', '--format', 'xml']);
    assert.equal(choice.code, 2);
    assert.match(choice.stderr, /invalid value "xml" for --format \[ERR_USAGE\]\nhint: choose one of: text, json/);
    assert.equal((await cli(['parse', 'a', 'b'])).code, 2);
  });
});

describe('caisson lint', () => {
  test('clean: exit 0 and a summary line', async () => {
    const file = write('clean.Dockerfile', 'FROM alpine\nCMD ["sh"]\n');
    assert.deepEqual(await cli(['lint', file]), { code: 0, stdout: `${file}: 0 error(s), 0 warning(s)\n`, stderr: '' });
  });

  test('warnings exit 0, or 1 with --strict', async () => {
    const file = write('warn.Dockerfile', 'FROM alpine\nMAINTAINER me\n');
    const plain = await cli(['lint', file]);
    assert.equal(plain.code, 0);
    assert.equal(
      plain.stdout,
      `${file}:2: warning MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label\n    hint: use LABEL org.opencontainers.image.authors="..."\n    see https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/\n${file}: 0 error(s), 1 warning(s)\n`,
    );
    assert.equal((await cli(['lint', '--strict', file])).code, 1);
    assert.equal((await cli(['lint', write('err.Dockerfile', '# check=error=true\nFROM alpine\nMAINTAINER me\n')])).code, 1);
  });

  test('errors exit 1; JSON output lists every problem', async () => {
    const file = write('errors.Dockerfile', 'FROM a\nRUNN x\nCOPY one\n');
    const result = await cli(['lint', '--format', 'json', file]);
    assert.equal(result.code, 1);
    const json = JSON.parse(result.stdout) as { errors: number; warnings: number; problems: { rule: string; code: string; location: { line: number } }[] };
    assert.equal(json.errors, 2);
    assert.equal(json.warnings, 0);
    assert.deepEqual(json.problems.map((p) => [p.rule, p.code, p.location.line]), [
      ['InvalidDockerfile', 'ERR_DOCKERFILE_SYNTAX', 2],
      ['InvalidDockerfile', 'ERR_DOCKERFILE_INSTRUCTION', 3],
    ]);
  });

  test('the built-in example is clean', async () => {
    const result = await cli(['lint', join(projectRoot(), 'examples', 'hello', 'Dockerfile')]);
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /0 error\(s\), 0 warning\(s\)/);
  });
});

describe('bin/caisson.js as a process', () => {
  const bin = (): string => join(projectRoot(), 'bin', 'caisson.js');
  const run = (args: string[], input?: string) =>
    spawnSync(process.execPath, [bin(), ...args], { encoding: 'utf8', input: input ?? '', cwd: dir });

  test('--help lists every command with one line each', () => {
    const result = run(['--help']);
    assert.equal(result.status, 0);
    assert.match(
      result.stdout,
      /^Commands:\n {2}build \[context\] +Build an image from a Dockerfile and a context, and push it or write it locally\n {2}parse \[dockerfile\] +Parse a Dockerfile: stage summary, AST dump \(--dump\), typed JSON \(--json\)\n {2}lint \[dockerfile\] +Check a Dockerfile: syntax errors and BuildKit build-check warnings\n {2}inspect <image> +Show an image: .*\n {2}copy <source> <destination> +Copy an image .*\n {2}manifest <action> <list> \[images\.\.\.\] +Merge images built separately .*\n {2}cache <action> +Show \(du\) or trim \(gc\) the local layer store .*\n {2}warm +Pre-pull base images into the cache directory's layer store .*\n {2}generate-key-pair +Make a cosign key pair: .*\n {2}sign <image> +Sign an image in a registry, .*\n {2}verify <image> +Check an image's signatures .*\n {2}verify-attestation <image> +Check an image's in-toto attestations .*\n {2}tekton \[resource\] +Print caisson's Tekton resources as YAML.*\n {2}submit \[context\] +Build on a Kubernetes cluster: .*\n\n/m,
    );
    const command = run(['parse', '--help']);
    assert.equal(command.status, 0);
    assert.match(command.stdout, /^Usage: caisson parse \[dockerfile\] \[options\]$/m);
    assert.match(command.stdout, /^ {6}--build-arg KEY=VALUE +a value for an ARG; a bare KEY takes the environment value \(repeatable\)$/m);
  });

  test("the README's CLI reference is what --help prints", () => {
    const readme = readFileSync(join(projectRoot(), 'README.md'), 'utf8');
    const block = /^## CLI reference\n\n```\n([\s\S]*?)```$/m.exec(readme);
    assert.ok(block !== null, 'README.md has a CLI reference block');
    assert.equal(block[1], run(['--help']).stdout, 'README.md is stale: paste `npx caisson --help` into its CLI reference');
  });

  test('--version prints package.json version', () => {
    const version = (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
    const result = run(['--version']);
    assert.equal(result.status, 0);
    assert.equal(result.stdout.trim(), version);
  });

  test("starting runs no built-in module's lazy getters: node:util's loads worker_threads, node:fs's fs streams", () => {
    const preload = join(dir, 'loaded-builtins.cjs');
    const list = join(dir, 'loaded-builtins.json');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(process.moduleLoadList)));\n`);
    const result = spawnSync(process.execPath, ['--require', preload, bin(), '--version'], { encoding: 'utf8', cwd: dir });
    assert.equal(result.status, 0, result.stderr);
    const loaded = (JSON.parse(readFileSync(list, 'utf8')) as string[]).filter((name) => /^NativeModule (worker_threads|internal\/fs\/streams)$/.test(name));
    assert.deepEqual(loaded, []);
  });

  test('a node without process.getBuiltinModule (22.0 to 22.2) runs caisson on the pinned node', () => {
    // Another node: the pinned binary under another name (a hard link, or a copy across filesystems).
    const other = join(dir, 'node-22.2');
    const pinned = join(projectRoot(), 'node_modules', 'node', 'bin', 'node');
    try {
      linkSync(pinned, other);
    } catch {
      copyFileSync(pinned, other);
    }
    const preload = join(dir, 'no-get-builtin-module.cjs');
    writeFileSync(preload, 'delete process.getBuiltinModule;\n');
    const result = spawnSync(other, ['--require', preload, bin(), '--version'], { encoding: 'utf8', cwd: dir });
    rmSync(other);
    assert.equal(result.stderr, '');
    assert.equal(result.status, 0);
    assert.match(result.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  test('exit status and streams of a failing parse read from stdin', () => {
    const result = run(['parse', '-'], 'FROM a\nENV name\n');
    assert.equal(result.status, 3);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, "error: <stdin>:2: ENV must have two arguments [ERR_DOCKERFILE_SYNTAX]\n 2 | ENV name\nhint: write ENV name=<value>\n");
  });

  test("a build's usage error is reported once, past build's front door (src/cli/replay.ts)", () => {
    const result = run(['build', '--no-such-flag']);
    assert.equal(result.status, 2);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, 'error: unknown option --no-such-flag for caisson build [ERR_USAGE]\nhint: see caisson build --help for the options\nRun "caisson build --help" for usage.\n');
    const help = run(['build', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: caisson build \[context\] \[options\]/);
  });

  test('no command is a usage error', () => {
    const result = run([]);
    assert.equal(result.status, 2);
    assert.equal(result.stderr, 'error: give a command [ERR_USAGE]\nhint: see caisson --help\nRun "caisson --help" for usage.\n');
  });
});
