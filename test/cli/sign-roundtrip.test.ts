// Every key format caisson signs with, round-tripped through the registry: `caisson sign` with a
// PKCS#8 key made by openssl (ECDSA P-256 and P-384, Ed25519, RSA 2048), cosign's encrypted key
// from `caisson generate-key-pair`, and Tekton Chains' signing-secrets layouts (x509.pem; cosign.key
// + cosign.password), then `caisson verify` with the public key openssl derives (another key's is
// refused). ECDSA and RSA signatures are also checked by openssl over the payload blob.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OciLayout } from '../../src/image/index.js';
import { runCaisson, type CliResult } from '../support/cli.js';
import { makeImage, makeLayer, writeImage } from '../support/images.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { missingTool, runTool } from '../support/tools.js';
import { opensslVerifies } from '../supplychain/support.js';

const missing = missingTool('docker-registry', 'docker-registry') ?? missingTool('skopeo', 'skopeo') ?? missingTool('openssl', 'openssl');

interface KeyCase {
  readonly name: string;
  /** openssl genpkey arguments, or the way caisson gets the key. */
  readonly make: (dir: string) => Promise<{ readonly flags: readonly string[]; readonly publicKeyPem: string; readonly env?: Record<string, string> }>;
  /** openssl dgst -sha256 can check it (not pure Ed25519). */
  readonly sha256: boolean;
}

function opensslKey(dir: string, name: string, algorithm: readonly string[]): { readonly path: string; readonly publicKeyPem: string } {
  const path = join(dir, `${name}.pem`);
  runTool('openssl', ['genpkey', ...algorithm, '-out', path]);
  return { path, publicKeyPem: runTool('openssl', ['pkey', '-in', path, '-pubout']) };
}

const CASES: readonly KeyCase[] = [
  ...([
    ['ecdsa-p256', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], true],
    ['ecdsa-p384', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], true],
    ['ed25519', ['-algorithm', 'ed25519'], false],
    ['rsa-2048', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], true],
  ] as const).map(([name, algorithm, sha256]): KeyCase => ({
    name: `PKCS#8 ${name}`,
    sha256,
    make: async (dir) => {
      const key = opensslKey(dir, name, algorithm);
      return { flags: ['--key', key.path], publicKeyPem: key.publicKeyPem };
    },
  })),
  {
    name: 'cosign encrypted key (generate-key-pair)',
    sha256: true,
    make: async (dir) => {
      mkdirSync(join(dir, 'gen'));
      const made = await runCaisson(['generate-key-pair', '--output-key-prefix', 'gen/cosign'], { cwd: dir, env: { COSIGN_PASSWORD: 'roundtrip' } });
      assert.equal(made.code, 0, made.stderr);
      return { flags: ['--key', 'gen/cosign.key'], publicKeyPem: readFileSync(join(dir, 'gen', 'cosign.pub'), 'utf8'), env: { COSIGN_PASSWORD: 'roundtrip' } };
    },
  },
  {
    name: "Chains signing-secrets with x509.pem",
    sha256: true,
    make: async (dir) => {
      const secrets = join(dir, 'chains-x509');
      mkdirSync(secrets);
      const key = opensslKey(dir, 'x509-source', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
      writeFileSync(join(secrets, 'x509.pem'), readFileSync(key.path));
      return { flags: ['--signing-secrets', secrets], publicKeyPem: key.publicKeyPem };
    },
  },
  {
    name: 'Chains signing-secrets with cosign.key + cosign.password',
    sha256: true,
    make: async (dir) => {
      const secrets = join(dir, 'chains-cosign');
      mkdirSync(secrets);
      const made = await runCaisson(['generate-key-pair', '--output-key-prefix', 'chains-cosign/cosign'], { cwd: dir, env: { COSIGN_PASSWORD: 'from the secret' } });
      assert.equal(made.code, 0, made.stderr);
      writeFileSync(join(secrets, 'cosign.password'), 'from the secret');
      return { flags: ['--signing-secrets', secrets], publicKeyPem: readFileSync(join(secrets, 'cosign.pub'), 'utf8') };
    },
  },
];

describe('sign and verify with every key format', { skip: missing }, () => {
  let dir = '';
  let registry: RunningRegistry;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'caisson-sign-roundtrip-'));
    registry = await startRegistry({ setup: 'plain' });
  });

  after(async () => {
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  CASES.forEach((keyCase, index) => {
    test(keyCase.name, async () => {
      const layout = join(dir, `layout-${index}`);
      const oci = await OciLayout.openOrCreate(layout);
      await writeImage(oci, makeImage({ layers: [makeLayer({ 'etc/key-case': `${keyCase.name}\n` })] }), { tag: 'v1' });
      await oci.commit();
      const image = `${registry.host}/roundtrip/case${index}:v1`;
      const pushed = await runCaisson(['copy', `oci:${layout}:v1`, image], { cwd: dir });
      assert.equal(pushed.code, 0, pushed.stderr);
      const digest = pushed.stdout.trim();

      const key = await keyCase.make(dir);
      writeFileSync(join(dir, `case${index}.pub`), key.publicKeyPem);
      const signed: CliResult = await runCaisson(['sign', ...key.flags, '--tlog-upload=false', image], { cwd: dir, ...(key.env === undefined ? {} : { env: key.env }) });
      assert.equal(signed.code, 0, signed.stderr);

      const verified = await runCaisson(['verify', '--key', `case${index}.pub`, '--insecure-ignore-tlog', image], { cwd: dir });
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, new RegExp(`"docker-manifest-digest":"${digest}"`));

      const other = opensslKey(dir, `other-${index}`, ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
      writeFileSync(join(dir, `other-${index}.pub`), other.publicKeyPem);
      const refused = await runCaisson(['verify', '--key', `other-${index}.pub`, '--insecure-ignore-tlog', image], { cwd: dir });
      assert.equal(refused.code, 10, refused.stderr);

      if (keyCase.sha256) {
        const manifest = JSON.parse(runTool('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${registry.host}/roundtrip/case${index}:sha256-${digest.slice('sha256:'.length)}.sig`])) as { layers: { digest: string; annotations: Record<string, string> }[] };
        const layer = manifest.layers[0];
        assert.ok(layer !== undefined);
        const payload = Buffer.from(await (await fetch(`${registry.url}/v2/roundtrip/case${index}/blobs/${layer.digest}`)).arrayBuffer());
        assert.ok(opensslVerifies({ publicKeyPem: key.publicKeyPem, signature: Buffer.from(layer.annotations['dev.cosignproject.cosign/signature'] ?? '', 'base64'), data: payload }), 'openssl verifies the signature over the payload');
      }
    });
  });
});
