// Golden runner: every case of BuildKit's parser testfiles (../shared/conformance/buildkit/parser)
// must dump byte for byte as its `result` file.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dumpDockerfile, parseDockerfile } from '../../src/dockerfile/index.js';
import { buildkitCorpus } from '../support/paths.js';

const EXPECTED_CASES = 33;

test('BuildKit parser testfiles: the dump equals result for every case', () => {
  const dir = join(buildkitCorpus(), 'parser');
  const cases = readdirSync(dir).sort();
  let ran = 0;
  for (const name of cases) {
    const text = readFileSync(join(dir, name, 'Dockerfile'), 'utf8');
    const expected = readFileSync(join(dir, name, 'result'), 'utf8');
    assert.equal(dumpDockerfile(parseDockerfile({ text, file: `${name}/Dockerfile` })), expected, `case ${name}`);
    ran++;
  }
  assert.equal(ran, EXPECTED_CASES, `ran ${ran} parser cases, expected ${EXPECTED_CASES}`);
});
