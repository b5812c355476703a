// Every YAML document under tekton/ and catalog/ conforms to the schema of Tekton's API fields
// (test/fixtures/tekton/tekton-v1.schema.json) for its kind, and the schema is strict enough to
// matter: a misspelled Task field, a matrix param that is not an array, a non-boolean privileged, an unknown result type, an env var with
// both value and valueFrom, a v1 StepAction and a numeric label each fail with a message naming the
// path of the offending value.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, test } from 'node:test';
import { projectRoot } from '../support/paths.js';
import { tektonValidator, tektonYamlFiles } from '../support/tekton-schema.js';
import { readYaml, readYamlDocuments, type Yaml } from '../support/yaml.js';

const validator = tektonValidator();

/** A minimal Task that conforms, for the negative checks to break one field of. */
const TASK = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: sample
spec:
  params:
    - name: IMAGE
      type: string
  results:
    - name: IMAGE_DIGEST
      type: string
  steps:
    - name: build
      image: busybox
      securityContext:
        privileged: false
`;

function violations(text: string): string[] {
  return validator.check(readYaml(text));
}

describe('Tekton YAML against the Tekton v1 API schema', () => {
  test('every document under tekton/ and catalog/ validates by its kind', (context) => {
    const root = projectRoot();
    const files = tektonYamlFiles();
    const kinds: string[] = [];
    for (const file of files) {
      const documents: Yaml[] = readYamlDocuments(readFileSync(file, 'utf8'));
      documents.forEach((document, index) => {
        const where = `${relative(root, file)} document ${index + 1}`;
        assert.deepEqual(validator.check(document), [], where);
        kinds.push((document as { kind: string }).kind);
      });
    }
    context.diagnostic(`validated ${kinds.length} documents from ${files.length} files: ${kinds.join(', ')}`);
    assert.ok(files.length >= 7, `expected the 7 committed Tekton files, found ${files.length}`);
    assert.ok(kinds.length >= files.length, `${kinds.length} documents validated, fewer than the ${files.length} YAML files`);
    for (const kind of ['Task', 'StepAction', 'Pipeline', 'TaskRun', 'PipelineRun']) assert.ok(kinds.includes(kind), `no ${kind} validated`);
  });

  test('the sample Task validates', () => {
    assert.deepEqual(violations(TASK), []);
  });

  test('a misspelled Task field fails, naming it and its path', () => {
    const errors = violations(TASK.replace('  params:', '  parms:'));
    assert.ok(errors.includes('/spec: unknown field parms'), errors.join('\n'));
  });

  test('privileged must be a boolean', () => {
    const errors = violations(TASK.replace('privileged: false', 'privileged: "yes"'));
    assert.ok(errors.includes('/spec/steps/0/securityContext/privileged: must be boolean'), errors.join('\n'));
  });

  test('a result type outside string, array and object fails', () => {
    const errors = violations(TASK.replace(/(IMAGE_DIGEST\n\s+type: )string/, '$1digest'));
    assert.ok(errors.some((error) => error.startsWith('/spec/results/0/type: must be equal to one of the allowed values')), errors.join('\n'));
  });

  test('an env var has a value or a valueFrom, not both', () => {
    const errors = violations(TASK.replace('      image: busybox\n', '      image: busybox\n      env:\n        - name: A\n          value: a\n          valueFrom:\n            secretKeyRef:\n              key: a\n'));
    assert.ok(errors.includes('/spec/steps/0/env/0: value and valueFrom exclude each other'), errors.join('\n'));
  });

  test('a StepAction keeps to v1beta1 and to its own fields', () => {
    const stepAction = 'apiVersion: tekton.dev/v1\nkind: StepAction\nmetadata:\n  name: s\nspec:\n  image: busybox\n  onError: continue\n';
    const errors = violations(stepAction);
    assert.ok(errors.some((error) => error.startsWith('/apiVersion: must be equal to constant')), errors.join('\n'));
    assert.ok(errors.includes('/spec: unknown field onError'), errors.join('\n'));
  });

  test("a matrix fans out array params and lists include combinations of strings", () => {
    const pipeline = (matrix: string): string[] =>
      violations(`apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata:\n  name: p\nspec:\n  tasks:\n    - name: t\n      taskRef:\n        name: caisson\n      matrix:\n${matrix}`);
    assert.deepEqual(pipeline('        params:\n          - name: PLATFORMS\n            value:\n              - linux/amd64\n'), []);
    assert.deepEqual(pipeline('        include:\n          - name: amd64\n            params:\n              - name: IMAGE\n                value: a\n'), []);
    assert.ok(pipeline('        params:\n          - name: PLATFORMS\n            value: linux/amd64\n').includes('/spec/tasks/0/matrix/params/0/value: must be array'));
    assert.ok(pipeline('        combos: []\n').includes('/spec/tasks/0/matrix: unknown field combos'));
  });

  test('an unknown kind and a label that is no string fail', () => {
    assert.ok(violations('apiVersion: tekton.dev/v1\nkind: Taks\nmetadata:\n  name: t\nspec: {}\n').some((error) => error.startsWith('/kind: must be equal to one of the allowed values')));
    const errors = violations(TASK.replace('  name: sample', '  name: sample\n  labels:\n    app.kubernetes.io/version: 0.1'));
    assert.ok(errors.includes('/metadata/labels/app.kubernetes.io~1version: must be string'), errors.join('\n'));
  });
});
