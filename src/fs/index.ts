/**
 * fs: root filesystems and layers. A streaming tar reader and deterministic writer; layers
 * decompressed by magic bytes and extracted securely (nothing escapes the target, whiteouts
 * applied, xattrs set); directory trees as deterministic tar entries; layers sealed in one pass
 * with their diffID and compressed digest; the layer store under the cache directory; the
 * overlay and walk snapshotters that turn a step's changes into a layer.
 *
 * May import: ../errors.js, ../log.js, ../image/index.js.
 */
export { compareBytes } from './byte-order.js';
export { ConfinedParents, type ConfinedParentsOptions } from './confined-parents.js';
export { initialNamespaceRoot, initialUserNamespace, isOpaqueMarked, opaqueXattrName } from './overlay-xattrs.js';
export { holdsKept, isKept, removeKeeping } from './kept-paths.js';
export { mergeLayers, type MergeLayer } from './merge-layers.js';
export { acquireFileLock, tryFileLock, withFileLock, type HeldLock } from './file-lock.js';
export { decompressLayer } from './decompress.js';
export { extractLayer, type ExtractOptions, type ExtractResult, type SkippedEntry } from './extract.js';
export { checkCompressionLevel, writeLayer, type WriteLayerOptions, type WrittenLayer } from './layer-writer.js';
export { cleanEntryPath, OPAQUE_WHITEOUT, WHITEOUT_PREFIX, whiteoutOf, type WhiteoutKind } from './paths.js';
export { decodeHeader, encodeHeader, type EntryKind, type TarHeader } from './tar-format.js';
export { readTar, type TarEntry } from './tar-reader.js';
export { writeTar, type TarInput } from './tar-writer.js';
export { deviceNumbers, fileContent, headerFor, kindOf, treeEntries, type TreeOptions } from './tree.js';
export { LayerStore, type CollectOptions, type StoredLayer, type LayerStoreOptions, type StoreEntry, type StoreUsage, type UnpackOptions } from './layer-store.js';
export { chooseSnapshotter, commitUpper, distinctLowers, overlayMountData, type CommittedLayer, type CommitUpperOptions, type OverlayDirectories, type SnapshotterChoice } from './overlay-snapshot.js';
export { commitWalk, compareTreePaths, diffIndexes, scanTree, walkDiffEntries, type CommittedWalk, type CommitWalkOptions, type IndexDiff, type SnapshotMode, type StatIndex } from './walk-snapshot.js';
export { readTreeXattrs, readXattrs, writeXattrs, type XattrAssignment, type Xattrs } from './xattrs.js';
