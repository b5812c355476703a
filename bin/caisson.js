#!/usr/bin/env node
// caisson's command: runs the compiled CLI (dist/, built by `npm ci` / `npm run build`: tsc, then
// the bundle) on the Node 24 the repository pins; an older node re-runs this file with the pinned
// one when present.

// Built-in modules as their CommonJS exports, as the bundle takes them (scripts/bundle.mjs says
// why); a node too old for getBuiltinModule imports them, to say that it is too old.
const builtin = (id) => process.getBuiltinModule?.(id) ?? import(id);
const [{ existsSync, readFileSync, realpathSync, statSync }, module, { basename, join }, { fileURLToPath }] = await Promise.all(['node:fs', 'node:module', 'node:path', 'node:url'].map(builtin));

// Before 22, or a 22 before getBuiltinModule (22.3), which the bundle needs: the pinned node.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22 || process.getBuiltinModule === undefined) {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned) || realpathSync(pinned) === process.execPath) {
    console.error(`caisson needs Node.js 22.12 or later (this is ${process.version}). Run "npm ci" in the caisson checkout, then "npx caisson".`);
    process.exit(2);
  }
  const result = module.createRequire(import.meta.url)('node:child_process').spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

// Reuse V8's compiled bytecode across runs (node's on-disk compile cache; a no-op where the
// cache directory cannot be written). It lives in caisson's default cache directory (the rule of
// --cache-dir's default, src/cli/cache-directory.ts defaultCacheDirectory), never in /tmp: with
// no home for it there is none; NODE_COMPILE_CACHE wins. `cache du` counts it and `cache gc` removes its unused entries
// (src/cli/compile-cache.ts, which names the directory too).
const env = process.env;
const cacheHome = env.CAISSON_CACHE_DIR || (env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, 'caisson') : env.HOME ? join(env.HOME, '.cache', 'caisson') : undefined);
const compileCache = env.NODE_COMPILE_CACHE || (cacheHome === undefined ? undefined : join(cacheHome, 'node-compile-cache'));
if (compileCache !== undefined) module.enableCompileCache?.(compileCache);

// The words that started this node: process.execPath, or, when node was started through its dynamic
// loader (caisson's image: `ld.so --library-path /caisson/lib /caisson/node/bin/node`), where
// execPath is the loader, the loader's words from /proc/self/cmdline, up to the script.
function nodeCommand() {
  if (!/^ld(-linux[^/]*|64)?\.so(\.\d+)?$/.test(basename(process.execPath))) return [process.execPath];
  const words = readFileSync('/proc/self/cmdline', 'utf8').split('\0').slice(0, -1);
  return words.slice(0, words.length - (process.argv.length - 1));
}

// The bundled CLI (scripts/bundle.mjs: a few files to load instead of some 300) when it is at least
// as new as the compiled one, so that a bare `tsc` is never shadowed by an older bundle.
function modified(relative) {
  return statSync(fileURLToPath(new URL(relative, import.meta.url)), { throwIfNoEntry: false })?.mtimeMs;
}
const bundled = modified('../dist/bundle/cli/index.js');
const compiled = modified('../dist/src/cli/index.js');
const useBundle = bundled !== undefined && (compiled === undefined || bundled >= compiled);
async function load(module) {
  try {
    return await import(useBundle ? `../dist/bundle/${module}` : `../dist/src/${module}`);
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(`/${module}`)) {
      console.error('caisson is not built yet: run "npm ci" (or "npm run build") in the caisson checkout.');
      process.exit(2);
    }
    throw error;
  }
}

// caisson build whose --sandbox is rootless (a regular user's auto, or asked for) has itself run
// again in a user namespace where the caller is root (util-linux unshare), so that layers can hold
// root-owned files; this exits with the re-run's status. Without user namespaces, say so.
// CAISSON_USERNS=1 marks the re-run (never a second one).
function reexecInUserNamespace() {
  const child = module.createRequire(import.meta.url)('node:child_process').spawn('unshare', ['--user', '--map-root-user', '--', ...nodeCommand(), fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, CAISSON_USERNS: '1' } });
  // From now on this process only forwards signals and waits: the re-run stops and cleans up itself.
  for (const name of ['SIGINT', 'SIGTERM']) {
    process.removeAllListeners(name);
    process.on(name, () => child.kill(name));
  }
  child.on('error', (error) => {
    console.error(`error: caisson build as uid ${process.getuid()} (--sandbox rootless) needs a user namespace, and util-linux unshare could not make one: ${error.message}`);
    console.error('hint: install util-linux, allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1), or run as root with --sandbox namespaces');
    process.exit(2);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal === 'SIGINT' ? 2 : 15)));
  return new Promise(() => {});
}

// SIGINT/SIGTERM: the command stops its work (RUN's process tree is killed, temporary
// directories removed) and fails; a second signal exits at once. A reader of stdout or stderr that
// went away (`caisson build … | head`) stops it the same way, as SIGPIPE stops most programs, and
// nothing more is written to that stream.
const interrupt = new AbortController();
const signals = { SIGINT: 130, SIGTERM: 143, SIGPIPE: 141 };
let received;
function stop(name, reason) {
  if (interrupt.signal.aborted) process.exit(signals[name]);
  received = name;
  interrupt.abort(new Error(reason));
}
for (const name of ['SIGINT', 'SIGTERM']) process.on(name, () => stop(name, `interrupted by ${name}`));
const gone = new Set();
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error?.code !== 'EPIPE') throw error;
    gone.add(stream);
    if (!interrupt.signal.aborted) stop('SIGPIPE', `interrupted: the reader of its ${stream === process.stdout ? 'stdout' : 'stderr'} went away`);
  });
}
const write = (stream, text) => {
  if (!gone.has(stream)) stream.write(text);
};
// The user-namespace re-run of a rootless build (see reexecInUserNamespace).
const rerun = process.env.CAISSON_USERNS === '1';
const io = {
  signal: interrupt.signal,
  stdout: (text) => write(process.stdout, text),
  stderr: (text) => write(process.stderr, text),
  env: process.env,
  cwd: process.cwd(),
  ...(rerun ? {} : { reexecInUserNamespace }),
  // In a Tekton step: caisson build writes its results there (--results-dir overrides).
  ...(existsSync('/tekton/results') ? { tektonResultsDir: '/tekton/results' } : {}),
  readStdin: async () => {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  },
  readStdinBytes: async () => {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    return Buffer.concat(chunks);
  },
};
const argv = process.argv.slice(2);

// caisson build first asks its build record, loading only what that needs (src/cli/replay.ts):
// a no-change rebuild is answered before the CLI is loaded. Not in the user-namespace re-run,
// whose caller asked it already.
const outcome = argv.includes('build') && !rerun ? await (await load(useBundle ? 'replay/replay.js' : 'cli/replay.js')).replayBuild(argv, io) : 'unchecked';
if (outcome !== 'answered') {
  const cli = await load('cli/index.js');
  const code = await cli.runCli(argv, { ...io, buildRecordChecked: outcome === 'checked' });
  // A command the signal stopped exits as shells report a process killed by it (128 + the signal's
  // number: 130 for SIGINT, 143 for SIGTERM, 141 for SIGPIPE), whichever error the interruption surfaced as.
  process.exitCode = received !== undefined && code !== 0 ? signals[received] : code;
}
