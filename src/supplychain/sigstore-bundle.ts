/**
 * Sigstore bundle v0.3 JSON (protobuf-specs `sigstore_bundle.proto`, `sigstore_rekor.proto`;
 * shared/specs/supply-chain.md §3 "Sigstore bundle v0.3 JSON") for one DSSE envelope, as cosign v3
 * stores it in a referrer: protojson (camelCase, standard base64 bytes, int64 as strings, empty
 * fields omitted). Pure.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { SIGSTORE_BUNDLE_V03_MEDIA_TYPE } from './bundle-referrer.js';
import type { DsseEnvelope } from './dsse.js';
import type { SignerIdentity } from './signer.js';
import type { TlogEntry } from './tlog.js';

/**
 * The `publicKey.hint` of a keyed bundle: standard base64 of sha256(SPKI DER), as sigstore-go
 * writes it. Verifiers given `--key` ignore it.
 */
export function publicKeyHint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

function verificationContent(identity: SignerIdentity): Record<string, unknown> {
  switch (identity.kind) {
    case 'key':
      return { publicKey: { hint: publicKeyHint(identity.publicKeyPem) } };
    case 'certificate':
      // v0.3 carries the leaf alone; the chain is the verifier's trusted root.
      return { certificate: { rawBytes: new X509Certificate(identity.certificatePem).raw.toString('base64') } };
  }
}

/** A `TransparencyLogEntry` in protojson. */
export function tlogEntryToProtoJson(entry: TlogEntry): Record<string, unknown> {
  const proof = entry.inclusionProof;
  return {
    logIndex: String(entry.logIndex),
    logId: { keyId: entry.logId.toString('base64') },
    kindVersion: { kind: entry.kind, version: '0.0.1' },
    integratedTime: String(entry.integratedTime),
    inclusionPromise: { signedEntryTimestamp: entry.signedEntryTimestamp.toString('base64') },
    ...(proof === undefined
      ? {}
      : {
          inclusionProof: {
            logIndex: String(proof.logIndex),
            rootHash: proof.rootHash.toString('base64'),
            treeSize: String(proof.treeSize),
            hashes: proof.hashes.map((hash) => hash.toString('base64')),
            checkpoint: { envelope: proof.checkpoint },
          },
        }),
    canonicalizedBody: entry.canonicalizedBody.toString('base64'),
  };
}

/**
 * The bundle's bytes: `mediaType` v0.3, `verificationMaterial` (the key hint or the leaf
 * certificate, and the tlog entry when there is one), `dsseEnvelope` with its one signature
 * (`keyid` only when the envelope has one; cosign v3 leaves it out).
 */
export function sigstoreBundleJson(options: { readonly envelope: DsseEnvelope; readonly identity: SignerIdentity; readonly tlogEntry?: TlogEntry }): Buffer {
  const { envelope, tlogEntry } = options;
  return Buffer.from(
    JSON.stringify({
      mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial: {
        ...verificationContent(options.identity),
        ...(tlogEntry === undefined ? {} : { tlogEntries: [tlogEntryToProtoJson(tlogEntry)] }),
      },
      dsseEnvelope: {
        payload: envelope.payload.toString('base64'),
        payloadType: envelope.payloadType,
        signatures: envelope.signatures.map((signature) => ({
          sig: signature.sig.toString('base64'),
          ...(signature.keyid === undefined || signature.keyid === '' ? {} : { keyid: signature.keyid }),
        })),
      },
    }),
  );
}
