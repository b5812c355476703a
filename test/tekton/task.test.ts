// caisson's Tekton resources: the committed YAML (tekton/, catalog/task/caisson/0.1/) is exactly
// what `caisson tekton` prints (fails when stale); every committed YAML parses (a reader for the
// emitter's subset) and the Task and StepAction carry the catalog's mandatory metadata, a param per
// flag with the flag's own description, the declared workspaces and results, params reaching the
// step through env (never $(params.*) inside a script or a scalar arg), an explicit unprivileged
// securityContext; the emitter round-trips awkward strings; and the seven results of a build with
// a long registry name stay within the termination message.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { BUILD_OPTIONS } from '../../src/cli/build-flags.js';
import { caissonTask, RESULT_NAMES, resultsSize, TERMINATION_MESSAGE_LIMIT, TEKTON_RESERVED_BYTES, toYaml, TASK_VERSION, worstCaseResults, type YamlMap } from '../../src/tekton/index.js';
import { runCaisson } from '../support/cli.js';
import { projectRoot } from '../support/paths.js';
import { tektonYamlFiles } from '../support/tekton-schema.js';
import { readYaml, readYamlDocuments, type Yaml } from '../support/yaml.js';

type Obj = { [key: string]: Yaml };

function obj(value: Yaml | undefined, what: string): Obj {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${what} is a mapping`);
  return value;
}

function list(value: Yaml | undefined, what: string): Yaml[] {
  assert.ok(Array.isArray(value), `${what} is a sequence`);
  return value;
}

const REPO_ROOT = projectRoot();

const GENERATED: readonly (readonly [file: string, args: readonly string[]])[] = [
  ['tekton/task.yaml', ['tekton', 'task']],
  ['tekton/step-action.yaml', ['tekton', 'step-action']],
  ['tekton/pipeline.yaml', ['tekton', 'pipeline']],
  ['tekton/multi-platform-pipeline.yaml', ['tekton', 'multi-platform-pipeline']],
  [`catalog/task/caisson/${TASK_VERSION}/caisson.yaml`, ['tekton', 'task']],
];

/** The ENTRYPOINT of the repository's Dockerfile (caisson's image), in exec form. */
function dockerfileEntrypoint(): string[] {
  const line = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').split('\n').find((text) => text.startsWith('ENTRYPOINT '));
  assert.ok(line !== undefined, 'the Dockerfile has an ENTRYPOINT');
  return JSON.parse(line.slice('ENTRYPOINT '.length)) as string[];
}

describe('committed Tekton YAML', () => {
  for (const [file, args] of GENERATED) {
    test(`${file} is what caisson ${args.join(' ')} prints`, async () => {
      const printed = await runCaisson(args, { cwd: REPO_ROOT });
      assert.equal(printed.code, 0, printed.stderr);
      assert.equal(readFileSync(join(REPO_ROOT, file), 'utf8'), printed.stdout, `${file} is stale: run caisson ${args.join(' ')} > ${file}`);
    });
  }

  test('--step-action prints the StepAction', async () => {
    const flag = await runCaisson(['tekton', 'task', '--step-action'], { cwd: REPO_ROOT });
    assert.equal(flag.stdout, readFileSync(join(REPO_ROOT, 'tekton/step-action.yaml'), 'utf8'));
    const unknown = await runCaisson(['tekton', 'taks'], { cwd: REPO_ROOT });
    assert.equal(unknown.code, 2);
  });

  test('every YAML under tekton/ and catalog/ parses, with apiVersion, kind and metadata.name', () => {
    const files = tektonYamlFiles();
    assert.ok(files.length >= 7, files.join(', '));
    for (const file of files) {
      for (const document of readYamlDocuments(readFileSync(file, 'utf8'))) {
        const resource = obj(document, relative(REPO_ROOT, file));
        assert.match(String(resource['apiVersion']), /^(tekton\.dev\/v1(beta1)?|v1)$/, file);
        assert.equal(typeof resource['kind'], 'string', file);
        const metadata = obj(resource['metadata'], `${file} metadata`);
        assert.ok(typeof metadata['name'] === 'string' || typeof metadata['generateName'] === 'string', file);
      }
    }
  });

  test('the catalog layout: caisson.yaml, README.md, samples/, tests/run.yaml', () => {
    const dir = join(REPO_ROOT, 'catalog', 'task', 'caisson', TASK_VERSION);
    for (const entry of ['caisson.yaml', 'README.md', 'samples/taskrun.yaml', 'tests/run.yaml', 'tests/resources.yaml']) assert.ok(statSync(join(dir, entry)).isFile(), entry);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    for (const name of [...RESULT_NAMES, 'IMAGE', 'BUILD_ARGS', 'EXTRA_ARGS', 'BUILDER_IMAGE', 'dockerconfig', 'signing-secrets', 'sslcertdir', 'kaniko']) assert.ok(readme.includes(name), `README mentions ${name}`);
  });

  for (const file of ['tekton/task.yaml', 'tekton/step-action.yaml']) {
    test(`${file}: catalog metadata, params from the flags, env-only params, securityContext`, () => {
      const resource = obj(readYaml(readFileSync(join(REPO_ROOT, file), 'utf8')), file);
      const metadata = obj(resource['metadata'], 'metadata');
      assert.equal(obj(metadata['labels'], 'labels')['app.kubernetes.io/version'], TASK_VERSION);
      const annotations = obj(metadata['annotations'], 'annotations');
      for (const key of ['tekton.dev/pipelines.minVersion', 'tekton.dev/categories', 'tekton.dev/tags', 'tekton.dev/displayName', 'tekton.dev/platforms']) {
        assert.equal(typeof annotations[key], 'string', key);
        assert.notEqual(annotations[key], '', key);
      }
      assert.match(String(annotations['tekton.dev/pipelines.minVersion']), /^\d+\.\d+\.\d+$/);
      const spec = obj(resource['spec'], 'spec');
      const summary = String(spec['description']).split('\n')[0] ?? '';
      assert.ok(summary.length > 20 && summary.endsWith('.'), 'spec.description starts with a one-line summary');

      const params = list(spec['params'], 'params').map((param) => obj(param, 'param'));
      const names = params.map((param) => param['name']);
      for (const name of ['IMAGE', 'DOCKERFILE', 'CONTEXT', 'BUILD_ARGS', 'TARGET', 'PLATFORMS', 'EXTRA_ARGS', 'CACHE_REPO', 'SIGN', 'PROVENANCE', 'BUILDER_IMAGE']) assert.ok(names.includes(name), name);
      const byName = new Map(params.map((param) => [param['name'], param]));
      assert.equal(byName.get('DOCKERFILE')?.['default'], './Dockerfile');
      assert.equal(byName.get('CONTEXT')?.['default'], './');
      assert.equal(byName.get('SIGN')?.['default'], 'false');
      assert.equal(byName.get('BUILD_ARGS')?.['type'], 'array');
      assert.equal(byName.get('EXTRA_ARGS')?.['type'], 'array');
      assert.equal(byName.get('IMAGE')?.['default'], undefined, 'IMAGE is required');
      const destination = BUILD_OPTIONS.find((option) => option.name === 'destination');
      assert.equal(byName.get('IMAGE')?.['description'], `${destination?.describe} (caisson build --destination)`);

      const results = list(spec['results'], 'results').map((result) => obj(result, 'result'));
      assert.deepEqual(results.map((result) => result['name']), [...RESULT_NAMES]);
      assert.equal(results.find((result) => result['name'] === 'IMAGE_ARTIFACT_OUTPUTS')?.['type'], 'object');

      const step = resource['kind'] === 'Task' ? obj(list(spec['steps'], 'steps')[0], 'step') : spec;
      if (resource['kind'] === 'Task') {
        assert.equal(list(spec['steps'], 'steps').length, 1, 'one step');
        const workspaces = list(spec['workspaces'], 'workspaces').map((workspace) => obj(workspace, 'workspace'));
        assert.deepEqual(workspaces.map((workspace) => workspace['name']), ['source', 'dockerconfig', 'signing-secrets', 'cache', 'sslcertdir']);
        assert.deepEqual(workspaces.filter((workspace) => workspace['optional'] === true).map((workspace) => workspace['name']), ['dockerconfig', 'signing-secrets', 'cache', 'sslcertdir']);
      }
      assert.equal(step['script'], undefined, 'no script');
      assert.deepEqual(step['command'], dockerfileEntrypoint(), "the command is caisson's image's ENTRYPOINT");
      assert.equal(step['image'], '$(params.BUILDER_IMAGE)');
      const args = list(step['args'], 'args').map(String);
      assert.equal(args[0], 'build');
      for (const arg of args) {
        // Only array params are spread into args, each as a whole element; scalars come from env.
        if (arg.includes('$(params.')) assert.match(arg, /^\$\(params\.(EXTRA_ARGS|BUILD_ARGS)\[\*\]\)$/, arg);
      }
      assert.ok(args.indexOf('--') < args.indexOf('$(params.BUILD_ARGS[*])'), 'build args after --');
      const env = new Map(list(step['env'], 'env').map((entry) => [obj(entry, 'env')['name'], obj(entry, 'env')['value']]));
      for (const name of ['IMAGE', 'DOCKERFILE', 'CONTEXT', 'TARGET', 'PLATFORMS', 'CACHE_REPO', 'SIGN', 'PROVENANCE']) {
        assert.equal(env.get(name), `$(params.${name})`, `env ${name}`);
        assert.ok(args.some((arg) => arg.endsWith(`=$(${name})`)), `an arg uses $(${name})`);
      }
      const security = obj(step['securityContext'], 'securityContext');
      assert.equal(security['privileged'], false);
      assert.equal(security['allowPrivilegeEscalation'], false);
      assert.equal(security['runAsUser'], 0);
      const capabilities = obj(security['capabilities'], 'capabilities');
      assert.deepEqual(capabilities['drop'], ['ALL']);
      assert.ok(!list(capabilities['add'], 'add').includes('ALL'));
    });
  }

  test('every param of the Task describes its flag as the CLI does', () => {
    const task = caissonTask({ version: '9.9.9', flags: [{ name: 'destination', describe: 'X' }, ...BUILD_OPTIONS] });
    const params = (task['spec'] as YamlMap)['params'] as readonly YamlMap[];
    for (const param of params) {
      const match = /\(caisson build --([a-z-]+)\)$/.exec(String(param['description']));
      if (match === null) continue;
      const option = BUILD_OPTIONS.find((candidate) => candidate.name === match[1]);
      assert.ok(option !== undefined, String(param['name']));
    }
    assert.throws(() => caissonTask({ version: '1', flags: [] }), /does not declare/);
  });
});

describe('the YAML emitter', () => {
  test('round-trips awkward strings through the reader', () => {
    const data: YamlMap = {
      plain: 'a b-c/d.e',
      empty: '',
      bool: 'true',
      yes: 'yes',
      number: '0.1',
      int: 12,
      truth: false,
      nothing: null,
      colon: 'key: value',
      hash: 'a #b',
      dash: '-x',
      star: '*x',
      quote: '"q" and \'s\'',
      unicode: 'é',
      block: 'line 1\nline 2\n',
      blockNoEnd: 'line 1\n  line 2',
      list: ['a', '--flag=$(X)', [], {}, { k: 'v', n: { m: ['x'] } }, 'l1\nl2\n'],
      'key with: colon': 'v',
      nested: { a: { b: { c: [] } } },
      '#': 'a comment\nover two lines',
    };
    const { '#': _comment, ...expected } = data;
    const text = toYaml(data);
    assert.deepEqual(readYaml(text), expected, text);
    assert.match(text, /^# a comment$/m);
    assert.equal(toYaml(data), text, 'deterministic');
  });
});

describe('the results budget', () => {
  test('seven results for a long registry name and three destinations fit in the termination message', () => {
    const repository = `${'registry-'.repeat(8)}example.com:5000/${'team/'.repeat(6)}service`;
    const pushed = ['1.0.0', 'latest', 'sha-0123456789abcdef0123456789abcdef01234567'].map((tag, index) => ({ url: `${repository}-${index}:${tag}`, repository: `${repository}-${index}` }));
    const results = worstCaseResults({ pushed, sign: true, attest: true, provenance: true });
    assert.equal(results.length, 7);
    const size = resultsSize(results);
    assert.ok(size + TEKTON_RESERVED_BYTES < TERMINATION_MESSAGE_LIMIT, `${size} bytes`);
    const raw = results.reduce((sum, result) => sum + Buffer.byteLength(result.value), 0);
    assert.ok(raw < size, 'the measured size includes the encoding');
  });
});
