// The golden corpora kept in test/golden/buildkit must equal the shared conformance copy beside
// the project (../shared/conformance/buildkit) wherever that exists.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { buildkitCorpus, sharedBuildkitCorpus } from '../support/paths.js';

function files(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(root, path) : [relative(root, path)];
  });
}

const shared = sharedBuildkitCorpus();

test('test/golden/buildkit equals ../shared/conformance/buildkit', { skip: existsSync(shared) ? false : `no shared corpus at ${shared} (only present in the development workspace)` }, () => {
  const ours = files(buildkitCorpus()).filter((file) => file !== 'SOURCE.md').sort();
  const theirs = files(shared).sort();
  assert.deepEqual(ours, theirs);
  assert.ok(ours.length >= 69, `only ${ours.length} files`);
  for (const file of theirs) {
    assert.ok(readFileSync(join(buildkitCorpus(), file)).equals(readFileSync(join(shared, file))), `${file} differs`);
  }
});
