// The Tekton results writer: the exact bytes of each of the seven files (no trailing newline),
// IMAGES deduplicated by repository, the Chains object result, empty references without
// signing, the atomic write (no temporary file left), and the termination-message budget: the
// worst case of a many-destination build is refused with the size in the message.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { checkResultsFit, RESULT_NAMES, resultsSize, TEKTON_RESERVED_BYTES, tektonResults, TERMINATION_MESSAGE_LIMIT, worstCaseResults, writeTektonResults } from '../../src/tekton/index.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'caisson-results-'));
  dirs.push(dir);
  return dir;
}

describe('tektonResults', () => {
  test('a signed, attested build to two repositories (one of them twice)', async () => {
    const provenance = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
    const results = tektonResults({
      digest: DIGEST,
      pushed: [
        { url: 'registry.example:5000/team/app:1.0', repository: 'registry.example:5000/team/app' },
        { url: 'registry.example:5000/team/app:latest', repository: 'registry.example:5000/team/app' },
        { url: 'mirror.example/app:1.0', repository: 'mirror.example/app' },
      ],
      signatures: [`registry.example:5000/team/app:sha256-${'ab'.repeat(32)}.sig`, `mirror.example/app:sha256-${'ab'.repeat(32)}.sig`],
      attestations: [`registry.example:5000/team/app:sha256-${'ab'.repeat(32)}.att`],
      provenance,
    });
    assert.deepEqual(results.map((result) => result.name), [...RESULT_NAMES]);
    const dir = scratch();
    await writeTektonResults({ dir: join(dir, 'results'), results });
    const read = (name: string) => readFileSync(join(dir, 'results', name), 'utf8');
    assert.equal(read('IMAGE_DIGEST'), DIGEST);
    assert.equal(read('IMAGE_URL'), 'registry.example:5000/team/app:1.0');
    assert.equal(read('IMAGES'), `registry.example:5000/team/app@${DIGEST}\nmirror.example/app@${DIGEST}`);
    assert.equal(read('IMAGE_ARTIFACT_OUTPUTS'), `{"uri":"registry.example:5000/team/app","digest":"${DIGEST}","isBuildArtifact":"true"}`);
    assert.equal(read('SIGNATURE_REF'), `registry.example:5000/team/app:sha256-${'ab'.repeat(32)}.sig`);
    assert.equal(read('ATTESTATION_REF'), `registry.example:5000/team/app:sha256-${'ab'.repeat(32)}.att`);
    assert.equal(read('PROVENANCE_DIGEST'), `sha256:${createHash('sha256').update(provenance).digest('hex')}`);
    assert.deepEqual(readdirSync(join(dir, 'results')).sort(), [...RESULT_NAMES].sort(), 'no temporary file is left');
  });

  test('unsigned: the references and the provenance digest are empty files', async () => {
    const dir = scratch();
    await writeTektonResults({ dir, results: tektonResults({ digest: DIGEST, pushed: [{ url: 'r.example/a:1', repository: 'r.example/a' }], signatures: [], attestations: [] }) });
    for (const name of ['SIGNATURE_REF', 'ATTESTATION_REF', 'PROVENANCE_DIGEST']) assert.equal(readFileSync(join(dir, name), 'utf8'), '', name);
    assert.equal(readFileSync(join(dir, 'IMAGES'), 'utf8'), `r.example/a@${DIGEST}`);
  });

  test('nothing pushed: no URL, and the object result is no build artifact', () => {
    const results = new Map(tektonResults({ digest: DIGEST, pushed: [], signatures: [], attestations: [] }).map((result) => [result.name, result.value]));
    assert.equal(results.get('IMAGE_URL'), '');
    assert.equal(results.get('IMAGES'), '');
    assert.deepEqual(JSON.parse(results.get('IMAGE_ARTIFACT_OUTPUTS') ?? ''), { uri: '', digest: DIGEST, isBuildArtifact: 'false' });
  });

  test('an existing result file is replaced', async () => {
    const dir = scratch();
    const results = (digest: string) => tektonResults({ digest, pushed: [], signatures: [], attestations: [] });
    await writeTektonResults({ dir, results: results(DIGEST) });
    await writeTektonResults({ dir, results: results(`sha256:${'cd'.repeat(32)}`) });
    assert.equal(readFileSync(join(dir, 'IMAGE_DIGEST'), 'utf8'), `sha256:${'cd'.repeat(32)}`);
  });
});

describe('the termination-message budget', () => {
  test('size is measured as Tekton encodes results', () => {
    const results = tektonResults({ digest: DIGEST, pushed: [], signatures: [], attestations: [] });
    assert.equal(resultsSize(results), Buffer.byteLength(JSON.stringify(results.map((r) => ({ key: r.name, value: r.value, type: 1 })))));
  });

  test('a few destinations with long names fit; dozens are refused before the build, naming the size', () => {
    const repository = (index: number) => `registry-with-a-rather-long-name.example.com:5000/organisation/team/project/service-${index}`;
    const pushed = (count: number) => Array.from({ length: count }, (_, index) => ({ url: `${repository(index)}:v1.2.3-rc.4`, repository: repository(index) }));
    checkResultsFit(worstCaseResults({ pushed: pushed(5), sign: true, attest: true, provenance: true }));
    const many = worstCaseResults({ pushed: pushed(40), sign: true, attest: true, provenance: true });
    assert.throws(
      () => checkResultsFit(many),
      (error: unknown) =>
        error instanceof CaissonError &&
        error.code === 'ERR_USAGE' &&
        error.message.includes(`${resultsSize(many)} bytes`) &&
        error.message.includes('40 image name(s)') &&
        error.message.includes(String(TERMINATION_MESSAGE_LIMIT - TEKTON_RESERVED_BYTES)),
    );
  });

  test('writing refuses results over the budget and writes nothing', async () => {
    const dir = scratch();
    const pushed = Array.from({ length: 60 }, (_, index) => ({ url: `r.example/organisation/app-${index}:tag`, repository: `r.example/organisation/app-${index}` }));
    await assert.rejects(writeTektonResults({ dir: join(dir, 'results'), results: tektonResults({ digest: DIGEST, pushed, signatures: [], attestations: [] }) }), /Tekton results would take/);
    assert.deepEqual(readdirSync(dir), []);
  });
});
