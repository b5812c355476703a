// Where a pull may come from: --registry-mirror for Docker Hub (with an optional path prefix),
// --registry-map for any registry, then the registry itself.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseReference } from '../../src/image/index.js';
import { defaultRegistryOptions, RegistrySession, staticCredentials } from '../../src/registry/index.js';

describe('pull candidates', () => {
  const session = new RegistrySession({
    ...defaultRegistryOptions({ credentials: staticCredentials(new Map()), userAgent: 'caisson-test' }),
    mirrors: ['mirror.gcr.io', 'https://cache.example.com/dockerhub/'],
    registryMap: new Map([['ghcr.io', ['ghcr-mirror.example.com']]]),
  });

  test('Docker Hub images try each mirror, then Docker Hub', () => {
    assert.deepEqual(session.pullCandidates(parseReference('alpine:3.20')), [
      { registry: 'mirror.gcr.io', repository: 'library/alpine', mirror: 'mirror.gcr.io' },
      { registry: 'cache.example.com', repository: 'dockerhub/library/alpine', mirror: 'https://cache.example.com/dockerhub/' },
      { registry: 'docker.io', repository: 'library/alpine' },
    ]);
  });

  test('--registry-map applies to its registry only', () => {
    assert.deepEqual(session.pullCandidates(parseReference('ghcr.io/org/app:1')), [
      { registry: 'ghcr-mirror.example.com', repository: 'org/app', mirror: 'ghcr-mirror.example.com' },
      { registry: 'ghcr.io', repository: 'org/app' },
    ]);
    assert.deepEqual(session.pullCandidates(parseReference('quay.io/org/app:1')), [{ registry: 'quay.io', repository: 'org/app' }]);
  });
});
