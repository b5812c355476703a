// Platform normalisation and the choice of an index entry (containerd's rules).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizePlatform, platformDistance, selectPlatform, type DescribedPlatform } from '../../src/image/index.js';

describe('platforms', () => {
  test('normalises what indexes state', () => {
    assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'aarch64' }), { os: 'linux', architecture: 'arm64' });
    assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'x86_64' }), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
    assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), { os: 'linux', architecture: 'arm64' });
  });

  test('distance: exact, compatible, impossible', () => {
    assert.equal(platformDistance({ wanted: { os: 'linux', architecture: 'amd64' }, candidate: { os: 'linux', architecture: 'x86_64' } }), 0);
    assert.equal(platformDistance({ wanted: { os: 'linux', architecture: 'arm', variant: 'v7' }, candidate: { os: 'linux', architecture: 'arm', variant: 'v6' } }), 1);
    assert.equal(platformDistance({ wanted: { os: 'linux', architecture: 'arm', variant: 'v6' }, candidate: { os: 'linux', architecture: 'arm', variant: 'v7' } }), undefined);
    assert.equal(platformDistance({ wanted: { os: 'linux', architecture: 'amd64' }, candidate: { os: 'windows', architecture: 'amd64' } }), undefined);
    assert.equal(platformDistance({ wanted: { os: 'linux', architecture: 'arm64' }, candidate: { os: 'linux', architecture: 'arm64', variant: 'v9' } }), 1);
  });

  test('selectPlatform picks the best entry, skipping attestations without a platform', () => {
    const entries: { platform?: DescribedPlatform; id: string }[] = [
      { id: 'attestation' },
      { id: 'v5', platform: { os: 'linux', architecture: 'arm', variant: 'v5' } },
      { id: 'v6', platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
      { id: 'amd64', platform: { os: 'linux', architecture: 'amd64' } },
      { id: 'arm64', platform: { os: 'linux', architecture: 'aarch64' } },
    ];
    assert.equal(selectPlatform({ entries, wanted: { os: 'linux', architecture: 'arm', variant: 'v7' } })?.id, 'v6');
    assert.equal(selectPlatform({ entries, wanted: { os: 'linux', architecture: 'arm64' } })?.id, 'arm64');
    assert.equal(selectPlatform({ entries, wanted: { os: 'linux', architecture: 's390x' } }), undefined);
  });
});
