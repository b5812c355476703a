// SIGINT and SIGTERM during `caisson submit`, sent to the real CLI (`node bin/caisson.js`, a child
// process) while it follows a run that never ends on the loopback Kubernetes API server: the
// TaskRun is cancelled as `tkn taskrun cancel` does (a JSON patch of spec.status), the plain Pod is
// deleted, and caisson exits 130 / 143 (128 + the signal), its process gone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kubeScenario, listenKubeApi, testKubeconfig, type KubeScenario } from '../support/kube-api.js';
import { projectRoot } from '../support/paths.js';

describe('caisson submit: SIGINT and SIGTERM', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'caisson-submit-signal-'));
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  /** Runs submit as a process, sends `signal` once its log is being followed, and waits for it to end. */
  async function interrupt(state: KubeScenario, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
    const api = await listenKubeApi(state);
    try {
      const file = join(work, `kubeconfig-${signal}-${state.task}`);
      writeFileSync(file, testKubeconfig(api.url));
      const child = spawn(process.execPath, [join(projectRoot(), 'bin', 'caisson.js'), 'submit', 'git://git.example/app#main', '-d', 'registry.example/app:1', '--poll-interval', '10ms'], {
        cwd: work,
        env: { PATH: process.env['PATH'] ?? '', HOME: work, KUBECONFIG: file },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      state.onRequest = (route) => {
        if (route.endsWith('/log')) setTimeout(() => child.kill(signal), 50);
      };
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await new Promise<number | null>((resolve) => child.on('exit', (exit) => resolve(exit)));
      clearTimeout(timer);
      return { code, stderr };
    } finally {
      await api.close();
    }
  }

  for (const [signal, exit] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`cancels the TaskRun on ${signal} and exits ${exit}`, async () => {
      const state = kubeScenario('present', 'never');
      const result = await interrupt(state, signal);
      assert.equal(result.code, exit, result.stderr);
      assert.deepEqual(state.patches, [{ contentType: 'application/json-patch+json', body: [{ op: 'add', path: '/spec/status', value: 'TaskRunCancelled' }] }]);
      assert.match(result.stderr, new RegExp(`interrupted by ${signal}: cancelled TaskRun builds/caisson-x7k2p`));
      assert.match(result.stderr, /INFO building stage 0/);
      assert.deepEqual(state.deleted, []);
    });
  }

  it('deletes the plain Pod on SIGINT and exits 130', async () => {
    const state = kubeScenario('no-tekton', 'never');
    const result = await interrupt(state, 'SIGINT');
    assert.equal(result.code, 130, result.stderr);
    assert.deepEqual(state.deleted, ['caisson-x7k2p-pod']);
    assert.deepEqual(state.patches, []);
    assert.match(result.stderr, /interrupted by SIGINT: deleted Pod builds\/caisson-x7k2p-pod/);
  });
});
