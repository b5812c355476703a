/**
 * Verifying cosign v3's layout (shared/specs/supply-chain.md §3 "Discovery", "Verification"):
 * the image's OCI 1.1 referrers (the registry's API, else the `sha256-<hex>` fallback tag),
 * keeping manifests with exactly one layer of a Sigstore bundle media type; each bundle's DSSE
 * envelope (or message signature) is checked like a legacy one, its tlog entries from
 * `tlogEntries` (the SET; inclusion proofs are not checked), its RFC 3161 timestamps over the
 * signature bytes, the key hint ignored.
 *
 * Done here rather than with @sigstore/verify: the legacy layout needs every one of these
 * checks by hand anyway (cosign's annotations, Rekor bundle bodies), so the bundle path reuses
 * them, stays offline without a TUF client, and adds no dependency.
 */
import { createHash } from 'node:crypto';
import { digestHex, type Descriptor, type Digest, type ImageSource } from '../image/index.js';
import { COSIGN_SIGN_PREDICATE_TYPE, sigstoreBundleVersion } from './bundle-referrer.js';
import { serializeEnvelope } from './dsse.js';
import { checkCertificateTime, checkSigner, type CheckedSigner } from './signer-check.js';
import { parseSigstoreBundle, type SigstoreBundle } from './sigstore-bundle.js';
import { checkTimestamps } from './timestamp-check.js';
import { checkTlogEntry, type TlogExpectation } from './tlog-check.js';
import type { TlogEntry } from './tlog.js';
import type { VerificationTrust } from './trust.js';
import { checkAnnotations, checkEnvelope, parsed } from './verify-envelope.js';
import { outcome, readBlob, type LayerOutcome, type SignedImage } from './verify-legacy.js';
import { Rejected, type VerifiedAttestation, type VerifiedSignature } from './verify-result.js';

/** An `ImageSource` that can also list the referrers of a digest (a registry repository). */
export interface ReferrerSource extends ImageSource {
  referrers(options: { readonly subject: Digest }): Promise<readonly Descriptor[]>;
}

/** Whether `source` can list referrers. */
export function hasReferrers(source: ImageSource): source is ReferrerSource {
  return typeof (source as Partial<ReferrerSource>).referrers === 'function';
}

/** A referrer's bundle layer, when the manifest is a Sigstore bundle referrer (exactly one bundle layer). */
async function bundleLayer(source: ImageSource, referrer: Descriptor): Promise<Descriptor | undefined> {
  const manifest = await source.readManifest(referrer);
  if (manifest.kind !== 'manifest' || manifest.manifest.layers.length !== 1) return undefined;
  const layer = manifest.manifest.layers[0] as Descriptor;
  return sigstoreBundleVersion(layer.mediaType) === undefined ? undefined : layer;
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The first tlog entry that verifies (or none, when the trust ignores the tlog and there is none). */
function checkEntries(options: { readonly bundle: SigstoreBundle; readonly trust: VerificationTrust; readonly expect: TlogExpectation; readonly checked: CheckedSigner }): TlogEntry | undefined {
  const entries = options.bundle.tlogEntries;
  let failure: Rejected | undefined;
  for (const entry of entries.length === 0 ? [undefined] : entries) {
    try {
      const verified = checkTlogEntry({ ...options, entry });
      checkCertificateTime({ checked: options.checked, ...(verified === undefined ? { at: new Date(), source: 'now' } : { at: new Date(verified.integratedTime * 1000), source: 'tlog' }) });
      return verified;
    } catch (error) {
      if (!(error instanceof Rejected)) throw error;
      failure = error;
    }
  }
  throw failure as Rejected;
}

interface Candidate {
  readonly where: string;
  readonly layer: Descriptor;
}

/** The bundle referrers of the image (other referrers are not signatures and are skipped). */
async function candidates(source: ImageSource, digest: Digest): Promise<readonly Candidate[]> {
  if (!hasReferrers(source)) return [];
  const referrers = await source.referrers({ subject: digest });
  const found: Candidate[] = [];
  for (const referrer of referrers) {
    const layer = await bundleLayer(source, referrer);
    if (layer !== undefined) found.push({ where: `referrer ${referrer.digest}`, layer });
  }
  return found;
}

async function readBundle(source: ImageSource, candidate: Candidate): Promise<SigstoreBundle> {
  const bytes = await readBlob(source, candidate.layer);
  return parsed(() => parseSigstoreBundle({ bytes, what: candidate.where }));
}

/** Every bundle referrer as an image signature: an in-toto statement of cosign's sign/v1 type, or a message signature over the manifest. */
export async function bundleSignatures(options: {
  readonly source: ImageSource;
  readonly image: SignedImage;
  readonly trust: VerificationTrust;
  readonly annotations: Readonly<Record<string, string>>;
}): Promise<readonly LayerOutcome<VerifiedSignature>[]> {
  const { source, image, trust } = options;
  const found = await candidates(source, image.digest);
  return Promise.all(found.map((candidate) => outcome(candidate.where, async (): Promise<VerifiedSignature> => {
    const bundle = await readBundle(source, candidate);
    const certificate = bundle.certificate === undefined ? {} : { certificate: bundle.certificate };
    const content = bundle.content;
    switch (content.kind) {
      case 'dsse': {
        const result = checkEnvelope({ envelope: content.envelope, trust: trust.signer, digest: image.digest, predicateType: COSIGN_SIGN_PREDICATE_TYPE, what: candidate.where, ...certificate });
        const hex = digestHex(image.digest);
        checkAnnotations({ wanted: options.annotations, claims: result.statement.subject.find((subject) => subject.digest['sha256'] === hex)?.annotations });
        const tlogEntry = checkEntries({ bundle, trust, expect: { kind: 'dsse', payloadSha256: sha256Hex(content.envelope.payload), signature: result.signature }, checked: result.checked });
        const timestamp = checkTimestamps({ responses: bundle.timestamps, data: result.signature, authorities: trust.timestampAuthorities });
        return {
          layout: 'bundle',
          where: candidate.where,
          payload: content.envelope.payload,
          claims: { kind: 'statement', statement: result.statement },
          signer: result.checked.signer,
          ...(tlogEntry === undefined ? {} : { tlogEntry }),
          ...(timestamp === undefined ? {} : { timestamp }),
        };
      }
      case 'message-signature': {
        if (content.digest.toString('hex') !== digestHex(image.digest)) throw new Rejected('payload-digest', `the message signature signs sha256:${content.digest.toString('hex')}, another image`);
        if (Object.keys(options.annotations).length > 0) throw new Rejected('claims', 'a message signature carries no annotations');
        const manifest = await source.readManifest(await source.resolve(image.digest));
        const checked = checkSigner({ trust: trust.signer, data: manifest.bytes, signature: content.signature, ...certificate });
        const tlogEntry = checkEntries({ bundle, trust, expect: { kind: 'hashedrekord', contentSha256: digestHex(image.digest), signature: content.signature }, checked });
        const timestamp = checkTimestamps({ responses: bundle.timestamps, data: content.signature, authorities: trust.timestampAuthorities });
        return {
          layout: 'bundle',
          where: candidate.where,
          payload: manifest.bytes,
          claims: { kind: 'manifest', digest: image.digest },
          signer: checked.signer,
          ...(tlogEntry === undefined ? {} : { tlogEntry }),
          ...(timestamp === undefined ? {} : { timestamp }),
        };
      }
    }
  })));
}

/** Every bundle referrer as an attestation of `predicateType`. */
export async function bundleAttestations(options: {
  readonly source: ImageSource;
  readonly image: SignedImage;
  readonly trust: VerificationTrust;
  readonly predicateType: string;
}): Promise<readonly LayerOutcome<VerifiedAttestation>[]> {
  const { source, image, trust } = options;
  const found = await candidates(source, image.digest);
  return Promise.all(found.map((candidate) => outcome(candidate.where, async (): Promise<VerifiedAttestation> => {
    const bundle = await readBundle(source, candidate);
    const content = bundle.content;
    if (content.kind !== 'dsse') throw new Rejected('payload-type', 'the bundle holds a message signature, not an attestation');
    const result = checkEnvelope({
      envelope: content.envelope,
      trust: trust.signer,
      digest: image.digest,
      predicateType: options.predicateType,
      what: candidate.where,
      ...(bundle.certificate === undefined ? {} : { certificate: bundle.certificate }),
    });
    const tlogEntry = checkEntries({ bundle, trust, expect: { kind: 'dsse', payloadSha256: sha256Hex(content.envelope.payload), signature: result.signature }, checked: result.checked });
    const timestamp = checkTimestamps({ responses: bundle.timestamps, data: result.signature, authorities: trust.timestampAuthorities });
    return {
      layout: 'bundle',
      where: candidate.where,
      envelope: serializeEnvelope(content.envelope),
      statement: result.statement,
      signer: result.checked.signer,
      ...(tlogEntry === undefined ? {} : { tlogEntry }),
      ...(timestamp === undefined ? {} : { timestamp }),
    };
  })));
}
