import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findKubeConfig } from '../../src/tekton/k8s/index.js';

function kubeconfig(server: string, namespace?: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: c, cluster: {server: "' + server + '"}}]',
    'users: [{name: u, user: {token: t}}]',
    `contexts: [{name: x, context: {cluster: c, user: u${namespace === undefined ? '' : `, namespace: ${namespace}`}}}]`,
    'current-context: x',
    '',
  ].join('\n');
}

describe('findKubeConfig', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'caisson-kubeconfig-'));
    await mkdir(join(dir, 'home', '.kube'), { recursive: true });
    await writeFile(join(dir, 'home', '.kube', 'config'), kubeconfig('https://home.example:6443'));
    await writeFile(join(dir, 'second'), kubeconfig('https://second.example:6443', 'team'));
    await writeFile(join(dir, 'explicit'), kubeconfig('https://explicit.example:6443'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('merges the files of $KUBECONFIG as kubectl does: first current-context, first entry of each name', async () => {
    // a: sets no current-context, defines cluster c (its server wins) and context x.
    await writeFile(join(dir, 'a'), [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://a.example:6443"}}]',
      'users: [{name: u, user: {token: from-a}}]',
      'contexts: [{name: x, context: {cluster: c, user: u, namespace: from-a}}]',
      '',
    ].join('\n'));
    // b: the first to set current-context (y), which names a cluster only b defines.
    await writeFile(join(dir, 'b'), [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://b.example:6443"}}, {name: d, cluster: {server: "https://d.example:6443"}}]',
      'users: [{name: u, user: {token: from-b}}]',
      'contexts: [{name: x, context: {cluster: d, user: u}}, {name: y, context: {cluster: c, user: u, namespace: from-b}}]',
      'current-context: y',
      '',
    ].join('\n'));
    const merged = findKubeConfig({ kubeconfigEnv: `${join(dir, 'a')}:${join(dir, 'absent')}:${join(dir, 'b')}:${join(dir, 'second')}`, home: join(dir, 'home') });
    assert.equal(merged.server, 'https://a.example:6443', "cluster c from the first file defining it");
    assert.equal(merged.namespace, 'from-b', 'context y: current-context from the first file setting it (b, not second)');
    assert.equal(merged.config.getCurrentUser()?.token, 'from-a');
    assert.deepEqual(merged.config.getContexts().map((context) => [context.name, context.cluster]), [['x', 'c'], ['y', 'c']]);
    assert.deepEqual(merged.config.getClusters().map((cluster) => cluster.server), ['https://a.example:6443', 'https://d.example:6443'], 'second\'s cluster c loses to a\'s');
    assert.equal(merged.source, [join(dir, 'a'), join(dir, 'b'), join(dir, 'second')].join(':'));
  });

  it('takes --kubeconfig, else the first existing $KUBECONFIG file, else ~/.kube/config', () => {
    const home = join(dir, 'home');
    assert.equal(findKubeConfig({ explicit: join(dir, 'explicit'), kubeconfigEnv: join(dir, 'second'), home }).server, 'https://explicit.example:6443');
    const listed = findKubeConfig({ kubeconfigEnv: `${join(dir, 'absent')}:${join(dir, 'second')}`, home });
    assert.equal(listed.server, 'https://second.example:6443');
    assert.equal(listed.namespace, 'team');
    const fallback = findKubeConfig({ kubeconfigEnv: join(dir, 'absent'), home });
    assert.equal(fallback.server, 'https://home.example:6443');
    assert.equal(fallback.namespace, undefined);
  });

  it("uses the pod's service account in a cluster, and says when there is no cluster at all", () => {
    const found = findKubeConfig({ home: join(dir, 'nowhere'), serviceHost: '10.0.0.1', servicePort: '443', serviceAccountDir: join(dir, 'sa') });
    assert.equal(found.server, 'https://10.0.0.1:443');
    assert.match(found.source, /service account/);
    assert.equal(findKubeConfig({ serviceHost: 'fd00::1', servicePort: '443', serviceAccountDir: join(dir, 'sa') }).server, 'https://[fd00::1]:443');
    assert.throws(() => findKubeConfig({ home: join(dir, 'nowhere') }), { code: 'ERR_INPUT_NOT_FOUND', message: /no Kubernetes cluster configured/ });
  });
});
