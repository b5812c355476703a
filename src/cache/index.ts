/**
 * cache: the build cache. Keys (a sha256 over a step's named inputs), entries (a step's layer and
 * history line), the `CacheStore` interface with a local store (JSON entries next to the layer
 * store's blobs) and a registry cache repository (one small image per key, kaniko's layout), and
 * remembered digests of context files.
 *
 * May import: ../errors.js, ../log.js, ../image/index.js.
 */
export { cacheKey, compareInputs, redactInputs, type CacheInputs, type CacheInputValue, type InputDifference } from './key.js';
export { isExpired, parseEntry, type CachedBlob, type CachedLayer, type CacheEntry, type CacheHit, type CacheStore, type LookupOptions, type SaveOptions } from './entry.js';
export { LocalCache, type CacheBlobs, type LocalCacheOptions, type NearestEntry } from './local-store.js';
export { CACHE_ANNOTATIONS, RegistryCache, type RegistryCacheOptions } from './registry-store.js';
export { collectFileDigests, FileDigests, fileDigestsUsage, type FileChange, type WalkScope } from './file-digests.js';
export { BuildJournal, buildRecordName, buildRecordsUsage, changedFile, collectBuildRecords, readBuildRecord, stampPaths, writeBuildRecord, type BuildRecord, type RecordedFile, type RecordedImage } from './build-record.js';
