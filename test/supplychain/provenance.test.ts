// The in-toto Statement v1 with an SLSA Provenance v1 predicate, checked field by field: the
// required fields, the buildType, redaction of secret build args and URL credentials, the
// dependencies, and the timestamp format; plus statement parsing and its rejections.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CaissonError } from '../../src/errors.js';
import { parseReference, type Digest } from '../../src/image/index.js';
import {
  buildProvenanceStatement, buildStatement, CAISSON_BUILD_TYPE, imageSubject, parseStatement, redactBuildArgs, serializeStatement, SignatureFormatError,
  SLSA_PROVENANCE_V1, STATEMENT_V1, type FormatProblem, type ProvenanceInput,
} from '../../src/supplychain/index.js';

const hex = (c: string): string => c.repeat(64);
const digest = (c: string): Digest => `sha256:${hex(c)}` as Digest;
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

function input(overrides: Partial<ProvenanceInput> = {}): ProvenanceInput {
  return {
    dockerfile: { path: 'docker/Dockerfile', digest: digest('d') },
    context: { kind: 'git', url: 'https://x-access-token:ghs_SECRET@github.com/org/app.git', commit: COMMIT, ref: 'refs/heads/main' },
    targets: ['release'],
    buildArgs: { VERSION: '1.2', NPM_TOKEN: 'npm_abc', DB_PASSWORD: 'hunter2', mirror_url: 'https://bob:pw@mirror.example/x', ApiKey: 'k', GH_AUTH: 'a' },
    platforms: ['linux/amd64', 'linux/arm64/v8'],
    images: [
      { reference: parseReference('golang:1.22'), digest: digest('1') },
      { reference: parseReference('gcr.io/distroless/static'), digest: digest('2') },
      { reference: parseReference('golang:1.22'), digest: digest('1') },
    ],
    builder: { id: 'https://tekton.dev/chains/v2/task/caisson@0.1', version: '0.1.0', image: { reference: parseReference('ghcr.io/caisson/caisson'), digest: digest('c') } },
    invocationId: '7f1c2d4e-0000-4000-8000-000000000001',
    startedOn: new Date('2026-11-26T10:00:00.123Z'),
    finishedOn: new Date('2026-11-26T10:01:02.999Z'),
    ...overrides,
  };
}

test('the statement: _type v1, subjects by digest, the SLSA v1 predicateType', () => {
  const statement = buildProvenanceStatement({ subjects: [imageSubject({ name: 'ghcr.io/org/app', digest: digest('a') })], input: input() });
  assert.equal(statement._type, STATEMENT_V1);
  assert.equal(statement._type, 'https://in-toto.io/Statement/v1');
  assert.deepEqual(statement.subject, [{ name: 'ghcr.io/org/app', digest: { sha256: hex('a') } }]);
  assert.equal(statement.predicateType, 'https://slsa.dev/provenance/v1');
  assert.equal(statement.predicateType, SLSA_PROVENANCE_V1);
  const bytes = serializeStatement(statement);
  assert.deepEqual(Object.keys(JSON.parse(bytes.toString()) as object), ['_type', 'subject', 'predicateType', 'predicate']);
  assert.ok(!bytes.toString().includes('ghs_SECRET') && !bytes.toString().includes('hunter2') && !bytes.toString().includes('npm_abc') && !bytes.toString().includes(':pw@'), 'no secret in the statement');
});

test('buildDefinition: buildType, externalParameters with redacted build args, no credentials in the git URL', () => {
  const { buildDefinition } = buildProvenanceStatement({ subjects: [imageSubject({ digest: digest('a') })], input: input() }).predicate;
  assert.equal(buildDefinition.buildType, CAISSON_BUILD_TYPE);
  assert.equal(buildDefinition.buildType, 'https://caisson.dev/build/v1');
  assert.deepEqual(buildDefinition.externalParameters, {
    dockerfile: 'docker/Dockerfile',
    context: { url: 'https://github.com/org/app.git', commit: COMMIT, ref: 'refs/heads/main' },
    targets: ['release'],
    buildArgs: { ApiKey: '[REDACTED]', DB_PASSWORD: '[REDACTED]', GH_AUTH: '[REDACTED]', NPM_TOKEN: '[REDACTED]', VERSION: '1.2', mirror_url: 'https://[REDACTED]@mirror.example/x' },
    platforms: ['linux/amd64', 'linux/arm64/v8'],
  });
  assert.deepEqual(Object.keys(buildDefinition.externalParameters['buildArgs'] as object), ['ApiKey', 'DB_PASSWORD', 'GH_AUTH', 'NPM_TOKEN', 'VERSION', 'mirror_url']);
  assert.equal(buildDefinition.internalParameters, undefined);
});

test('resolvedDependencies: the Dockerfile, the git context by commit, each image once as oci://, caisson itself', () => {
  const { resolvedDependencies } = buildProvenanceStatement({ subjects: [imageSubject({ digest: digest('a') })], input: input() }).predicate.buildDefinition;
  assert.deepEqual(resolvedDependencies, [
    { name: 'dockerfile', digest: { sha256: hex('d') } },
    { name: 'context', uri: 'git+https://github.com/org/app.git@refs/heads/main', digest: { gitCommit: COMMIT } },
    { uri: 'oci://docker.io/library/golang', digest: { sha256: hex('1') } },
    { uri: 'oci://gcr.io/distroless/static', digest: { sha256: hex('2') } },
    { name: 'caisson', uri: 'oci://ghcr.io/caisson/caisson', digest: { sha256: hex('c') } },
  ]);
  for (const dependency of resolvedDependencies) assert.ok(dependency.uri !== undefined || dependency.digest !== undefined || dependency.content !== undefined);
});

test('a context without a commit is recorded by its content digest', () => {
  const local = buildProvenanceStatement({ subjects: [imageSubject({ digest: digest('a') })], input: input({ context: { kind: 'content', digest: digest('e') } }) }).predicate.buildDefinition;
  assert.deepEqual(local.externalParameters['context'], { digest: digest('e') });
  assert.deepEqual(local.resolvedDependencies[1], { name: 'context', digest: { sha256: hex('e') } });
  const git = buildProvenanceStatement({ subjects: [imageSubject({ digest: digest('a') })], input: input({ context: { kind: 'git', url: 'https://github.com/org/app.git', digest: digest('f') } }) }).predicate.buildDefinition;
  assert.deepEqual(git.externalParameters['context'], { url: 'https://github.com/org/app.git', digest: digest('f') });
  assert.deepEqual(git.resolvedDependencies[1], { name: 'context', uri: 'git+https://github.com/org/app.git', digest: { sha256: hex('f') } });
  assert.throws(
    () => buildProvenanceStatement({ subjects: [imageSubject({ digest: digest('a') })], input: input({ context: { kind: 'git', url: 'https://github.com/org/app.git' } }) }),
    (error: unknown) => error instanceof CaissonError && error.code === 'ERR_SIGNING' && /neither a commit nor a content digest/.test(error.message),
  );
});

test('runDetails: builder id and version, invocationId, whole-second UTC timestamps', () => {
  const { runDetails } = buildProvenanceStatement({ subjects: [imageSubject({ digest: digest('a') })], input: input() }).predicate;
  assert.deepEqual(runDetails, {
    builder: { id: 'https://tekton.dev/chains/v2/task/caisson@0.1', version: { caisson: '0.1.0' } },
    metadata: { invocationId: '7f1c2d4e-0000-4000-8000-000000000001', startedOn: '2026-11-26T10:00:00Z', finishedOn: '2026-11-26T10:01:02Z' },
  });
  for (const stamp of [runDetails.metadata.startedOn, runDetails.metadata.finishedOn]) assert.match(stamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  assert.throws(() => buildProvenanceStatement({ subjects: [imageSubject({ digest: digest('a') })], input: input({ builder: { id: ' ', version: '0.1.0' } }) }), /builder\.id is empty/);
  assert.throws(() => buildProvenanceStatement({ subjects: [imageSubject({ digest: digest('a') })], input: input({ startedOn: new Date('nope') }) }), /startedOn is not a valid time/);
});

test('the redaction rule: names with pass, secret, token, key, credential, auth, private or cookie', () => {
  const names = ['PASSWORD', 'db_pass', 'MY_SECRET', 'GITHUB_TOKEN', 'api_key', 'AWS_CREDENTIALS', 'Authorization', 'SSH_PRIVATE', 'session_cookie'];
  const redacted = redactBuildArgs(Object.fromEntries(names.map((name) => [name, 'v'])));
  for (const name of names) assert.equal(redacted[name], '[REDACTED]', name);
  assert.deepEqual(redactBuildArgs({ HTTP_PROXY: 'http://proxy:3128', NODE_ENV: 'production', URL: 'https://ci.example/?token=abc' }), {
    HTTP_PROXY: 'http://proxy:3128',
    NODE_ENV: 'production',
    URL: 'https://ci.example/?token=[REDACTED]',
  });
});

test('the statement builder takes any predicate (the SBOM seam) and needs a subject', () => {
  const statement = buildStatement({ subjects: [imageSubject({ digest: digest('a') })], predicateType: 'https://spdx.dev/Document', predicate: { spdxVersion: 'SPDX-2.3' } });
  assert.deepEqual(JSON.parse(serializeStatement(statement).toString()), {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ digest: { sha256: hex('a') } }],
    predicateType: 'https://spdx.dev/Document',
    predicate: { spdxVersion: 'SPDX-2.3' },
  });
  assert.throws(() => buildStatement({ subjects: [], predicateType: 'x', predicate: {} }), /at least one subject/);
});

test('parseStatement reads v1 and v0.1 and rejects each malformation with its own problem', () => {
  const good = serializeStatement(buildStatement({ subjects: [imageSubject({ name: 'n', digest: digest('a') })], predicateType: SLSA_PROVENANCE_V1, predicate: {} }));
  assert.equal(parseStatement({ bytes: good, what: 's' }).predicateType, SLSA_PROVENANCE_V1);
  const v01 = Buffer.from(good.toString().replace('Statement/v1', 'Statement/v0.1'));
  assert.equal(parseStatement({ bytes: v01, what: 's' })._type, 'https://in-toto.io/Statement/v0.1');
  const cases: [string, FormatProblem][] = [
    ['x', 'not-json'],
    ['null', 'not-object'],
    [good.toString().replace('Statement/v1', 'Statement/v2'), 'statement-type'],
    ['{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p"}', 'statement-subject'],
    ['{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"n"}],"predicateType":"p"}', 'statement-subject'],
    ['{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"ABC"}}],"predicateType":"p"}', 'statement-subject'],
    ['{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":3,"digest":{"sha256":"ab"}}],"predicateType":"p"}', 'statement-subject'],
    ['{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"ab"}}]}', 'statement-predicate-type'],
  ];
  for (const [text, problem] of cases) {
    assert.throws(() => parseStatement({ bytes: Buffer.from(text), what: 's' }), (error: unknown) => error instanceof SignatureFormatError && error.problem === problem, `${text} → ${problem}`);
  }
});
