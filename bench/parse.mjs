// bench/parse.sh's worker: generates the Dockerfile, times both commands, prints the comparison.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = Number(process.argv[2] ?? 7);
const INSTRUCTIONS = 10_000;
const LIMIT_MS = 200;

/** A Dockerfile with every instruction kind, continuations, heredocs and several stages. */
function generate() {
  const lines = ['# syntax=docker/dockerfile:1', 'ARG BASE=busybox:1.36', 'ARG VERSION=1.0'];
  let count = 2;
  const body = [
    (i) => [`RUN --mount=type=cache,target=/root/.cache/${i} echo step ${i} && \\`, `    ls -la /tmp/${i} > /dev/null`],
    (i) => [`COPY --chown=1000:1000 --chmod=0644 src/file${i}.txt /app/file${i}.txt`],
    (i) => [`ENV VAR_${i}=value_${i} OTHER_${i}="quoted ${i}"`],
    (i) => [`LABEL org.example.n${i}="label ${i}"`],
    (i) => [`RUN <<EOF`, `echo heredoc ${i}`, `EOF`],
    (i) => [`WORKDIR /work/${i}`],
    (i) => [`ARG A_${i}=\${VERSION}`],
    (i) => [`EXPOSE ${1000 + (i % 5000)}/tcp`],
    (i) => [`USER ${1000 + (i % 10)}`],
    (i) => [`RUN ["sh", "-c", "echo exec ${i}"]`],
  ];
  let stage = 0;
  while (count < INSTRUCTIONS) {
    if (count % 1000 === 2) {
      lines.push(stage === 0 ? 'FROM ${BASE} AS stage0' : `FROM stage${stage - 1} AS stage${stage}`);
      if (stage > 0) lines.push(`COPY --from=stage${stage - 1} /app /prev`), count++;
      stage++;
    } else {
      lines.push(...body[count % body.length](count));
    }
    count++;
  }
  lines.push('CMD ["sh"]');
  return `${lines.join('\n')}\n`;
}

function time(command, args) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
    samples.push(elapsed);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const dir = mkdtempSync(join(tmpdir(), 'caisson-bench-parse-'));
try {
  const dockerfile = join(dir, 'Dockerfile');
  writeFileSync(dockerfile, generate());
  const bare = time(process.execPath, ['-e', '']);
  const parse = time(process.execPath, ['bin/caisson.js', 'parse', '--json', dockerfile]);
  const dump = time(process.execPath, ['bin/caisson.js', 'parse', '--dump', dockerfile]);
  const extra = parse - bare;
  console.log(`node ${process.version}, ${INSTRUCTIONS} instructions, median of ${runs} runs`);
  console.log(`  bare node start-up          ${bare.toFixed(0).padStart(6)} ms  (peer)`);
  console.log(`  caisson parse --dump        ${dump.toFixed(0).padStart(6)} ms  +${(dump - bare).toFixed(0)} ms, ${(dump / bare).toFixed(2)}x`);
  console.log(`  caisson parse --json        ${parse.toFixed(0).padStart(6)} ms  +${extra.toFixed(0)} ms, ${(parse / bare).toFixed(2)}x`);
  console.log(`  target: under ${LIMIT_MS} ms more than bare node: ${extra < LIMIT_MS ? 'PASS' : 'FAIL'}`);
  process.exitCode = extra < LIMIT_MS ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
