// Bundles the compiled CLI (dist/src, from tsc) into dist/bundle/cli: one module graph per command
// (esbuild, code splitting), dependencies included, so starting caisson resolves a few files
// instead of some 300 (a warm no-change build starts in half the time); and build's front door
// (src/cli/replay.ts) into dist/bundle/replay, one file. bin/caisson.js runs the bundles when they
// are at least as new as dist/src, else dist/src itself. Both sit three levels down, as dist/src/cli
// does, so paths relative to import.meta.url (package.json) stay right.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// caisson's `import { … } from 'node:fs'` lines (tsc keeps them one per line) become
// `const { … } = process.getBuiltinModule('node:fs')`: importing a built-in module builds an ES
// namespace of all its exports, which runs their lazy getters. node:fs's ReadStream getter loads
// fs streams, node:util's TextDecoder getter worker_threads: 13 modules a warm build never used,
// some 4 ms at every start. node:crypto (2-3 ms to load) and node:fs/promises (1 ms) are only
// taken when a function of theirs is first called: their names become functions that call it (a
// build answered from its record calls none). Only the bundle is rewritten; dist/src stays tsc's
// output. A line this rule does not fit (a default import) stays an import, which costs only the time.
const sources = `${root}dist/src/`;
const lazyBuiltins = { 'node:crypto': process.getBuiltinModule('node:crypto'), 'node:fs/promises': process.getBuiltinModule('node:fs/promises') };
function bindBuiltin(line, names, id) {
  if (/\bdefault\b/.test(names)) return line;
  const bindings = names.split(',').map((name) => name.trim()).filter((name) => name !== '').map((name) => name.split(/\s+as\s+/));
  const lazy = lazyBuiltins[id];
  if (lazy === undefined || !bindings.every(([name]) => typeof lazy[name] === 'function')) return `const {${names.replace(/ as /g, ': ')}} = process.getBuiltinModule('${id}');`;
  return `const ${bindings.map(([name, local = name]) => `${local} = (...args) => process.getBuiltinModule('${id}').${name}(...args)`).join(', ')};`;
}
const builtinsWithoutNamespaces = {
  name: 'builtins-without-namespaces',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(sources)) return undefined;
      return { loader: 'js', contents: readFileSync(args.path, 'utf8').replace(/^import \{([^}]*)\} from '(node:[a-z_/]+)';$/gm, bindBuiltin) };
    });
  },
};

/** The file a relative import names. */
const imported = (args) => resolve(dirname(args.importer), args.path);

// Our own modules have no side effects on import (DESIGN.md: no module-level state), so esbuild may
// drop what a bundle never uses from them, barrels (index.ts) included. For the replay bundle only:
// the split CLI keeps its chunks as they are.
const ownModulesWithoutSideEffects = {
  name: 'own-modules-without-side-effects',
  setup(build) {
    build.onResolve({ filter: /^\./ }, (args) => (args.importer.startsWith(sources) && args.kind === 'import-statement' ? { path: imported(args), sideEffects: false } : undefined));
  },
};

// The replay bundle is one file: a dynamic import in it (the build command, when the record does
// not answer; Tekton's results) loads tsc's module, as dist/src/cli/replay.js would.
const replayOut = `${root}dist/bundle/replay/`;
const dynamicImportsFromSources = {
  name: 'dynamic-imports-from-sources',
  setup(build) {
    build.onResolve({ filter: /^\./ }, (args) => (args.kind === 'dynamic-import' ? { path: relative(replayOut, imported(args)), external: true } : undefined));
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  logLevel: 'warning',
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);" },
};
rmSync(`${root}dist/bundle`, { recursive: true, force: true });
// The CLI: one module graph per command (code splitting).
await build({ ...common, entryPoints: [`${root}dist/src/cli/index.js`], outdir: `${root}dist/bundle/cli`, splitting: true, plugins: [builtinsWithoutNamespaces] });
// The front door of caisson build (src/cli/replay.ts): what answering from a build record needs,
// in one file, tried before the CLI is loaded (a no-change rebuild starts some 6 ms sooner).
await build({ ...common, entryPoints: [`${root}dist/src/cli/replay.js`], outfile: `${replayOut}replay.js`, plugins: [dynamicImportsFromSources, ownModulesWithoutSideEffects, builtinsWithoutNamespaces] });
