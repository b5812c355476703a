/**
 * A transparency-log (Rekor v1) entry as caisson keeps it: enough to write cosign's bundle
 * annotation (`dev.sigstore.cosign/bundle`) and a Sigstore bundle v0.3 `tlogEntries[]` item.
 * See shared/specs/supply-chain.md §1 and §3.
 */
export interface TlogEntry {
  readonly kind: 'hashedrekord' | 'dsse';
  readonly logIndex: number;
  readonly integratedTime: number;
  readonly logId: Buffer /* sha256 of the log's DER public key */;
  readonly canonicalizedBody: Buffer;
  readonly signedEntryTimestamp: Buffer;
  readonly inclusionProof?: {
    readonly logIndex: number;
    readonly rootHash: Buffer;
    readonly treeSize: number;
    readonly hashes: readonly Buffer[];
    readonly checkpoint: string;
  };
}
