// Bundles the compiled CLI (dist/src, from tsc) into dist/bundle/cli: one module graph per command
// (esbuild, code splitting), dependencies included, so starting caisson resolves a few files
// instead of some 300 (a warm no-change build starts in half the time). bin/caisson.js runs the
// bundle when it is at least as new as dist/src, else dist/src itself. The bundle sits three levels
// down, as dist/src/cli does, so paths relative to import.meta.url (package.json) stay right.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// caisson's `import { … } from 'node:fs'` lines (tsc keeps them one per line) become
// `const { … } = process.getBuiltinModule('node:fs')`: importing a built-in module builds an ES
// namespace of all its exports, which runs their lazy getters. node:fs's ReadStream getter loads
// fs streams, node:util's TextDecoder getter worker_threads: 13 modules a warm build never used,
// some 4 ms at every start. Only the bundle is rewritten; dist/src stays tsc's output. A line this
// rule does not fit (a default import) stays an import, which costs only the time.
const sources = `${root}dist/src/`;
const builtinsWithoutNamespaces = {
  name: 'builtins-without-namespaces',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(sources)) return undefined;
      const rewrite = (line, names, id) => (/\bdefault\b/.test(names) ? line : `const {${names.replace(/ as /g, ': ')}} = process.getBuiltinModule('${id}');`);
      return { loader: 'js', contents: readFileSync(args.path, 'utf8').replace(/^import \{([^}]*)\} from '(node:[a-z_/]+)';$/gm, rewrite) };
    });
  },
};
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
  plugins: [builtinsWithoutNamespaces],
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);" },
});
