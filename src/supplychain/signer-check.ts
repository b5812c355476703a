/**
 * Checking who signed, for both layouts: the signature verifies with the trusted key, or with a
 * certificate that chains to a trusted Fulcio CA (node's `checkIssued`/`verify` link by link up
 * to a self-signed root), names exactly the identity (an email or URI SAN) and the OIDC issuer
 * (Fulcio's extension), and was valid — with its CA — when the transparency log integrated it
 * (cosign pkg/cosign/verify.go `ValidateAndUnpackCert`, `CheckCertificatePolicy`).
 */
import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { fulcioIssuer, subjectAltNames } from './der.js';
import { isWithin, type CertificateAuthority, type SignerTrust } from './trust.js';
import { Rejected, type VerifiedSigner } from './verify-result.js';

/** The key a signature is checked with, and the certificate it came from (keyless). */
export interface CheckedSigner {
  readonly signer: VerifiedSigner;
  readonly publicKey: KeyObject;
  readonly certificate?: { readonly leaf: X509Certificate; readonly authority: CertificateAuthority };
}

/** ECDSA and RSA (PKCS#1 v1.5) over SHA-256, Ed25519 pure — what caisson and cosign sign with. */
export function verifiesWith(options: { readonly publicKey: KeyObject; readonly data: Buffer; readonly signature: Buffer }): boolean {
  const hash = options.publicKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  try {
    return verify(hash, options.data, options.publicKey, options.signature);
  } catch {
    return false;
  }
}

/** The trusted CA (and the index of the cert in its chain) that issued `leaf`, the chain verified up to its root. */
function issuingAuthority(leaf: X509Certificate, roots: readonly CertificateAuthority[]): CertificateAuthority | undefined {
  for (const authority of roots) {
    const chain = authority.certificates;
    const start = chain.findIndex((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
    if (start < 0) continue;
    let linked = true;
    for (let index = start; index < chain.length && linked; index += 1) {
      const ca = chain[index] as X509Certificate;
      const parent = chain[index + 1] ?? ca;
      linked = ca.ca && ca.checkIssued(parent) && ca.verify(parent.publicKey);
    }
    if (linked) return authority;
  }
  return undefined;
}

/**
 * Verifies `signature` over `data` against the trust: with the key, or (keyless) with the
 * certificate — PEM or DER — after checking its chain, identity and issuer. The time check is
 * {@link checkCertificateTime}'s, once the integrated time is known.
 */
export function checkSigner(options: { readonly trust: SignerTrust; readonly data: Buffer; readonly signature: Buffer; readonly certificate?: string | Buffer }): CheckedSigner {
  const { trust } = options;
  switch (trust.kind) {
    case 'key': {
      let publicKey: KeyObject;
      try {
        publicKey = createPublicKey(trust.publicKeyPem);
      } catch {
        throw new Rejected('malformed', 'the trusted public key is not a PEM public key');
      }
      if (!verifiesWith({ publicKey, data: options.data, signature: options.signature })) throw new Rejected('signature', 'the signature does not verify with the key');
      return { signer: { kind: 'key', publicKeyPem: trust.publicKeyPem }, publicKey };
    }
    case 'certificate': {
      if (options.certificate === undefined || options.certificate.length === 0) throw new Rejected('certificate-untrusted', 'there is no signing certificate (signed with a key?)');
      let leaf: X509Certificate;
      try {
        leaf = new X509Certificate(options.certificate);
      } catch {
        throw new Rejected('malformed', 'the signing certificate does not parse');
      }
      if (!verifiesWith({ publicKey: leaf.publicKey, data: options.data, signature: options.signature })) {
        throw new Rejected('signature', "the signature does not verify with the certificate's key");
      }
      const authority = issuingAuthority(leaf, trust.roots);
      if (authority === undefined) throw new Rejected('certificate-untrusted', `the certificate (issuer "${leaf.issuer.replace(/\n/g, ', ')}") is not issued by a trusted CA`);
      const names = subjectAltNames(leaf.raw);
      if (!names.includes(trust.identity)) {
        throw new Rejected('certificate-identity', `the certificate identity ${names.length === 0 ? '(none)' : names.join(', ')} is not ${trust.identity}`);
      }
      const issuer = fulcioIssuer(leaf.raw);
      if (issuer !== trust.issuer) throw new Rejected('certificate-issuer', `the certificate OIDC issuer ${issuer ?? '(none)'} is not ${trust.issuer}`);
      return { signer: { kind: 'certificate', identity: trust.identity, issuer, certificatePem: leaf.toString() }, publicKey: leaf.publicKey, certificate: { leaf, authority } };
    }
  }
}

/** Keyless: the leaf, its chain and the CA's validFor all cover `at` (the tlog's integrated time, else now). */
export function checkCertificateTime(options: { readonly checked: CheckedSigner; readonly at: Date; readonly source: 'tlog' | 'now' }): void {
  const certificate = options.checked.certificate;
  if (certificate === undefined) return;
  const at = options.at;
  const when = options.source === 'tlog' ? `when it was logged (${at.toISOString()})` : `now (${at.toISOString()}, no transparency-log time)`;
  const covers = (cert: X509Certificate): boolean => cert.validFromDate.getTime() <= at.getTime() && at.getTime() <= cert.validToDate.getTime();
  if (!covers(certificate.leaf)) throw new Rejected('certificate-expired', `the certificate was not valid ${when}: valid ${certificate.leaf.validFromDate.toISOString()} to ${certificate.leaf.validToDate.toISOString()}`);
  if (!certificate.authority.certificates.every(covers) || !isWithin(certificate.authority.validFor, at)) {
    throw new Rejected('certificate-expired', `the issuing CA was not valid ${when}`);
  }
}
