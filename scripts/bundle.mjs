// Bundles the compiled CLI (dist/src, from tsc) into dist/bundle/cli: one module graph per command
// (esbuild, code splitting), dependencies included, so starting caisson resolves a few files
// instead of some 300 (a warm no-change build starts in half the time). bin/caisson.js runs the
// bundle when it is at least as new as dist/src, else dist/src itself. The bundle sits three levels
// down, as dist/src/cli does, so paths relative to import.meta.url (package.json) stay right.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}dist/bundle`, { recursive: true, force: true });
await build({
  entryPoints: [`${root}dist/src/cli/index.js`],
  outdir: `${root}dist/bundle/cli`,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  logLevel: 'warning',
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as caissonCreateRequire } from 'node:module'; const require = caissonCreateRequire(import.meta.url);" },
});
