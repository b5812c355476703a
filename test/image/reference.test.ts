// Image references: Docker Hub defaults, registries with ports, tags and digests, and the errors
// for what is not a reference.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { formatReference, parseReference } from '../../src/image/index.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  const cases: [string, string][] = [
    ['alpine', 'docker.io/library/alpine:latest'],
    ['alpine:3.20', 'docker.io/library/alpine:3.20'],
    ['library/alpine', 'docker.io/library/alpine:latest'],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
    ['docker.io/alpine', 'docker.io/library/alpine:latest'],
    ['index.docker.io/library/alpine:1', 'docker.io/library/alpine:1'],
    ['ghcr.io/org/team/app:v1.2.3', 'ghcr.io/org/team/app:v1.2.3'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app:dev', 'localhost:5000/app:dev'],
    ['127.0.0.1:5000/a/b', '127.0.0.1:5000/a/b:latest'],
    ['[::1]:5000/app', '[::1]:5000/app:latest'],
    [`alpine@${DIGEST}`, `docker.io/library/alpine@${DIGEST}`],
    [`ghcr.io/a/b:v1@${DIGEST}`, `ghcr.io/a/b:v1@${DIGEST}`],
    ['Registry/app', 'Registry/app:latest'],
    ['a_b__c-d--e/x.y', 'docker.io/a_b__c-d--e/x.y:latest'],
  ];
  for (const [text, full] of cases) {
    test(text, () => assert.equal(formatReference(parseReference(text)), full));
  }

  test('parts', () => {
    assert.deepEqual(parseReference('localhost:5000/a/b:t'), { registry: 'localhost:5000', repository: 'a/b', tag: 't' });
    assert.deepEqual(parseReference(`a@${DIGEST}`), { registry: 'docker.io', repository: 'library/a', digest: DIGEST });
  });

  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['Alpine', /upper-case/],
    ['alpine:', /not a valid tag/],
    ['alpine:-x', /not a valid tag/],
    ['a//b', /empty path component/],
    ['alpine@sha256:abc', /not a valid digest/],
    ['ghcr.io/a/b!', /not a valid repository name component/],
    [`ghcr.io/${'a'.repeat(260)}`, /longer than 255/],
    ['my_host:5000/x', /not a valid registry host/],
  ];
  for (const [text, message] of bad) {
    test(`rejects ${JSON.stringify(text.slice(0, 30))}`, () => {
      assert.throws(() => parseReference(text), (error: unknown) => {
        assert.ok(error instanceof CaissonError);
        assert.equal(error.code, 'ERR_IMAGE_REFERENCE');
        assert.match(error.message, message);
        assert.ok(error.message.includes(`"${text}"`), 'the message names the input');
        assert.ok(error.hint !== undefined);
        return true;
      });
    });
  }
});
