// `caisson build --provenance-file`, `--sign` and `--provenance`: the SLSA v1 statement of a real
// build pushed to a real docker-registry FROM a busybox base: subjects are the pushed repositories
// at the digest skopeo reads back, resolvedDependencies hold the Dockerfile's and the context's
// sha256 and the base by its manifest digest, build args under secret-looking names are redacted
// (their values appear nowhere in the file), and the context digest depends on content, not on
// where the context is. With a key from `caisson generate-key-pair`, every pushed repository gets
// a .sig and an .att, checked with openssl over the payload and the recomputed DSSE PAE; a wrong
// password fails before anything is built or pushed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pushBusyboxBase } from '../support/busybox.js';
import { runCaisson } from '../support/cli.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';
import { opensslVerifies } from '../supplychain/support.js';
import { mockTrustedRoot } from '../supplychain/verify-support.js';
import { fakeIdentityToken, startSigstoreMock, type SigstoreMock } from '../support/sigstore-mock.js';

const skip =
  (process.getuid?.() !== 0 ? 'needs uid 0: the busybox base COPYs root-owned files' : undefined) ??
  missingTool('docker-registry', 'docker-registry') ??
  missingTool('skopeo', 'skopeo') ??
  missingTool('openssl', 'openssl') ??
  (existsSync('/bin/busybox') ? undefined : 'needs /bin/busybox (Debian package busybox-static)');

interface Provenance {
  readonly _type: string;
  readonly subject: readonly { readonly name?: string; readonly digest: { readonly sha256: string } }[];
  readonly predicateType: string;
  readonly predicate: {
    readonly buildDefinition: {
      readonly buildType: string;
      readonly externalParameters: { readonly dockerfile: string; readonly context: { readonly digest?: string }; readonly targets: readonly string[]; readonly buildArgs: Record<string, string>; readonly platforms: readonly string[] };
      readonly resolvedDependencies: readonly { readonly name?: string; readonly uri?: string; readonly digest: Record<string, string> }[];
    };
    readonly runDetails: { readonly builder: { readonly id: string; readonly version: Record<string, string> }; readonly metadata: { readonly invocationId: string; readonly startedOn: string; readonly finishedOn: string } };
  };
}

describe('caisson build --provenance-file', { skip }, () => {
  let dir = '';
  let registry: RunningRegistry;
  let base = '';
  let baseDigest = '';
  let mock: SigstoreMock;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'caisson-provenance-'));
    registry = await startRegistry({ setup: 'plain' });
    mock = await startSigstoreMock();
    writeFileSync(join(dir, 'trusted_root.json'), mockTrustedRoot(mock));
    base = `${registry.host}/base/busybox:1`;
    await pushBusyboxBase({ dir: join(dir, 'busybox'), reference: base, cacheDir: join(dir, 'cache') });
    baseDigest = runTool('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${base}`]);
    baseDigest = `sha256:${createHash('sha256').update(baseDigest).digest('hex')}`;
  });

  after(async () => {
    await registry?.stop();
    await mock?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function context(name: string): string {
    const path = join(dir, name);
    mkdirSync(join(path, 'src'), { recursive: true });
    writeFileSync(join(path, 'Dockerfile'), `FROM ${base}\nARG GREETING\nARG NPM_TOKEN\nCOPY src/ /app/\n`);
    writeFileSync(join(path, 'src', 'a.txt'), 'a\n');
    writeFileSync(join(path, '.dockerignore'), 'ignored.txt\n');
    return path;
  }

  async function build(ctx: string, tag: string, extra: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Promise<{ provenance: Provenance; text: string; digest: string }> {
    const file = join(dir, `${tag}.provenance.json`);
    const result = await runCaisson(['build', ctx, '-d', `${registry.host}/app:${tag}`, '-d', `${registry.host}/mirror/app:${tag}`, '--cache-dir', join(dir, 'cache'), '--provenance-file', file,
      '--build-arg', 'GREETING=hello', '--build-arg', 'NPM_TOKEN=s3cr3t-value', '--builder-id', 'https://tekton.example/tasks/caisson@v1', '--invocation-id', 'taskrun-uid-1', ...extra], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    const raw = runTool('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${registry.host}/app:${tag}`]);
    const text = readFileSync(file, 'utf8');
    return { provenance: JSON.parse(text) as Provenance, text, digest: createHash('sha256').update(raw).digest('hex') };
  }

  test('subjects, parameters, dependencies and run details of a pushed build', async () => {
    const ctx = context('ctx-one');
    const { provenance, text, digest } = await build(ctx, 'one');
    assert.equal(provenance._type, 'https://in-toto.io/Statement/v1');
    assert.equal(provenance.predicateType, 'https://slsa.dev/provenance/v1');
    assert.deepEqual(provenance.subject, [
      { name: `${registry.host}/app`, digest: { sha256: digest } },
      { name: `${registry.host}/mirror/app`, digest: { sha256: digest } },
    ]);
    const definition = provenance.predicate.buildDefinition;
    assert.equal(definition.buildType, 'https://caisson.dev/build/v1');
    assert.equal(definition.externalParameters.dockerfile, 'Dockerfile');
    assert.deepEqual(definition.externalParameters.buildArgs, { GREETING: 'hello', NPM_TOKEN: '[REDACTED]' });
    assert.deepEqual(definition.externalParameters.targets, []);
    assert.match(definition.externalParameters.platforms[0] ?? '', /^linux\//);
    assert.ok(!text.includes('s3cr3t-value'), 'the secret build arg value is nowhere in the file');
    const dockerfileDigest = createHash('sha256').update(readFileSync(join(ctx, 'Dockerfile'))).digest('hex');
    assert.deepEqual(definition.resolvedDependencies[0], { name: 'dockerfile', digest: { sha256: dockerfileDigest } });
    assert.equal(definition.resolvedDependencies[1]?.name, 'context');
    assert.equal(`sha256:${definition.resolvedDependencies[1]?.digest['sha256']}`, definition.externalParameters.context.digest);
    assert.deepEqual(definition.resolvedDependencies[2], { uri: `oci://${registry.host}/base/busybox`, digest: { sha256: baseDigest.slice('sha256:'.length) } });
    assert.equal(definition.resolvedDependencies.length, 3);
    const run = provenance.predicate.runDetails;
    assert.equal(run.builder.id, 'https://tekton.example/tasks/caisson@v1');
    assert.match(run.builder.version['caisson'] ?? '', /^\d+\.\d+\.\d+/);
    assert.equal(run.metadata.invocationId, 'taskrun-uid-1');
    assert.match(run.metadata.startedOn, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(run.metadata.finishedOn >= run.metadata.startedOn);
  });

  test('the context digest follows content, .dockerignore applied, not the directory it lives in', async () => {
    const first = context('ctx-a');
    const second = join(dir, 'elsewhere', 'ctx-b');
    cpSync(first, second, { recursive: true });
    writeFileSync(join(second, 'ignored.txt'), 'not in the context\n');
    const a = await build(first, 'a');
    const b = await build(second, 'b');
    assert.equal(a.provenance.predicate.buildDefinition.externalParameters.context.digest, b.provenance.predicate.buildDefinition.externalParameters.context.digest);
    writeFileSync(join(second, 'src', 'a.txt'), 'changed\n');
    const c = await build(second, 'c');
    assert.notEqual(c.provenance.predicate.buildDefinition.externalParameters.context.digest, a.provenance.predicate.buildDefinition.externalParameters.context.digest);
  });

  async function blob(repo: string, digest: string): Promise<Buffer> {
    return Buffer.from(await (await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`)).arrayBuffer());
  }

  interface CosignLayer {
    readonly mediaType: string;
    readonly digest: string;
    readonly annotations: Record<string, string>;
  }

  function cosignLayers(repo: string, tag: string): CosignLayer[] {
    return (JSON.parse(runTool('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${registry.host}/${repo}:${tag}`])) as { layers: CosignLayer[] }).layers;
  }

  test('--sign --provenance: a .sig and a SLSA .att next to the image in every pushed repository, checked with openssl', async () => {
    const keys = await runCaisson(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw for the build' } });
    assert.equal(keys.code, 0, keys.stderr);
    const publicKeyPem = readFileSync(join(dir, 'cosign.pub'), 'utf8');
    const ctx = context('ctx-signed');
    const { provenance, text, digest } = await build(ctx, 'signed', ['--sign', '--provenance', '--key', 'cosign.key', '--tlog-upload=false'], { COSIGN_PASSWORD: 'pw for the build' });
    for (const repo of ['app', 'mirror/app']) {
      const [signature, ...moreSignatures] = cosignLayers(repo, `sha256-${digest}.sig`);
      assert.ok(signature !== undefined && moreSignatures.length === 0, `${repo}: one signature`);
      const payload = await blob(repo, signature.digest);
      assert.equal((JSON.parse(payload.toString('utf8')) as { critical: { image: { 'docker-manifest-digest': string } } }).critical.image['docker-manifest-digest'], `sha256:${digest}`);
      assert.ok(opensslVerifies({ publicKeyPem, signature: Buffer.from(signature.annotations['dev.cosignproject.cosign/signature'] ?? '', 'base64'), data: payload }), `${repo}: openssl verifies the .sig`);

      const [attestation, ...moreAttestations] = cosignLayers(repo, `sha256-${digest}.att`);
      assert.ok(attestation !== undefined && moreAttestations.length === 0, `${repo}: one attestation`);
      assert.equal(attestation.annotations['predicateType'], 'https://slsa.dev/provenance/v1');
      const envelope = JSON.parse((await blob(repo, attestation.digest)).toString('utf8')) as { payload: string; payloadType: string; signatures: { sig: string }[] };
      const body = Buffer.from(envelope.payload, 'base64');
      const type = Buffer.from(envelope.payloadType);
      const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
      assert.ok(opensslVerifies({ publicKeyPem, signature: Buffer.from(envelope.signatures[0]?.sig ?? '', 'base64'), data: pae }), `${repo}: openssl verifies the DSSE PAE`);
      assert.deepEqual(JSON.parse(body.toString('utf8')), provenance, 'the attested statement is the one written to --provenance-file');
    }
    assert.ok(!text.includes('pw for the build'));
  });

  test('a wrong key password fails before the build: exit 9, nothing pushed, the password not echoed', async () => {
    const ctx = context('ctx-wrong-password');
    const result = await runCaisson(['build', ctx, '-d', `${registry.host}/app:never`, '--cache-dir', join(dir, 'cache'), '--sign', '--key', 'cosign.key', '--tlog-upload=false'], { cwd: dir, env: { COSIGN_PASSWORD: 'not the password' } });
    assert.equal(result.code, 9, result.stderr);
    assert.match(result.stderr, /cosign\.key/);
    assert.match(result.stderr, /ERR_SIGNING_KEY/);
    assert.ok(!result.stderr.includes('not the password'));
    assert.doesNotMatch(result.stderr, /\[stage-0/, 'no step ran');
    const tags = (await (await fetch(`${registry.url}/v2/app/tags/list`)).json()) as { tags: string[] };
    assert.ok(!tags.tags.includes('never'));
  });

  test('--sign without a pushed image is a usage error that points at --provenance-file', async () => {
    const result = await runCaisson(['build', context('ctx-no-push'), '--no-push', '--sign', '--key', 'cosign.key'], { cwd: dir });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--sign needs a pushed image/);
  });

  test('caisson verify and verify-attestation accept what build --sign --provenance wrote, and only for that key', async () => {
    const ref = `${registry.host}/app:signed`;
    const verified = await runCaisson(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', ref], { cwd: dir });
    assert.equal(verified.code, 0, verified.stderr);
    const attested = await runCaisson(['verify-attestation', '--key', 'cosign.pub', '--insecure-ignore-tlog', ref], { cwd: dir });
    assert.equal(attested.code, 0, attested.stderr);
    const envelope = JSON.parse(attested.stdout.trim().split('\n')[0] ?? '') as { payload: string };
    assert.deepEqual(JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')), JSON.parse(readFileSync(join(dir, 'signed.provenance.json'), 'utf8')));
    const keys = await runCaisson(['generate-key-pair', '--output-key-prefix', 'other'], { cwd: dir, env: { COSIGN_PASSWORD: '' } });
    assert.equal(keys.code, 0, keys.stderr);
    const wrong = await runCaisson(['verify', '--key', 'other.pub', '--insecure-ignore-tlog', ref], { cwd: dir });
    assert.equal(wrong.code, 10, wrong.stderr);
  });

  test('keyless, bundle format: Fulcio certificate and Rekor entries (mocks on loopback), verified by identity with the trusted root', async () => {
    const token = join(dir, 'oidc-token');
    writeFileSync(token, fakeIdentityToken({ sub: 'builder@example.com', email: 'builder@example.com', iss: 'https://issuer.example.com' }));
    const ctx = context('ctx-keyless');
    writeFileSync(join(ctx, 'src', 'keyless.txt'), 'an image of its own: no other test signed this digest\n');
    const { digest } = await build(ctx, 'keyless', ['--sign', '--provenance', '--identity-token-file', token, '--fulcio-url', mock.fulcioURL, '--rekor-url', mock.rekorURL, '--signature-format', 'bundle']);
    const ref = `${registry.host}/app@sha256:${digest}`;
    const identity = ['--certificate-identity', 'builder@example.com', '--certificate-oidc-issuer', 'https://issuer.example.com', '--trusted-root', 'trusted_root.json'];
    const verified = await runCaisson(['verify', ...identity, ref], { cwd: dir });
    assert.equal(verified.code, 0, verified.stderr);
    const attested = await runCaisson(['verify-attestation', ...identity, ref], { cwd: dir });
    assert.equal(attested.code, 0, attested.stderr);
    const other = await runCaisson(['verify', '--certificate-identity', 'someone@example.com', '--certificate-oidc-issuer', 'https://issuer.example.com', '--trusted-root', 'trusted_root.json', ref], { cwd: dir });
    assert.equal(other.code, 10, other.stderr);
    assert.ok(!runTool('skopeo', ['list-tags', '--tls-verify=false', `docker://${registry.host}/app`]).includes(`sha256-${digest}.sig`), 'bundle format writes no .sig tag');
  });

  test('a git context: the URL, the ref and the commit built, with gitCommit as its digest', async (t) => {
    const missingGit = missingTool('git', 'git');
    if (missingGit !== undefined) {
      t.skip(missingGit);
      return;
    }
    const repo = join(dir, 'repo');
    mkdirSync(join(repo, 'app'), { recursive: true });
    writeFileSync(join(repo, 'app', 'Dockerfile'), `FROM ${base}\nCOPY version.txt /\n`);
    writeFileSync(join(repo, 'app', 'version.txt'), 'one\n');
    const git = (args: readonly string[]): string => runTool('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]).trim();
    git(['init', '-q', '-b', 'main']);
    git(['add', '.']);
    git(['commit', '-q', '-m', 'one']);
    const commit = git(['rev-parse', 'HEAD']);
    const file = join(dir, 'git.provenance.json');
    const result = await runCaisson(['build', `git+file://${repo}#main:app`, '-d', `${registry.host}/app:git`, '--cache-dir', join(dir, 'cache'), '--provenance-file', file], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const provenance = JSON.parse(readFileSync(file, 'utf8')) as Provenance;
    const definition = provenance.predicate.buildDefinition;
    assert.deepEqual(definition.externalParameters.context, { url: `file://${repo}`, commit, ref: 'main', subdir: 'app' });
    assert.deepEqual(definition.resolvedDependencies[1], { name: 'context', uri: `git+file://${repo}@main`, digest: { gitCommit: commit } });
    assert.equal(definition.externalParameters.dockerfile, 'Dockerfile');
  });
});
