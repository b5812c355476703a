// Keyless signing and the transparency log against Sigstore's own mock Fulcio and Rekor served on
// loopback: the certificate chains to the mock CA and carries the token's identity (checked with
// node and with `openssl verify`), signatures verify with the certificate's key (`openssl dgst`),
// Rekor entries carry our hash, signature and verifier and their SETs verify (with our code and
// with openssl over a hand-written canonical payload), and failures are ERR_SIGNING without the token.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { identityTokenSource, KeylessSigner, RekorClient, verifySet, type SignerIdentity, type TlogEntry } from '../../src/supplychain/index.js';
import { fakeIdentityToken, startSigstoreMock, type SigstoreMock } from '../support/sigstore-mock.js';
import { missingTool, runTool } from '../support/tools.js';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const SUBJECT = 'https://kubernetes.io/namespaces/ci/serviceaccounts/builder';
const PAYLOAD = Buffer.from(
  '{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/app"},"image":{"docker-manifest-digest":"sha256:' +
    'ab'.repeat(32) +
    '"},"type":"cosign container image signature"},"optional":null}',
);
const noOpenssl = missingTool('openssl', 'openssl');

let mock: SigstoreMock;
let dir: string;
const token = fakeIdentityToken({ iss: ISSUER, sub: SUBJECT });

before(async () => {
  mock = await startSigstoreMock();
  dir = mkdtempSync(join(tmpdir(), 'caisson-keyless-'));
});
after(async () => {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function signer(options: { readonly token?: string; readonly fulcioURL?: string } = {}): KeylessSigner {
  return new KeylessSigner({ fulcioURL: options.fulcioURL ?? mock.fulcioURL, tokenSource: identityTokenSource({ env: { SIGSTORE_ID_TOKEN: options.token ?? token } }) });
}

function certificateOf(identity: SignerIdentity): Extract<SignerIdentity, { kind: 'certificate' }> {
  assert.equal(identity.kind, 'certificate');
  return identity as Extract<SignerIdentity, { kind: 'certificate' }>;
}

async function rejectsSigning(promise: Promise<unknown>, pattern: RegExp): Promise<CaissonError> {
  let caught: unknown;
  await promise.catch((error: unknown) => {
    caught = error;
  });
  assert.ok(caught instanceof CaissonError, `expected a CaissonError, got ${String(caught)}`);
  assert.equal(caught.code, 'ERR_SIGNING');
  assert.match(caught.message, pattern);
  assert.ok(!caught.message.includes(token) && !(caught.hint ?? '').includes(token), 'the token must not reach the message');
  return caught;
}

describe('identity token source', () => {
  test('re-reads the token file on every use, trims it, and prefers it over the environment', async () => {
    const path = file('token-a', `${token}\n`);
    const source = identityTokenSource({ tokenFile: path, env: { SIGSTORE_ID_TOKEN: 'x.y.z' } });
    assert.equal(await source.getToken(), token);
    const rotated = fakeIdentityToken({ iss: ISSUER, sub: `${SUBJECT}-2` });
    writeFileSync(path, rotated);
    assert.equal(await source.getToken(), rotated);
    assert.match(source.description, /token-a/);
  });

  test('falls back to SIGSTORE_ID_TOKEN', async () => {
    assert.equal(await identityTokenSource({ env: { SIGSTORE_ID_TOKEN: ` ${token} ` } }).getToken(), token);
  });

  test('missing, empty, unreadable or malformed tokens are ERR_SIGNING with a hint', async () => {
    const missing = await rejectsSigning(identityTokenSource({ env: {} }).getToken(), /no OIDC identity token.*SIGSTORE_ID_TOKEN/);
    assert.match(missing.hint ?? '', /--identity-token-file/);
    await rejectsSigning(identityTokenSource({ tokenFile: join(dir, 'absent'), env: {} }).getToken(), /cannot read the identity token file .*absent \(ENOENT\)/);
    await rejectsSigning(identityTokenSource({ tokenFile: file('empty', '\n'), env: {} }).getToken(), /is empty/);
    await rejectsSigning(identityTokenSource({ env: { SIGSTORE_ID_TOKEN: 'not-a-jwt' } }).getToken(), /not a JWT/);
  });

  test('a token with neither email nor sub fails before Fulcio, without quoting the token', async () => {
    const subjectless = fakeIdentityToken({ iss: ISSUER });
    const before = mock.requests.length;
    const error = await rejectsSigning(signer({ token: subjectless }).sign(PAYLOAD), /neither an email nor a sub claim/);
    assert.ok(!error.message.includes(subjectless));
    assert.equal(mock.requests.length, before);
  });
});

describe('keyless signer against the mock Fulcio', () => {
  test('one certificate per signer: it chains to the mock CA root and carries the token identity', async () => {
    const keyless = signer();
    const before = mock.requests.filter((r) => r.service === 'fulcio').length;
    const first = await keyless.sign(PAYLOAD);
    const second = await keyless.sign(Buffer.from('a DSSE PAE'));
    assert.equal(mock.requests.filter((r) => r.service === 'fulcio').length - before, 1, 'one Fulcio request per signer');
    assert.deepEqual(second.identity, first.identity);

    const identity = certificateOf(first.identity);
    const leaf = new X509Certificate(identity.certificatePem);
    const root = new X509Certificate(mock.caRootPem);
    assert.equal(new X509Certificate(identity.chainPem).fingerprint256, root.fingerprint256, 'the chain is the mock root');
    assert.ok(leaf.checkIssued(root) && leaf.verify(root.publicKey), 'the leaf is signed by the root');
    assert.equal(leaf.subjectAltName, `URI:${SUBJECT}`);
    assert.equal(leaf.keyUsage?.includes('1.3.6.1.5.5.7.3.3'), true, 'extended key usage codeSigning');
    assert.equal(leaf.publicKey.asymmetricKeyType, 'ec');
    assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');

    // Both signatures are by the certified key.
    assert.ok(verify('sha256', PAYLOAD, leaf.publicKey, first.signature));
    assert.ok(verify('sha256', Buffer.from('a DSSE PAE'), leaf.publicKey, second.signature));

    // What Fulcio was sent: the token, our key, and a proof of possession over the subject.
    const request = JSON.parse(mock.requests.filter((r) => r.service === 'fulcio').at(-1)?.body ?? '{}') as {
      credentials: { oidcIdentityToken: string };
      publicKeyRequest: { publicKey: { algorithm: string; content: string }; proofOfPossession: string };
    };
    assert.equal(request.credentials.oidcIdentityToken, token);
    assert.equal(request.publicKeyRequest.publicKey.algorithm, 'ECDSA');
    assert.equal(request.publicKeyRequest.publicKey.content, leaf.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    assert.ok(verify('sha256', Buffer.from(SUBJECT), leaf.publicKey, Buffer.from(request.publicKeyRequest.proofOfPossession, 'base64')));
  });

  test('a new signer gets a new key and certificate', async () => {
    const [a, b] = await Promise.all([signer().sign(PAYLOAD), signer().sign(PAYLOAD)]);
    assert.notEqual(certificateOf(a!.identity).certificatePem, certificateOf(b!.identity).certificatePem);
  });

  test('openssl: the certificate verifies against the CA root, names the issuer, and its key verifies the signature', { skip: noOpenssl }, async () => {
    const { signature, identity } = await signer().sign(PAYLOAD);
    const { certificatePem, chainPem } = certificateOf(identity);
    const leafPath = file('leaf.pem', certificatePem);
    const caPath = file('ca.pem', chainPem);
    assert.match(runTool('openssl', ['verify', '-CAfile', caPath, leafPath]), /leaf\.pem: OK/);
    assert.throws(() => runTool('openssl', ['verify', '-CAfile', file('other-ca.pem', mock.tsaChainPem), leafPath]), /unable to get local issuer|verification failed/);

    const text = runTool('openssl', ['x509', '-in', leafPath, '-noout', '-text']);
    assert.match(text, new RegExp(`URI:${SUBJECT.replaceAll('.', '\\.')}`));
    assert.match(text, /Code Signing/);
    // Fulcio's issuer extensions (1.3.6.1.4.1.57264.1.1 raw, .1.8 UTF8String) carry the token's iss.
    assert.match(text, /1\.3\.6\.1\.4\.1\.57264\.1\.1:\s*\n\s*https:\/\/kubernetes\.default\.svc\.cluster\.local/);
    // (.8 is printed with the UTF8String's tag and length bytes first: `.,` here.)
    assert.match(text, /1\.3\.6\.1\.4\.1\.57264\.1\.8:\s*\n\s*\.[^\n]https:\/\/kubernetes\.default\.svc\.cluster\.local\n/);

    const pubPath = file('leaf-pub.pem', runTool('openssl', ['x509', '-in', leafPath, '-noout', '-pubkey']));
    const verified = runTool('openssl', ['dgst', '-sha256', '-verify', pubPath, '-signature', file('payload.sig', signature), file('payload.json', PAYLOAD)]);
    assert.match(verified, /Verified OK/);
  });

  test('Fulcio unreachable (a closed port on 127.0.0.1) is ERR_SIGNING naming the URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const url = `http://127.0.0.1:${port}`;
    await rejectsSigning(signer({ fulcioURL: url }).sign(PAYLOAD), new RegExp(`cannot reach Fulcio at ${url}/api/v2/signingCert: ECONNREFUSED`));
  });

  test('a Fulcio refusal is ERR_SIGNING with the status; a token it echoes is redacted; the next sign asks again', async () => {
    const keyless = signer();
    mock.refuseNext({ service: 'fulcio', status: 401, body: JSON.stringify({ code: 16, message: `error processing the identity token ${token}` }) });
    const error = await rejectsSigning(keyless.sign(PAYLOAD), /Fulcio at http:\/\/127\.0\.0\.1:\d+\/api\/v2\/signingCert refused to issue a signing certificate: HTTP 401 .*\[REDACTED\]/);
    assert.match(error.hint ?? '', /audience "sigstore"/);
    const retried = await keyless.sign(PAYLOAD);
    assert.equal(retried.identity.kind, 'certificate');
  });
});

describe('Rekor against the mock log', () => {
  function canonicalSetPayload(entry: TlogEntry): string {
    // RFC 8785 by hand: keys sorted, no whitespace; base64 and hex need no escaping.
    return `{"body":"${entry.canonicalizedBody.toString('base64')}","integratedTime":${entry.integratedTime},"logID":"${entry.logId.toString('hex')}","logIndex":${entry.logIndex}}`;
  }

  function checkEntry(entry: TlogEntry, kind: TlogEntry['kind']): void {
    assert.equal(entry.kind, kind);
    assert.ok(entry.logId.equals(mock.rekorLogId), 'logId is sha256 of the log key');
    assert.ok(Math.abs(entry.integratedTime - Date.now() / 1000) < 120);
    assert.ok(verifySet(entry, mock.rekorPublicKeyPem), 'the SET verifies with the mock Rekor key');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    assert.equal(verifySet(entry, other), false, 'not with another key');
    assert.equal(verifySet({ ...entry, integratedTime: entry.integratedTime + 1 }, mock.rekorPublicKeyPem), false, 'not for another time');
    assert.equal(verifySet({ ...entry, logIndex: entry.logIndex + 1 }, mock.rekorPublicKeyPem), false, 'not for another index');
    const proof = entry.inclusionProof;
    assert.ok(proof !== undefined);
    assert.equal(proof.treeSize, 1);
    assert.ok(proof.rootHash.equals(createHash('sha256').update(Buffer.from([0])).update(entry.canonicalizedBody).digest()), 'RFC 6962 leaf hash of the body');
    assert.match(proof.checkpoint, /^127\.0\.0\.1:\d+ - \d+\n1\n/);
  }

  test('a hashedrekord entry for a keyless .sig carries the payload hash, signature and certificate; its SET verifies', async () => {
    const { signature, identity } = await signer().sign(PAYLOAD);
    const entry = await new RekorClient({ rekorURL: mock.rekorURL, publicKeyPem: mock.rekorPublicKeyPem }).upload({ kind: 'hashedrekord', payload: PAYLOAD, signature, identity });
    checkEntry(entry, 'hashedrekord');
    const body = JSON.parse(entry.canonicalizedBody.toString('utf8')) as {
      apiVersion: string;
      kind: string;
      spec: { data: { hash: { algorithm: string; value: string } }; signature: { content: string; publicKey: { content: string } } };
    };
    assert.equal(body.apiVersion, '0.0.1');
    assert.equal(body.kind, 'hashedrekord');
    assert.deepEqual(body.spec.data.hash, { algorithm: 'sha256', value: createHash('sha256').update(PAYLOAD).digest('hex') });
    assert.equal(body.spec.signature.content, signature.toString('base64'));
    assert.equal(Buffer.from(body.spec.signature.publicKey.content, 'base64').toString('utf8'), certificateOf(identity).certificatePem);
  });

  test('a hashedrekord entry for a key carries the public key PEM', async () => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicKeyPem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const signature = sign('sha256', PAYLOAD, keys.privateKey);
    const entry = await new RekorClient({ rekorURL: mock.rekorURL }).upload({ kind: 'hashedrekord', payload: PAYLOAD, signature, identity: { kind: 'key', publicKeyPem } });
    assert.ok(verifySet(entry, mock.rekorPublicKeyPem));
    const body = JSON.parse(entry.canonicalizedBody.toString('utf8')) as { spec: { signature: { publicKey: { content: string } } } };
    assert.equal(Buffer.from(body.spec.signature.publicKey.content, 'base64').toString('utf8'), publicKeyPem);
  });

  test('a dsse entry for an .att carries the exact envelope string and the certificate as verifier', async () => {
    const keyless = signer();
    const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { sha256: 'ab'.repeat(32) } }], predicateType: 'https://slsa.dev/provenance/v1', predicate: {} }));
    const type = 'application/vnd.in-toto+json';
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${statement.length} `), statement]);
    const { signature, identity } = await keyless.sign(pae);
    const envelope = JSON.stringify({ payloadType: type, payload: statement.toString('base64'), signatures: [{ sig: signature.toString('base64') }] });
    const entry = await new RekorClient({ rekorURL: mock.rekorURL, publicKeyPem: mock.rekorPublicKeyPem }).upload({ kind: 'dsse', envelope, identity });
    checkEntry(entry, 'dsse');
    // The mock logs the proposed entry canonicalised (a real Rekor replaces it with envelopeHash,
    // payloadHash and the signatures); the envelope string must be ours, byte for byte.
    const body = JSON.parse(entry.canonicalizedBody.toString('utf8')) as { apiVersion: string; kind: string; spec: { proposedContent: { envelope: string; verifiers: string[] } } };
    assert.equal(body.apiVersion, '0.0.1');
    assert.equal(body.kind, 'dsse');
    assert.equal(body.spec.proposedContent.envelope, envelope);
    assert.deepEqual(body.spec.proposedContent.verifiers.map((v) => Buffer.from(v, 'base64').toString('utf8')), [certificateOf(identity).certificatePem]);
  });

  test('openssl: the SET is the Rekor key signature over the canonical payload', { skip: noOpenssl }, async () => {
    const { signature, identity } = await signer().sign(PAYLOAD);
    const entry = await new RekorClient({ rekorURL: mock.rekorURL }).upload({ kind: 'hashedrekord', payload: PAYLOAD, signature, identity });
    const verified = runTool('openssl', ['dgst', '-sha256', '-verify', file('rekor.pub', mock.rekorPublicKeyPem), '-signature', file('set.der', entry.signedEntryTimestamp), file('set.json', canonicalSetPayload(entry))]);
    assert.match(verified, /Verified OK/);
  });

  test('a Rekor 4xx is ERR_SIGNING naming the URL and the status', async () => {
    mock.refuseNext({ service: 'rekor', status: 400, body: '{"code":400,"message":"error processing entry: verifying signature: invalid signature"}' });
    const client = new RekorClient({ rekorURL: `${mock.rekorURL}/` });
    const identity: SignerIdentity = { kind: 'key', publicKeyPem: mock.rekorPublicKeyPem };
    await rejectsSigning(
      client.upload({ kind: 'hashedrekord', payload: PAYLOAD, signature: Buffer.from('bad'), identity }),
      new RegExp(`Rekor at ${mock.rekorURL}/api/v1/log/entries refused to add a hashedrekord entry: HTTP 400 .*invalid signature`),
    );
  });

  test('an answer whose SET does not verify with the configured log key is ERR_SIGNING', async () => {
    const { signature, identity } = await signer().sign(PAYLOAD);
    const wrongKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    await rejectsSigning(new RekorClient({ rekorURL: mock.rekorURL, publicKeyPem: wrongKey }).upload({ kind: 'hashedrekord', payload: PAYLOAD, signature, identity }), /signed entry timestamp does not verify/);
  });
});
