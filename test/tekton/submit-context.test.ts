// `caisson submit` with a local directory context, against the loopback Kubernetes API server
// (test/support/kube-api.ts): without Tekton, the packed context reaches the plain Pod's stdin
// through the attach websocket (v5 close-stdin signal, and v4's detach); with Tekton, it is pushed
// to a real registry (Debian's docker-registry) as a context artifact, the TaskRun's CONTEXT names
// it by digest, and `caisson build -c oci://…` builds from it. What arrives is unpacked by the
// same code the cluster's caisson runs (prepareContext), .dockerignore applied.
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONTEXT_ARTIFACT_TYPE, openContextArtifact, prepareContext } from '../../src/build/index.js';
import { defaultRegistryOptions, RegistrySession, staticCredentials } from '../../src/registry/index.js';
import { parseReference } from '../../src/image/index.js';
import { runCaisson } from '../support/cli.js';
import { kubeScenario, listenKubeApi, testKubeconfig, type KubeScenario } from '../support/kube-api.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';

/** The context: .dockerignore leaves out secret.txt, node_modules and the Dockerfile (which is sent anyway, as docker build does). */
function writeContext(dir: string, dockerfile: string): void {
  mkdirSync(join(dir, 'sub'), { recursive: true });
  mkdirSync(join(dir, 'node_modules'));
  mkdirSync(join(dir, 'build'));
  writeFileSync(join(dir, dockerfile), 'FROM scratch\nCOPY . /ctx/\n');
  writeFileSync(join(dir, '.dockerignore'), `secret.txt\nnode_modules\n${dockerfile}\n`);
  writeFileSync(join(dir, 'app.txt'), 'hello from the laptop\n');
  writeFileSync(join(dir, 'sub', 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(dir, 'sub', 'run.sh'), 0o750);
  writeFileSync(join(dir, 'node_modules', 'x.js'), 'ignored\n');
  writeFileSync(join(dir, 'secret.txt'), 'never sent\n');
  symlinkSync('app.txt', join(dir, 'link'));
}

/** Every path of a tree, sorted (directories with a trailing slash). */
function listTree(root: string, prefix = ''): string[] {
  return readdirSync(join(root, prefix)).sort().flatMap((name) => {
    const path = prefix === '' ? name : `${prefix}/${name}`;
    return lstatSync(join(root, path)).isDirectory() ? [`${path}/`, ...listTree(root, path)] : [path];
  });
}

/** Unpacks context bytes as the pod's `caisson build --context tar://stdin` does; returns the tree and removes it. */
async function unpackStdin(work: string, bytes: Buffer): Promise<{ paths: string[]; app: string; runMode: number; link: string }> {
  const scratch = mkdtempSync(join(work, 'unpack-'));
  const prepared = await prepareContext({ spec: 'tar://stdin', cwd: work, scratch, env: {}, stdin: async () => (async function* () { yield bytes; })() });
  try {
    return { paths: listTree(prepared.dir), app: readFileSync(join(prepared.dir, 'app.txt'), 'utf8'), runMode: lstatSync(join(prepared.dir, 'sub', 'run.sh')).mode & 0o7777, link: lstatSync(join(prepared.dir, 'link')).isSymbolicLink() ? 'symlink' : 'not a symlink' };
  } finally {
    await prepared.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  }
}

const SENT = ['.dockerignore', 'Dockerfile', 'app.txt', 'build/', 'link', 'sub/', 'sub/run.sh'];

describe('caisson submit: a local directory context', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'caisson-submit-context-'));
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  async function submit(state: KubeScenario, argv: readonly string[], cwd: string): Promise<Awaited<ReturnType<typeof runCaisson>>> {
    const api = await listenKubeApi(state);
    try {
      const file = join(work, `kubeconfig-${Date.now()}`);
      writeFileSync(file, testKubeconfig(api.url));
      return await runCaisson(['submit', '--poll-interval', '10ms', ...argv], { cwd, env: { KUBECONFIG: file, HOME: work } });
    } finally {
      await api.close();
    }
  }

  for (const protocol of ['v5.channel.k8s.io', 'v4.channel.k8s.io']) {
    it(`streams . (the default) to the plain Pod's stdin through attach (${protocol}), .dockerignore applied`, async () => {
      const dir = join(work, `pod-${protocol}`);
      writeContext(dir, 'Dockerfile');
      const state = kubeScenario('no-tekton', 'True', [protocol]);
      const result = await submit(state, ['-d', 'registry.example/app:1'], dir);
      assert.equal(result.code, 0, result.stderr);
      const pod = state.pods[0] as { spec: { volumes: unknown[]; containers: { stdin?: boolean; stdinOnce?: boolean; args: string[] }[] } };
      const [container] = pod.spec.containers;
      assert.ok(container !== undefined);
      assert.equal(container.stdin, true);
      assert.equal(container.stdinOnce, true);
      assert.ok(container.args.includes('--context=tar://stdin'), container.args.join(' '));
      assert.deepEqual(pod.spec.volumes, [{ name: 'source', emptyDir: {} }]);
      assert.equal(state.attachProtocol, protocol);
      assert.equal(state.attachQueries.length, 1);
      assert.match(state.attachQueries[0] ?? '', /container=build-and-push/);
      assert.match(state.attachQueries[0] ?? '', /stdin=true/);
      assert.ok(state.stdinClosed, 'stdin closed after the context');
      const attach = state.requests.findIndex((route) => route.startsWith('UPGRADE '));
      const log = state.requests.findIndex((route) => route.endsWith('/log'));
      assert.ok(attach >= 0 && attach < log, `the context is sent before the log is followed: ${state.requests.join(', ')}`);
      assert.ok(state.authorization.every((value) => value === 'Bearer test-token-123'));
      assert.match(result.stderr, new RegExp(`sent the context to Pod builds/caisson-x7k2p-pod \\(${state.stdin.length} bytes\\)`));
      assert.match(result.stderr, /packed the context \S+ \(\.dockerignore applied\): 7 entries/);
      const unpacked = await unpackStdin(work, state.stdin);
      assert.deepEqual(unpacked.paths, SENT);
      assert.equal(unpacked.app, 'hello from the laptop\n');
      assert.equal(unpacked.runMode, 0o750);
      assert.equal(unpacked.link, 'symlink');
      assert.deepEqual(state.deleted, ['caisson-x7k2p-pod']);
    });
  }

  describe('with Tekton: pushed to the registry as a context artifact', { skip: missingTool('docker-registry', 'docker-registry') ?? missingTool('umoci', 'umoci') }, () => {
    let registry: RunningRegistry;
    before(async () => {
      registry = await startRegistry({ setup: 'plain' });
    });
    after(async () => {
      await registry.stop();
    });

    it('pushes the context next to the destination, by digest, and passes it as CONTEXT; caisson build -c oci://… builds from it', async () => {
      const dir = join(work, 'taskrun', 'ctx');
      writeContext(dir, 'build/app.Dockerfile');
      const state = kubeScenario('present');
      const destination = `${registry.host}/team/app:1`;
      const result = await submit(state, ['-c', 'ctx', '-f', 'ctx/build/app.Dockerfile', '-d', destination], join(work, 'taskrun'));
      assert.equal(result.code, 0, result.stderr);
      const spec = (state.created[0] as { spec: { params: { name: string; value: unknown }[]; workspaces: unknown[] } }).spec;
      const param = (name: string): unknown => spec.params.find((entry) => entry.name === name)?.value;
      assert.equal(param('DOCKERFILE'), 'build/app.Dockerfile', '-f as a path inside the context');
      const url = String(param('CONTEXT'));
      assert.match(url, new RegExp(`^oci://${registry.host.replaceAll('.', '\\.')}/team/app@sha256:[0-9a-f]{64}$`));
      assert.deepEqual(spec.workspaces, [{ name: 'source', emptyDir: {} }]);
      assert.match(result.stderr, new RegExp(`pushed the context as ${url.replaceAll('.', '\\.')}`));

      // What the cluster reads: the artifact's manifest and its one layer, digest-checked.
      const session = new RegistrySession(defaultRegistryOptions({ credentials: staticCredentials(new Map()), userAgent: 'caisson-test' }));
      const reference = parseReference(url.slice('oci://'.length));
      const manifest = JSON.parse(runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${url.slice('oci://'.length)}`])) as { artifactType: string; layers: { mediaType: string }[] };
      assert.equal(manifest.artifactType, CONTEXT_ARTIFACT_TYPE);
      assert.deepEqual(manifest.layers.map((layer) => layer.mediaType), ['application/vnd.oci.image.layer.v1.tar+gzip']);
      const chunks: Buffer[] = [];
      for await (const chunk of await openContextArtifact({ registry: session, reference })) chunks.push(chunk);
      await session.close();
      const unpacked = await unpackStdin(work, Buffer.concat(chunks));
      assert.deepEqual(unpacked.paths, ['.dockerignore', 'app.txt', 'build/', 'build/app.Dockerfile', 'link', 'sub/', 'sub/run.sh']);
      const listed = await fetch(`${registry.url}/v2/team/app/tags/list`);
      const tags = listed.status === 404 ? [] : ((await listed.json()) as { tags?: string[] | null }).tags ?? [];
      assert.deepEqual(tags, [], 'pushed by digest: no tag added');

      // The step's command, here: caisson build reads the artifact and builds from it.
      const layout = join(work, 'taskrun', 'layout');
      const build = await runCaisson(['build', '-c', url, '-f', 'build/app.Dockerfile', '-d', `${registry.host}/team/built:1`, '--oci-layout-path', layout, '--cache-dir', join(work, 'taskrun', 'cache')], { cwd: join(work, 'taskrun'), env: { HOME: work } });
      assert.equal(build.code, 0, build.stderr);
      assert.match(build.stderr, new RegExp(`context: oci:${reference.registry.replaceAll('.', '\\.')}/team/app@sha256:`));
      const bundle = `${layout}-bundle`;
      runTool('umoci', ['unpack', '--image', `${layout}:1`, bundle]);
      assert.equal(readFileSync(join(bundle, 'rootfs', 'ctx', 'app.txt'), 'utf8'), 'hello from the laptop\n');
      assert.deepEqual(readdirSync(join(bundle, 'rootfs', 'ctx')).sort(), ['.dockerignore', 'app.txt', 'build', 'link', 'sub']);
    });

    it('passes an oci:// context through as CONTEXT, pushing nothing', async () => {
      const state = kubeScenario('present');
      const url = `oci://${registry.host}/team/app@sha256:${'b'.repeat(64)}`;
      const result = await submit(state, ['-c', url, '-d', `${registry.host}/team/app:1`], work);
      assert.equal(result.code, 0, result.stderr);
      const spec = (state.created[0] as { spec: { params: { name: string; value: unknown }[] } }).spec;
      assert.equal(spec.params.find((entry) => entry.name === 'CONTEXT')?.value, url);
      assert.doesNotMatch(result.stderr, /pushed the context/);
    });

    it('refuses an oci:// context that is not a context artifact (an image, pushed by the test above)', async () => {
      const result = await runCaisson(['build', '-c', `oci://${registry.host}/team/built:1`, '--no-push'], { cwd: work, env: { HOME: work } });
      assert.equal(result.code, 4, result.stderr);
      assert.match(result.stderr, /build context oci:\/\/127\.0\.0\.1:\d+\/team\/built:1: not a context artifact \(artifactType none, 1 layers/);
    });
  });
});
