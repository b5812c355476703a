/**
 * Multi-platform builds (`caisson build --platform linux/amd64,linux/arm64`) against a real
 * docker-registry, FROM a two-platform base the test makes itself: the busybox base for amd64,
 * and for arm64 the same files in a `FROM scratch` image whose config says arm64 (COPY-only, no
 * emulation), merged by `caisson manifest create`.
 *
 * Checked with independent readers: the index skopeo reads (`--raw`, whose sha256 is the digest
 * caisson printed, wrote to --digest-file and to the Tekton results), each platform pulled with
 * `skopeo --override-arch` and unpacked by umoci (the platform ARGs per platform; a
 * `FROM --platform=$BUILDPLATFORM` stage run once, natively, and shared); the Docker manifest
 * list of `--image-format docker`; `manifest create` of two images built separately giving the
 * digests their builds printed; `--sign --provenance` covering the index digest. Bad inputs: a
 * platform the base index lacks (naming the base and its platforms), an unknown platform, a
 * single-platform base under another platform, two platforms into one docker-archive, and RUN for
 * arm64 without a qemu binfmt handler (checked only when none is registered; a RUN under qemu
 * needs a registered handler and an arm64 busybox, and is skipped with the reason otherwise).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { platformRunner } from '../../src/build/binfmt.js';
import { MediaType } from '../../src/image/index.js';
import { pushBusyboxBase, writeBusyboxContext } from '../support/busybox.js';
import { runCaisson, type CliResult } from '../support/cli.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';

const skip =
  (process.getuid?.() !== 0 ? 'needs uid 0: the busybox base COPYs root-owned files and RUN uses namespaces' : undefined) ??
  missingTool('docker-registry', 'docker-registry') ??
  missingTool('skopeo', 'skopeo') ??
  missingTool('umoci', 'umoci') ??
  (existsSync('/bin/busybox') ? undefined : 'needs /bin/busybox (Debian package busybox-static)');

interface RawIndex {
  readonly mediaType: string;
  readonly manifests: readonly { readonly mediaType: string; readonly digest: string; readonly platform: { readonly os: string; readonly architecture: string } }[];
}

describe('caisson build --platform with several platforms', { skip }, () => {
  let dir = '';
  let registry: RunningRegistry;
  let base = '';
  const cache = (): string => join(dir, 'cache');
  const skopeo = (args: readonly string[]): string => runTool('skopeo', [args[0] as string, '--tls-verify=false', ...args.slice(1)]);
  const sha = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

  /** caisson; a build gets the shared --cache-dir. */
  function caisson(argv: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
    return runCaisson([...argv, ...(argv[0] === 'build' ? ['--cache-dir', cache()] : [])], { cwd: dir, env });
  }

  /** A context directory with `dockerfile` (`{base}` replaced) and a file a.txt. */
  function context(name: string, dockerfile: string): string {
    const path = join(dir, name);
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, 'Dockerfile'), dockerfile.replaceAll('{base}', base));
    writeFileSync(join(path, 'a.txt'), `${name}\n`);
    return path;
  }

  /** The platform's image of `reference`, unpacked by umoci from skopeo's copy: its rootfs. */
  function unpack(reference: string, arch: string, name: string): string {
    const layout = join(dir, `${name}-oci`);
    runTool('skopeo', ['copy', '--src-tls-verify=false', '--override-os', 'linux', '--override-arch', arch, `docker://${reference}`, `oci:${layout}:t`]);
    runTool('umoci', ['unpack', '--image', `${layout}:t`, join(dir, name)]);
    return join(dir, name, 'rootfs');
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'caisson-multi-platform-'));
    registry = await startRegistry({ setup: 'plain' });
    base = `${registry.host}/base/busybox:multi`;
    await pushBusyboxBase({ dir: join(dir, 'busybox-amd64'), reference: `${registry.host}/base/busybox:amd64`, cacheDir: cache() });
    writeBusyboxContext(join(dir, 'busybox-arm64'));
    const arm = await runCaisson(['build', join(dir, 'busybox-arm64'), '--platform', 'linux/arm64', '-d', `${registry.host}/base/busybox:arm64`, '--cache-dir', cache(), '--insecure-registry', registry.host, '-v', 'warn'], { cwd: dir });
    assert.equal(arm.code, 0, arm.stderr);
    const merged = await caisson(['manifest', 'create', base, `${registry.host}/base/busybox:amd64`, `${registry.host}/base/busybox:arm64`, '--insecure-registry', registry.host]);
    assert.equal(merged.code, 0, merged.stderr);
  });

  after(async () => {
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a COPY-only build for amd64 and arm64 pushes one OCI index; each platform has its own files', async () => {
    const ctx = context('ctx-multi', [
      'FROM --platform=$BUILDPLATFORM {base} AS tools',
      'RUN echo "made on $(uname -m)" > /tool',
      'FROM {base}',
      'ARG TARGETPLATFORM TARGETARCH BUILDPLATFORM',
      'COPY --from=tools /tool /tool',
      'COPY <<EOF /platform.txt',
      'target=${TARGETPLATFORM} arch=${TARGETARCH} build=${BUILDPLATFORM}',
      'EOF',
      'COPY a.txt /a.txt',
      '',
    ].join('\n'));
    const ref = `${registry.host}/app/multi:1.0`;
    const result = await caisson(['build', ctx, '--platform', 'linux/amd64,linux/arm64', '-d', ref, '--insecure-registry', registry.host,
      '--digest-file', 'multi.digest', '--oci-layout-path', 'multi-layout', '--results-dir', 'multi-results']);
    assert.equal(result.code, 0, result.stderr);
    const digest = result.stdout.split('\n')[0]?.split('@')[1] ?? '';
    assert.equal(result.stdout, `${ref}@${digest}\noci:${join(dir, 'multi-layout')}:1.0@${digest}\n`);
    // The stage pinned to the build platform runs once for both (its RUN is logged once).
    assert.equal(result.stderr.match(/RUN echo "made on/g)?.length, 1, result.stderr);
    assert.match(result.stderr, /an index of 2 images \(linux\/amd64 sha256:[0-9a-f]{64}, linux\/arm64 sha256:[0-9a-f]{64}\)/);

    const raw = skopeo(['inspect', '--raw', `docker://${ref}`]);
    assert.equal(sha(raw), digest, 'the index skopeo reads is the digest caisson printed');
    assert.equal(readFileSync(join(dir, 'multi.digest'), 'utf8'), digest);
    assert.equal(readFileSync(join(dir, 'multi-results', 'IMAGE_DIGEST'), 'utf8'), digest, 'Tekton IMAGE_DIGEST is the index');
    const index = JSON.parse(raw) as RawIndex;
    assert.equal(index.mediaType, MediaType.ociIndex);
    assert.deepEqual(index.manifests.map((m) => [m.mediaType, m.platform.os, m.platform.architecture]), [
      [MediaType.ociManifest, 'linux', 'amd64'],
      [MediaType.ociManifest, 'linux', 'arm64'],
    ]);
    assert.equal((await caisson(['inspect', '--raw', 'oci:multi-layout:1.0'])).stdout, raw, 'the OCI layout holds the same index');

    for (const arch of ['amd64', 'arm64']) {
      const inspected = JSON.parse(skopeo(['inspect', '--override-os', 'linux', '--override-arch', arch, `docker://${ref}`])) as { Architecture: string; Layers: string[] };
      assert.equal(inspected.Architecture, arch);
      const baseLayers = (JSON.parse(skopeo(['inspect', `docker://${registry.host}/base/busybox:${arch}`])) as { Layers: string[] }).Layers;
      assert.deepEqual(inspected.Layers.slice(0, baseLayers.length), baseLayers, `${arch}: on the ${arch} base`);
      assert.equal(inspected.Layers.length, baseLayers.length + 3);
      const rootfs = unpack(ref, arch, `rootfs-${arch}`);
      assert.equal(readFileSync(join(rootfs, 'platform.txt'), 'utf8'), `target=linux/${arch} arch=${arch} build=linux/amd64\n`);
      assert.equal(readFileSync(join(rootfs, 'tool'), 'utf8'), 'made on x86_64\n', `${arch}: the tools stage ran natively`);
      assert.equal(readFileSync(join(rootfs, 'a.txt'), 'utf8'), 'ctx-multi\n');
    }
  });

  test('--image-format docker writes a Docker manifest list of Docker schema 2 manifests', async () => {
    const ctx = context('ctx-docker', 'FROM {base}\nCOPY a.txt /a.txt\n');
    const ref = `${registry.host}/app/docker-list:1.0`;
    const result = await caisson(['build', ctx, '--platform', 'linux/arm64,linux/amd64', '--image-format', 'docker', '-d', ref, '--insecure-registry', registry.host]);
    assert.equal(result.code, 0, result.stderr);
    const raw = skopeo(['inspect', '--raw', `docker://${ref}`]);
    assert.equal(sha(raw), result.stdout.trim().split('@')[1]);
    const list = JSON.parse(raw) as RawIndex;
    assert.equal(list.mediaType, MediaType.dockerManifestList);
    assert.deepEqual(list.manifests.map((m) => [m.mediaType, m.platform.architecture]), [[MediaType.dockerManifest, 'amd64'], [MediaType.dockerManifest, 'arm64']]);
  });

  test('manifest create merges two images built separately into the index of their digests', async () => {
    const ctx = context('ctx-split', 'FROM {base}\nARG TARGETARCH\nCOPY a.txt /a-${TARGETARCH}.txt\n');
    const digests = new Map<string, string>();
    for (const arch of ['arm64', 'amd64']) {
      const built = await caisson(['build', ctx, '--custom-platform', `linux/${arch}`, '-d', `${registry.host}/app/split:1.0-linux-${arch}`, '--insecure-registry', registry.host]);
      assert.equal(built.code, 0, built.stderr);
      digests.set(arch, built.stdout.trim().split('@')[1] ?? '');
    }
    const merged = await caisson(['manifest', 'create', `${registry.host}/app/split:1.0`, `${registry.host}/app/split@${digests.get('arm64')}`, `${registry.host}/app/split:1.0-linux-amd64`, '--insecure-registry', registry.host]);
    assert.equal(merged.code, 0, merged.stderr);
    const index = JSON.parse(skopeo(['inspect', '--raw', `docker://${registry.host}/app/split:1.0`])) as RawIndex;
    assert.deepEqual(index.manifests.map((m) => [m.platform.architecture, m.digest]), [['amd64', digests.get('amd64')], ['arm64', digests.get('arm64')]]);
  });

  test('--sign --provenance cover the index: the signature and the statement name its digest', async () => {
    const keys = await runCaisson(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } });
    assert.equal(keys.code, 0, keys.stderr);
    const ctx = context('ctx-signed', 'FROM {base}\nCOPY a.txt /a.txt\n');
    const ref = `${registry.host}/app/signed:1.0`;
    const result = await caisson(['build', ctx, '--platform', 'linux/amd64,linux/arm64', '-d', ref, '--insecure-registry', registry.host,
      '--sign', '--provenance', '--key', 'cosign.key', '--tlog-upload=false', '--provenance-file', 'signed.provenance.json'], { COSIGN_PASSWORD: 'pw' });
    assert.equal(result.code, 0, result.stderr);
    const digest = result.stdout.trim().split('@')[1] ?? '';
    assert.equal(sha(skopeo(['inspect', '--raw', `docker://${ref}`])), digest);
    const provenance = JSON.parse(readFileSync(join(dir, 'signed.provenance.json'), 'utf8')) as { subject: { digest: { sha256: string } }[]; predicate: { buildDefinition: { externalParameters: { platforms: string[] } } } };
    assert.deepEqual(provenance.subject.map((subject) => `sha256:${subject.digest.sha256}`), [digest]);
    assert.deepEqual(provenance.predicate.buildDefinition.externalParameters.platforms, ['linux/amd64', 'linux/arm64']);
    const verified = await caisson(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', '--insecure-registry', registry.host, `${registry.host}/app/signed@${digest}`]);
    assert.equal(verified.code, 0, verified.stderr);
    const attested = await caisson(['verify-attestation', '--key', 'cosign.pub', '--insecure-ignore-tlog', '--insecure-registry', registry.host, ref]);
    assert.equal(attested.code, 0, attested.stderr);
  });

  test('bad inputs: the platform missing from the base index, an unknown platform, a single-platform base, a docker-archive', async () => {
    const ctx = context('ctx-bad', 'FROM {base}\nCOPY a.txt /a.txt\n');
    const missing = await caisson(['build', ctx, '--platform', 'linux/amd64,linux/s390x', '--no-push', '--insecure-registry', registry.host]);
    assert.equal(missing.code, 6, missing.stderr);
    assert.ok(missing.stderr.includes(`${base}: no image for linux/s390x in the index`), missing.stderr);
    assert.match(missing.stderr, /hint: It has linux\/amd64, linux\/arm64/);
    const unknown = await caisson(['build', ctx, '--platform', 'linux/amd64,linux/z80', '--no-push']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--platform "linux\/z80": unknown architecture "z80"/);
    const twice = await caisson(['build', ctx, '--platform', 'linux/amd64,linux/x86_64', '--no-push']);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /linux\/amd64 is given twice/);
    const single = context('ctx-single', `FROM ${registry.host}/base/busybox:amd64\nCOPY a.txt /a.txt\n`);
    const mismatch = await caisson(['build', single, '--platform', 'linux/amd64,linux/arm64', '--no-push', '--insecure-registry', registry.host]);
    assert.equal(mismatch.code, 6, mismatch.stderr);
    assert.match(mismatch.stderr, /Dockerfile:1: .*base\/busybox:amd64 is a single image for linux\/amd64, not for linux\/arm64/);
    const archive = await caisson(['build', ctx, '--platform', 'linux/amd64,linux/arm64', '--no-push', '--tar-path', 'multi.tar']);
    assert.equal(archive.code, 2);
    assert.match(archive.stderr, /--tar-path writes a docker-archive, which holds one image, and --platform asks for 2/);
    assert.ok(!existsSync(join(dir, 'multi.tar')));
  });

  test('RUN for arm64 without a qemu binfmt handler fails before building, naming the platform', async (t) => {
    const runner = await platformRunner({ platform: { os: 'linux', architecture: 'arm64' } });
    if (runner.kind !== 'none') {
      t.skip(`this machine runs arm64 programs (${runner.kind === 'native' ? 'natively' : `binfmt_misc handler ${runner.handler.name}`}): nothing to refuse`);
      return;
    }
    const ctx = context('ctx-run', 'FROM {base}\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\n');
    const result = await caisson(['build', ctx, '--platform', 'linux/amd64,linux/arm64', '-d', `${registry.host}/app/run:1.0`, '--insecure-registry', registry.host]);
    assert.equal(result.code, 8, result.stderr);
    assert.match(result.stderr, /Dockerfile:3: RUN for linux\/arm64 cannot run on this linux\/amd64 machine: no binfmt_misc handler for arm64 executables is registered/);
    assert.match(result.stderr, /hint: .*apt-get install qemu-user-static binfmt-support/);
    assert.doesNotMatch(result.stderr, /\[linux\/amd64 stage-0 2\/4\]/, 'nothing was built');
    assert.throws(() => skopeo(['list-tags', `docker://${registry.host}/app/run`]), /404/, 'nothing was pushed');
    // One platform: the RUN step itself refuses, for the platform its base image states.
    const single = await caisson(['build', ctx, '--platform', 'linux/arm64', '--no-push', '--insecure-registry', registry.host]);
    assert.equal(single.code, 8, single.stderr);
    assert.match(single.stderr, /Dockerfile:3: RUN for linux\/arm64 cannot run on this linux\/amd64 machine/);
    assert.match(single.stderr, /\[stage-0 2\/3\] COPY a\.txt/, 'the steps before RUN ran');
  });

  test('RUN for arm64 under qemu-user (binfmt_misc)', async (t) => {
    const runner = await platformRunner({ platform: { os: 'linux', architecture: 'arm64' } });
    const busybox = process.env['CAISSON_TEST_ARM64_BUSYBOX'];
    if (runner.kind !== 'emulated') {
      t.skip(runner.kind === 'native' ? 'this machine is arm64: RUN is native' : `no qemu for arm64 here (${runner.reason}); register one with apt-get install qemu-user-static binfmt-support`);
      return;
    }
    if (busybox === undefined || !existsSync(busybox)) {
      t.skip('needs an arm64 static busybox (CAISSON_TEST_ARM64_BUSYBOX=path) to make an arm64 base that can RUN');
      return;
    }
    const ctx = context('ctx-qemu', 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "/bin/busybox uname -m > /arch"]\n');
    writeFileSync(join(ctx, 'busybox'), readFileSync(busybox), { mode: 0o755 });
    const result = await caisson(['build', ctx, '--platform', 'linux/arm64', '--no-push', '--oci-layout-path', 'qemu-layout']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /RUN for linux\/arm64 runs through the binfmt_misc handler/);
  });
});
