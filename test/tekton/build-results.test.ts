// Tekton results from real builds pushed to a real docker-registry: `caisson build
// --results-dir` with --sign --provenance and a key from `caisson generate-key-pair` writes the
// seven files, each checked against what the registry holds (the manifest digest skopeo reads, the
// .sig and .att tags), the provenance file's sha256 and `caisson verify`; too many destinations are
// refused before anything is built. Then the Task's step as tekton/task.yaml writes it (command,
// args, env, Tekton's and Kubernetes' $(…) substitutions done as they would be, workspaces as temp
// directories, Tekton's results directory given as the step would find it).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CAISSON_COMMAND, RESULT_NAMES } from '../../src/tekton/index.js';
import { runCaisson } from '../support/cli.js';
import { projectRoot } from '../support/paths.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';
import { readYaml, type Yaml } from '../support/yaml.js';

const skip = missingTool('docker-registry', 'docker-registry') ?? missingTool('skopeo', 'skopeo');
const PASSWORD = 'tekton results';

function manifestDigest(reference: string): string {
  const raw = runTool('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${reference}`]);
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

function readResults(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

describe('Tekton results of caisson build', { skip }, () => {
  let dir = '';
  let registry: RunningRegistry;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'caisson-tekton-'));
    registry = await startRegistry({ setup: 'plain' });
    const context = join(dir, 'context');
    mkdirSync(context);
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nARG GREETING=none\nCOPY hello.txt /\nLABEL greeting=$GREETING\n');
    writeFileSync(join(context, 'hello.txt'), 'hello\n');
    const made = await runCaisson(['generate-key-pair', '--output-key-prefix', 'cosign'], { cwd: dir, env: { COSIGN_PASSWORD: PASSWORD } });
    assert.equal(made.code, 0, made.stderr);
  });

  after(async () => {
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('--results-dir with --sign --provenance --key: every file', async () => {
    const results = join(dir, 'results-one');
    const first = `${registry.host}/team/app:1.0`;
    const second = `${registry.host}/mirror/app:1.0`;
    const build = await runCaisson(
      ['build', 'context', '-d', first, '-d', `${registry.host}/team/app:latest`, '-d', second, '--cache-dir', join(dir, 'cache'), '--sign', '--provenance', '--key', 'cosign.key', '--tlog-upload=false', '--provenance-file', 'provenance.json', '--results-dir', results],
      { cwd: dir, env: { COSIGN_PASSWORD: PASSWORD } },
    );
    assert.equal(build.code, 0, build.stderr);
    const files = readResults(results);
    assert.deepEqual(Object.keys(files).sort(), [...RESULT_NAMES].sort());
    const digest = manifestDigest(first);
    const hex = digest.slice('sha256:'.length);
    assert.equal(files['IMAGE_DIGEST'], digest);
    assert.equal(files['IMAGE_URL'], first);
    assert.equal(files['IMAGES'], `${registry.host}/team/app@${digest}\n${registry.host}/mirror/app@${digest}`);
    assert.equal(files['IMAGE_ARTIFACT_OUTPUTS'], JSON.stringify({ uri: `${registry.host}/team/app`, digest, isBuildArtifact: 'true' }));
    assert.equal(files['SIGNATURE_REF'], `${registry.host}/team/app:sha256-${hex}.sig`);
    assert.equal(files['ATTESTATION_REF'], `${registry.host}/team/app:sha256-${hex}.att`);
    manifestDigest(files['SIGNATURE_REF'] ?? '');
    manifestDigest(files['ATTESTATION_REF'] ?? '');
    assert.equal(files['PROVENANCE_DIGEST'], `sha256:${createHash('sha256').update(readFileSync(join(dir, 'provenance.json'))).digest('hex')}`);
    const verified = await runCaisson(['verify', `${registry.host}/team/app@${digest}`, '--key', 'cosign.pub', '--insecure-ignore-tlog'], { cwd: dir });
    assert.equal(verified.code, 0, verified.stderr);
  });

  test('results that could not fit the termination message are refused before the build', async () => {
    const destinations = Array.from({ length: 40 }, (_, index) => ['-d', `${registry.host}/a-rather-long-organisation-name/and-a-project-name/service-number-${index}:1.0`]).flat();
    const build = await runCaisson(['build', 'context', ...destinations, '--cache-dir', join(dir, 'cache'), '--results-dir', join(dir, 'results-many')], { cwd: dir });
    assert.equal(build.code, 2, build.stderr);
    assert.match(build.stderr, /the Tekton results would take \d+ bytes \(40 image name\(s\) in IMAGES\)/);
    assert.doesNotMatch(build.stderr, /built sha256/);
  });

  test("the Task's step, run as tekton/task.yaml writes it", async () => {
    const task = readYaml(readFileSync(join(projectRoot(), 'tekton', 'task.yaml'), 'utf8')) as { spec: { params: { name: string; default?: Yaml }[]; steps: { command: string[]; args: string[]; env: { name: string; value: string }[]; workingDir: string }[] } };
    const step = task.spec.steps[0];
    assert.ok(step !== undefined);
    assert.deepEqual(step.command, [...CAISSON_COMMAND]);
    const workspace = join(dir, 'workspace');
    const source = join(workspace, 'source');
    const secrets = join(workspace, 'signing-secrets');
    mkdirSync(source, { recursive: true });
    mkdirSync(secrets);
    writeFileSync(join(source, 'Dockerfile'), 'FROM scratch\nARG GREETING=none\nCOPY hello.txt /\nLABEL greeting=$GREETING\n');
    writeFileSync(join(source, 'hello.txt'), 'hello from a TaskRun\n');
    writeFileSync(join(secrets, 'cosign.key'), readFileSync(join(dir, 'cosign.key')));
    writeFileSync(join(secrets, 'cosign.password'), PASSWORD);
    const image = `${registry.host}/tekton/app:run-1`;
    // The TaskRun's params over the Task's defaults.
    const given: Record<string, Yaml> = { IMAGE: image, SIGN: 'true', PROVENANCE: 'true', BUILD_ARGS: ['GREETING=hi there'], EXTRA_ARGS: ['--tlog-upload=false', `--cache-dir=${join(dir, 'cache')}`] };
    const params = new Map(task.spec.params.map((param) => [param.name, given[param.name] ?? param.default]));
    const workspaces: Record<string, string> = { source, 'signing-secrets': secrets, dockerconfig: '', cache: '', sslcertdir: '' };
    // Tekton's substitution: params, workspace paths (empty when unbound), context; arrays spread.
    const tekton = (text: string): string =>
      text
        .replace(/\$\(params\.([A-Z_]+)\)/g, (_, name: string) => String(params.get(name)))
        .replace(/\$\(workspaces\.([a-z-]+)\.path\)/g, (_, name: string) => workspaces[name] ?? assert.fail(`unknown workspace ${name}`))
        .replace('$(context.taskRun.uid)', 'taskrun-uid-1');
    const env = Object.fromEntries(step.env.map((entry) => [entry.name, tekton(entry.value)]));
    // Kubernetes' dependent variables: $(VAR) in args from the container's env.
    const kubernetes = (text: string): string => text.replace(/\$\(([A-Z_]+)\)/g, (whole, name: string) => env[name] ?? whole);
    const argv = step.args.flatMap((arg) => {
      const spread = /^\$\(params\.([A-Z_]+)\[\*\]\)$/.exec(arg);
      return spread === null ? [kubernetes(tekton(arg))] : (params.get(spread[1] as string) as string[]);
    });
    assert.ok(!argv.some((arg) => arg.includes('$(')), argv.join(' '));
    const results = join(dir, 'tekton-results');
    mkdirSync(results);
    const run = await runCaisson(argv, { cwd: tekton(step.workingDir), env, tektonResultsDir: results });
    assert.equal(run.code, 0, run.stderr);
    const files = readResults(results);
    const digest = manifestDigest(image);
    assert.equal(files['IMAGE_DIGEST'], digest);
    assert.equal(files['IMAGE_URL'], image);
    assert.equal(files['IMAGES'], `${registry.host}/tekton/app@${digest}`);
    assert.equal(files['SIGNATURE_REF'], `${registry.host}/tekton/app:sha256-${digest.slice(7)}.sig`);
    assert.equal(files['ATTESTATION_REF'], `${registry.host}/tekton/app:sha256-${digest.slice(7)}.att`);
    assert.match(files['PROVENANCE_DIGEST'] ?? '', /^sha256:[0-9a-f]{64}$/);
    const config = JSON.parse(runTool('skopeo', ['inspect', '--tls-verify=false', '--config', `docker://${image}`])) as { config: { Labels: Record<string, string> } };
    assert.equal(config.config.Labels['greeting'], 'hi there', 'BUILD_ARGS reached the build');
    for (const command of ['verify', 'verify-attestation']) {
      const verified = await runCaisson([command, `${registry.host}/tekton/app@${digest}`, '--key', 'cosign.pub', '--insecure-ignore-tlog'], { cwd: dir });
      assert.equal(verified.code, 0, `${command}: ${verified.stderr}`);
    }
  });
});
