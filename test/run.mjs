// The test command (`npm test`): type-check and compile with tsc, then run node's test runner on
// every dist/test/**/*.test.js. Helper files (test/support/, anything not named *.test.ts) are
// never picked up as tests. Runs on the Node 24 that package.json pins (node_modules/.bin/node).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`caisson's tests run on Node 24, this is Node ${process.versions.node}.`);
  console.error('Run them through npm, which uses the pinned runtime: npm ci && npm test');
  process.exit(2);
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
const filters = process.argv.slice(2);
run(process.execPath, ['--test', '--test-reporter=spec', ...(filters.length > 0 ? filters : ['dist/test/**/*.test.js'])]);
