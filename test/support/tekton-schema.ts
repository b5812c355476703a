/**
 * Test helper (never a test itself): caisson's committed Tekton YAML files and a validator for
 * them against test/fixtures/tekton/tekton-v1.schema.json, the parts of Tekton's v1 API (and the
 * v1beta1 StepAction, and the Kubernetes objects the catalog tests create) those files use, with
 * closed objects so a misspelled or misplaced field fails. The schema is JSON Schema 2020-12,
 * checked by ajv.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { projectRoot } from './paths.js';
import type { Yaml } from './yaml.js';

/** The schema file, kept with the other fixtures. */
export function tektonSchemaPath(): string {
  return join(projectRoot(), 'test', 'fixtures', 'tekton', 'tekton-v1.schema.json');
}

/** Every .yaml/.yml file under `dir`, recursively. */
export function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return name.endsWith('.yaml') || name.endsWith('.yml') ? [path] : [];
  });
}

/** The committed Tekton YAML: every file under tekton/ and catalog/. */
export function tektonYamlFiles(): string[] {
  const root = projectRoot();
  return [...yamlFiles(join(root, 'tekton')), ...yamlFiles(join(root, 'catalog'))];
}

/** One schema violation as `<instance path>: <message>`, naming the offending field where ajv knows it. */
function describeError(error: ErrorObject): string {
  const path = error.instancePath === '' ? '/' : error.instancePath;
  const params = error.params as { additionalProperty?: string; unevaluatedProperty?: string; allowedValues?: unknown[] };
  const field = params.additionalProperty ?? params.unevaluatedProperty;
  if (field !== undefined) return `${path}: unknown field ${field}`;
  if (error.keyword === 'not') {
    const excluded = (error.schema as { required?: string[] } | undefined)?.required;
    if (excluded !== undefined) return `${path}: ${excluded.join(' and ')} exclude each other`;
  }
  if (params.allowedValues !== undefined) return `${path}: ${error.message ?? 'invalid'} (${params.allowedValues.map(String).join(', ')})`;
  return `${path}: ${error.message ?? 'invalid'}`;
}

/** Checks documents against the schema; `check` returns the violations of one document (empty when it conforms). */
export interface TektonValidator {
  check(document: Yaml): string[];
}

/** Compiles the schema once; `check` may be called for any number of documents. */
export function tektonValidator(): TektonValidator {
  // Strict (unknown keywords, ambiguous types fail to compile) but for required in anyOf/not, which name a property declared beside them, and for union types (a quantity is a string or a number).
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });
  const validate = ajv.compile(JSON.parse(readFileSync(tektonSchemaPath(), 'utf8')) as object);
  return {
    check(document) {
      if (validate(document)) return [];
      // The if/then dispatch on kind adds a 'must match "then" schema' error above the real ones.
      return [...new Set((validate.errors ?? []).filter((error) => error.keyword !== 'if').map(describeError))];
    },
  };
}
