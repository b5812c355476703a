import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCaisson } from '../support/cli.js';
import { kubeScenario as scenario, listenKubeApi, testKubeconfig as kubeconfig, type KubeScenario as Scenario } from '../support/kube-api.js';

describe('caisson submit', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'caisson-submit-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function submit(state: Scenario, argv: readonly string[]): Promise<Awaited<ReturnType<typeof runCaisson>>> {
    const api = await listenKubeApi(state);
    try {
      const file = join(dir, 'kubeconfig');
      await writeFile(file, kubeconfig(api.url));
      return await runCaisson(['submit', '--poll-interval', '10ms', ...argv], { cwd: dir, env: { KUBECONFIG: file, HOME: dir } });
    } finally {
      await api.close();
    }
  }

  it('creates a TaskRun with the flags as params, streams the step log and prints the results', async () => {
    const state = scenario('present');
    const result = await submit(state, ['-c', 'https://git.example/app.git#main:docker', '-d', 'registry.example/app:1', '-d', 'registry.example/app:latest', '--build-arg', 'A=1', '--target', 'final', '--sign', '--service-account', 'builder', '--', '--cache-ttl=24h']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(state.created, [
      {
        apiVersion: 'tekton.dev/v1',
        kind: 'TaskRun',
        metadata: { generateName: 'caisson-', namespace: 'builds', labels: { 'app.kubernetes.io/managed-by': 'caisson', 'app.kubernetes.io/version': '0.1' } },
        spec: {
          taskRef: { kind: 'Task', name: 'caisson' },
          serviceAccountName: 'builder',
          params: [
            { name: 'IMAGE', value: 'registry.example/app:1' },
            { name: 'CONTEXT', value: 'https://git.example/app.git#main:docker' },
            { name: 'BUILD_ARGS', value: ['A=1'] },
            { name: 'TARGET', value: 'final' },
            { name: 'SIGN', value: 'true' },
            { name: 'EXTRA_ARGS', value: ['--destination=registry.example/app:latest', '--cache-ttl=24h'] },
          ],
          workspaces: [{ name: 'source', emptyDir: {} }],
        },
      },
    ]);
    assert.match(state.logQueries[0] ?? '', /container=step-build-and-push/);
    assert.match(state.logQueries[0] ?? '', /follow=true/);
    assert.ok(state.authorization.every((value) => value === 'Bearer test-token-123'));
    assert.match(result.stderr, /INFO building stage 0\nINFO pushed registry\.example\/app:1\n/);
    assert.match(result.stderr, /TaskRun builds\/caisson-x7k2p succeeded/);
    assert.equal(result.stdout, `IMAGE_DIGEST=sha256:${'a'.repeat(64)}\nIMAGE_URL=registry.example/app:1\n`);
    assert.doesNotMatch(result.stderr, /test-token-123/);
  });

  it('binds --workspace-claim as the source workspace, --context being the path inside it', async () => {
    const state = scenario('present');
    const result = await submit(state, ['--workspace-claim', 'sources', '-c', 'app', '-d', 'registry.example/app:1', '-n', 'builds']);
    assert.equal(result.code, 0, result.stderr);
    const spec = (state.created[0] as { spec: { params: unknown[]; workspaces: unknown[] } }).spec;
    assert.deepEqual(spec.workspaces, [{ name: 'source', persistentVolumeClaim: { claimName: 'sources' } }]);
    assert.deepEqual(spec.params, [{ name: 'IMAGE', value: 'registry.example/app:1' }, { name: 'CONTEXT', value: 'app' }]);
  });

  it('binds --docker-config-secret, --signing-secret, --cache-claim and --sslcertdir-configmap as the Task\'s optional workspaces', async () => {
    const state = scenario('present');
    const result = await submit(state, ['git://git.example/app#main', '-d', 'registry.example/app:1', '--docker-config-secret', 'regcred', '--signing-secret', 'signing-secrets', '--cache-claim', 'build-cache', '--sslcertdir-configmap', 'registry-ca']);
    assert.equal(result.code, 0, result.stderr);
    const spec = (state.created[0] as { spec: { workspaces: unknown[] } }).spec;
    assert.deepEqual(spec.workspaces, [
      { name: 'source', emptyDir: {} },
      { name: 'dockerconfig', secret: { secretName: 'regcred', items: [{ key: '.dockerconfigjson', path: 'config.json' }] } },
      { name: 'signing-secrets', secret: { secretName: 'signing-secrets' } },
      { name: 'cache', persistentVolumeClaim: { claimName: 'build-cache' } },
      { name: 'sslcertdir', configMap: { name: 'registry-ca' } },
    ]);
  });

  it('binds only the optional workspaces whose flag is given', async () => {
    const state = scenario('present');
    const result = await submit(state, ['git://git.example/app#main', '-d', 'registry.example/app:1', '--cache-claim', 'build-cache']);
    assert.equal(result.code, 0, result.stderr);
    const spec = (state.created[0] as { spec: { workspaces: unknown[] } }).spec;
    assert.deepEqual(spec.workspaces, [{ name: 'source', emptyDir: {} }, { name: 'cache', persistentVolumeClaim: { claimName: 'build-cache' } }]);
  });

  it('exits non-zero naming the TaskRun and its reason when it fails', async () => {
    const result = await submit(scenario('present', 'False'), ['git://git.example/app#main', '-d', 'registry.example/app:1']);
    assert.equal(result.code, 8);
    assert.match(result.stderr, /ERROR Dockerfile:3: RUN exited with 3/);
    assert.match(result.stderr, /TaskRun builds\/caisson-x7k2p failed: Failed: "step-build-and-push" exited with code 3/);
    assert.match(result.stderr, /kubectl describe taskrun caisson-x7k2p -n builds/);
  });

  it('says the Task is missing, with the kubectl apply hint', async () => {
    const state = scenario('missing');
    const result = await submit(state, ['git://git.example/app', '-d', 'registry.example/app:1']);
    assert.equal(result.code, 11);
    assert.match(result.stderr, /the Task caisson is not installed in namespace builds on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(result.stderr, /kubectl apply -n builds -f tekton\/task\.yaml/);
    assert.deepEqual(state.created, []);
  });

  it('runs the Task\'s step as a plain Pod when the cluster has no tekton.dev API group', async () => {
    const state = scenario('no-tekton');
    const result = await submit(state, ['-c', 'https://git.example/app.git#main:docker', '-d', 'registry.example/app:1', '-d', 'registry.example/app:latest', '--build-arg', 'HOME_DIR=$(HOME)', '--sign', '--service-account', 'builder', '--builder-image', 'builder.example/caisson:1', '--', '--cache-ttl=24h']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(state.created, []);
    assert.equal(state.pods.length, 1);
    const pod = state.pods[0] as { metadata: unknown; spec: { restartPolicy: string; serviceAccountName: string; volumes: unknown[]; containers: { name: string; image: string; workingDir: string; command: string[]; args: string[]; env: { name: string }[]; securityContext: Record<string, unknown>; volumeMounts: unknown[] }[] } };
    assert.deepEqual(pod.metadata, { generateName: 'caisson-', namespace: 'builds', labels: { 'app.kubernetes.io/managed-by': 'caisson', 'app.kubernetes.io/version': '0.1' } });
    assert.equal(pod.spec.restartPolicy, 'Never');
    assert.equal(pod.spec.serviceAccountName, 'builder');
    assert.deepEqual(pod.spec.volumes, [{ name: 'source', emptyDir: {} }]);
    const [container] = pod.spec.containers;
    assert.ok(container !== undefined);
    assert.equal(container.image, 'builder.example/caisson:1');
    assert.equal(container.workingDir, '/workspace/source');
    assert.deepEqual(container.volumeMounts, [{ name: 'source', mountPath: '/workspace/source' }]);
    assert.deepEqual(container.command, ['/caisson/lib/ld.so', '--library-path', '/caisson/lib', '/caisson/node/bin/node', '/caisson/app/bin/caisson.js']);
    assert.deepEqual(container.args, [
      'build',
      '--destination=registry.example/app:1',
      '--dockerfile=./Dockerfile',
      '--context=https://git.example/app.git#main:docker',
      '--target=',
      '--custom-platform=',
      '--cache=false',
      '--cache-repo=',
      '--sign=true',
      '--provenance=false',
      '--cache-dir=',
      '--signing-secrets=',
      '--invocation-id=$(CAISSON_POD_UID)',
      '--destination=registry.example/app:latest',
      '--cache-ttl=24h',
      '--',
      'HOME_DIR=$$(HOME)',
    ]);
    assert.deepEqual(container.env.at(-1), { name: 'CAISSON_POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } });
    assert.ok(!container.env.some((entry) => entry.name === 'DOCKER_CONFIG' || entry.name === 'NODE_EXTRA_CA_CERTS'), 'unbound workspaces give no env');
    assert.deepEqual(container.securityContext, {
      runAsUser: 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'SETFCAP', 'SETUID', 'SETGID', 'KILL', 'SYS_CHROOT', 'SYS_ADMIN'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.match(result.stderr, /Tekton Pipelines \(tekton\.dev\/v1\) is not installed on http:\/\/127\.0\.0\.1:\d+: running the Task's step as a plain Pod \(no results, no Chains\)/);
    assert.equal(state.logQueries.length, 1);
    assert.match(state.logQueries[0] ?? '', /container=build-and-push/);
    assert.match(state.logQueries[0] ?? '', /follow=true/);
    assert.ok(state.podReads >= 3, `read the pod ${state.podReads} times`);
    assert.match(result.stderr, /INFO building stage 0\nINFO pushed registry\.example\/app:1\n/);
    assert.match(result.stderr, /Pod builds\/caisson-x7k2p-pod succeeded/);
    assert.equal(result.stdout, '');
    assert.deepEqual(state.deleted, ['caisson-x7k2p-pod'], 'a pod that succeeded is deleted');
    assert.match(result.stderr, /deleted Pod builds\/caisson-x7k2p-pod \(--keep-pod keeps it\)/);
  });

  it('keeps the plain Pod that succeeded with --keep-pod', async () => {
    const state = scenario('no-tekton');
    const result = await submit(state, ['git://git.example/app#main', '-d', 'registry.example/app:1', '--keep-pod']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(state.deleted, []);
    assert.ok(!state.requests.some((route) => route.startsWith('DELETE ')), state.requests.join('\n'));
  });

  it('binds --workspace-claim as the plain Pod\'s source volume, and takes the default builder image from the Task', async () => {
    const state = scenario('no-tekton');
    const result = await submit(state, ['--workspace-claim', 'sources', '-c', 'app', '-d', 'registry.example/app:1']);
    assert.equal(result.code, 0, result.stderr);
    const spec = (state.pods[0] as { spec: { volumes: unknown[]; containers: { image: string; args: string[] }[] } }).spec;
    assert.deepEqual(spec.volumes, [{ name: 'source', persistentVolumeClaim: { claimName: 'sources' } }]);
    assert.match(spec.containers[0]?.image ?? '', /^ghcr\.io\/caisson-dev\/caisson:\S+$/);
    assert.ok(spec.containers[0]?.args.includes('--context=app'));
  });

  it('mounts the optional workspaces\' volumes in the plain Pod where the Task\'s step expects them', async () => {
    const state = scenario('no-tekton');
    const result = await submit(state, ['git://git.example/app#main', '-d', 'registry.example/app:1', '--docker-config-secret', 'regcred', '--signing-secret', 'signing-secrets', '--cache-claim', 'build-cache', '--sslcertdir-configmap', 'registry-ca']);
    assert.equal(result.code, 0, result.stderr);
    const spec = (state.pods[0] as { spec: { volumes: unknown[]; containers: { args: string[]; env: { name: string; value?: string }[]; volumeMounts: unknown[] }[] } }).spec;
    assert.deepEqual(spec.volumes, [
      { name: 'source', emptyDir: {} },
      { name: 'dockerconfig', secret: { secretName: 'regcred', items: [{ key: '.dockerconfigjson', path: 'config.json' }] } },
      { name: 'signing-secrets', secret: { secretName: 'signing-secrets' } },
      { name: 'cache', persistentVolumeClaim: { claimName: 'build-cache' } },
      { name: 'sslcertdir', configMap: { name: 'registry-ca' } },
    ]);
    const [container] = spec.containers;
    assert.ok(container !== undefined);
    assert.deepEqual(container.volumeMounts, [
      { name: 'source', mountPath: '/workspace/source' },
      { name: 'dockerconfig', mountPath: '/workspace/dockerconfig', readOnly: true },
      { name: 'signing-secrets', mountPath: '/workspace/signing-secrets', readOnly: true },
      { name: 'cache', mountPath: '/workspace/cache' },
      { name: 'sslcertdir', mountPath: '/workspace/sslcertdir', readOnly: true },
    ]);
    assert.ok(container.args.includes('--cache-dir=/workspace/cache'), container.args.join(' '));
    assert.ok(container.args.includes('--signing-secrets=/workspace/signing-secrets'), container.args.join(' '));
    assert.deepEqual(container.env.find((entry) => entry.name === 'DOCKER_CONFIG'), { name: 'DOCKER_CONFIG', value: '/workspace/dockerconfig' });
    assert.deepEqual(container.env.find((entry) => entry.name === 'NODE_EXTRA_CA_CERTS'), { name: 'NODE_EXTRA_CA_CERTS', value: '/workspace/sslcertdir/ca.crt' });
  });

  it('exits non-zero naming the plain Pod, its container\'s reason and exit code when it fails', async () => {
    const state = scenario('no-tekton', 'False');
    const result = await submit(state, ['git://git.example/app#main', '-d', 'registry.example/app:1']);
    assert.equal(result.code, 8);
    assert.match(result.stderr, /ERROR Dockerfile:3: RUN exited with 3/);
    assert.match(result.stderr, /Pod builds\/caisson-x7k2p-pod failed: container build-and-push ended Error, exit code 3/);
    assert.match(result.stderr, /kubectl describe pod caisson-x7k2p-pod -n builds/);
    assert.match(result.stderr, /The pod is kept: kubectl logs caisson-x7k2p-pod -n builds/);
    assert.deepEqual(state.deleted, [], 'a failed pod is kept');
  });

  it('names the server when the cluster cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const server = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const file = join(dir, 'unreachable');
    await writeFile(file, kubeconfig(server));
    const result = await runCaisson(['submit', '--kubeconfig', file, 'git://git.example/app', '-d', 'registry.example/app:1'], { cwd: dir, env: { HOME: dir } });
    assert.equal(result.code, 11);
    assert.match(result.stderr, new RegExp(`cannot reach the Kubernetes API server ${server.replaceAll('.', '\\.')} to read Task caisson: ECONNREFUSED`));
  });

  it('refuses a context the cluster cannot get, a Dockerfile outside a local context, and a missing kubeconfig, with hints', async () => {
    const s3 = await runCaisson(['submit', 's3://bucket/context.tgz', '-d', 'registry.example/app:1'], { cwd: dir, env: { HOME: dir } });
    assert.equal(s3.code, 2);
    assert.match(s3.stderr, /the context "s3:\/\/bucket\/context\.tgz" is not reachable from the cluster/);
    assert.match(s3.stderr, /--workspace-claim/);
    await mkdir(join(dir, 'app'), { recursive: true });
    await writeFile(join(dir, 'outside.Dockerfile'), 'FROM scratch\n');
    const outside = await runCaisson(['submit', 'app', '-f', 'outside.Dockerfile', '-d', 'registry.example/app:1'], { cwd: dir, env: { HOME: dir } });
    assert.equal(outside.code, 2);
    assert.match(outside.stderr, /the Dockerfile \S+outside\.Dockerfile is outside the context \S+app, which is all the cluster gets/);
    const stdin = await runCaisson(['submit', 'app', '-f', '-', '-d', 'registry.example/app:1'], { cwd: dir, env: { HOME: dir } });
    assert.equal(stdin.code, 2);
    assert.match(stdin.stderr, /--dockerfile - \(standard input\) cannot reach the cluster/);
    const none = await runCaisson(['submit', 'git://git.example/app', '-d', 'registry.example/app:1'], { cwd: dir, env: { HOME: dir } });
    assert.equal(none.code, 4);
    assert.match(none.stderr, /no Kubernetes cluster configured/);
  });
});
