// The test command (`npm test`): type-check and compile with tsc, then run node's test runner on
// every dist/test/**/*.test.js. Helper files (test/support/, anything not named *.test.ts) are
// never picked up as tests. Runs on the Node 24 that package.json pins (node_modules/.bin/node).
// First it checks for the Debian packages the suite runs for real, installs the missing ones with
// apt-get when root, and otherwise prints the exact command and exits 2.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`caisson's tests run on Node 24, this is Node ${process.versions.node}.`);
  console.error('Run them through npm, which uses the pinned runtime: npm ci && npm test');
  process.exit(2);
}

const SIGNALS = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
let running;
let received;

/**
 * Runs a step; a failed one ends the test command with its status, and a step a signal sent to the
 * test command stopped (however it ended: tsc's launcher exits 0) with 128 + the signal's number.
 */
async function run(command, args) {
  // A process group of its own, so that a signal reaches every process of the step at once.
  running = spawn(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  const [code, signal] = await new Promise((resolve, reject) => {
    running.on('error', reject);
    running.on('close', (...end) => resolve(end));
  });
  running = undefined;
  if (received !== undefined) process.exit(SIGNALS[received]);
  if (code !== 0) process.exit(code ?? SIGNALS[signal] ?? 1);
}

// The real parts the suite runs (see DESIGN.md): command (or absolute path) → Debian package.
const needs = [
  ['docker-registry', 'docker-registry'],
  ['skopeo', 'skopeo'],
  ['umoci', 'umoci'],
  ['htpasswd', 'apache2-utils'],
  ['openssl', 'openssl'],
  ['/bin/busybox', 'busybox-static'],
  ['setfattr', 'attr'],
  ['bzip2', 'bzip2'],
  ['xz', 'xz-utils'],
  ['git', 'git'],
  ['/usr/sbin/dockerd', 'docker.io'],
  ['patchelf', 'patchelf'],
];

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function found(command) {
  if (isAbsolute(command)) return executable(command);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && executable(join(dir, command)));
}

function missingPackages() {
  return needs.filter(([command]) => !found(command)).map(([, pkg]) => pkg);
}

const missing = missingPackages();
if (missing.length > 0) {
  const install = ['install', '-y', '--no-install-recommends', ...missing];
  if (process.getuid?.() !== 0) {
    console.error(`The tests need these Debian packages: ${missing.join(' ')}. Install them with:`);
    console.error(`  sudo apt-get ${install.join(' ')}`);
    process.exit(2);
  }
  console.error(`Installing the Debian packages the tests need: apt-get ${install.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another test run may be installing at the same time: wait for dpkg's lock instead of failing.
  const apt = (args) => spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { stdio: 'inherit', env }).status === 0;
  // A failure is most often missing or stale package lists: update them once and retry.
  if (!apt(install) && !(apt(['update']) && apt(install))) {
    console.error(`apt-get could not install ${missing.join(' ')}; the tests need them.`);
    process.exit(2);
  }
  const still = missingPackages();
  if (still.length > 0) {
    console.error(`Still missing after apt-get install: ${still.join(' ')}`);
    process.exit(2);
  }
}

// The caisson commands the tests start keep node's compile cache (bin/caisson.js) in a directory
// of this run's own, removed when it ends however it ends, instead of in the user's cache directory.
const compileCache = mkdtempSync(join(tmpdir(), 'caisson-test-compile-cache-'));
process.env.NODE_COMPILE_CACHE = compileCache;
process.on('exit', () => rmSync(compileCache, { recursive: true, force: true }));
// A signal stops the running step, and so the run (run exits with 128 + N); with no step, at once.
for (const signal of Object.keys(SIGNALS)) {
  process.on(signal, () => {
    received = signal;
    if (running === undefined) process.exit(SIGNALS[signal]);
    process.kill(-running.pid, signal);
  });
}
rmSync(join(root, 'dist'), { recursive: true, force: true });
await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
// The bundle bin/caisson.js runs (the tests that start caisson as a command run it).
await run(process.execPath, [join(root, 'scripts', 'bundle.mjs')]);
const filters = process.argv.slice(2);
// Two test files at a time: much of the suite waits on child processes (registries, skopeo,
// umoci, mounts), and node's default on 2 cores is one file at a time.
await run(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...(filters.length > 0 ? filters : ['dist/test/**/*.test.js'])]);
