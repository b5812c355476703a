/**
 * Test helper (never a test itself): where the project and the shared golden corpora are,
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

/** ../shared/conformance/buildkit from the project root (BuildKit's golden testfiles). */
export function buildkitCorpus(): string {
  return join(projectRoot(), '..', 'shared', 'conformance', 'buildkit');
}
