#!/usr/bin/env node
// caisson's command: runs the compiled CLI (dist/, built by `npm ci` / `npm run build`) on the
// Node 24 the repository pins; an older node re-runs this file with the pinned one when present.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    console.error(`caisson needs Node.js 22.12 or later (this is ${process.version}). Run "npm ci" in the caisson checkout, then "npx caisson".`);
    process.exit(2);
  }
  const result = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

// Reuse V8's compiled bytecode across runs (node's on-disk compile cache; a no-op where the
// cache directory cannot be written).
module.enableCompileCache?.();

let cli;
try {
  cli = await import('../dist/src/cli/index.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/src/cli')) {
    console.error('caisson is not built yet: run "npm ci" (or "npm run build") in the caisson checkout.');
    process.exit(2);
  }
  throw error;
}
// SIGINT/SIGTERM: the command stops its work (RUN's process tree is killed, temporary
// directories removed) and fails; a second signal exits at once.
const interrupt = new AbortController();
const signals = { SIGINT: 130, SIGTERM: 143 };
for (const [name, status] of Object.entries(signals)) {
  process.on(name, () => {
    if (interrupt.signal.aborted) process.exit(status);
    interrupt.abort(new Error(`interrupted by ${name}`));
  });
}
const code = await cli.runCli(process.argv.slice(2), {
  signal: interrupt.signal,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  readStdin: async () => {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  },
});
process.exitCode = code;
