/**
 * Test helper (never a test itself): where the project and the golden corpora are,
 * found by walking up from the compiled test file to caisson's package.json, so tests work
 * from dist/ or any other output directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'caisson') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('caisson package.json not found above the test file');
    dir = parent;
  }
}

/** BuildKit's golden testfiles, kept in the repository (test/golden/buildkit). */
export function buildkitCorpus(): string {
  return join(projectRoot(), 'test', 'golden', 'buildkit');
}

/** The shared conformance copy beside the project (../shared/conformance/buildkit), when present. */
export function sharedBuildkitCorpus(): string {
  return join(projectRoot(), '..', 'shared', 'conformance', 'buildkit');
}
