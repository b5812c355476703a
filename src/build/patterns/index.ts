/**
 * build/patterns: path patterns of the build context, pure (no I/O).
 *
 * Exports Go's `filepath.Match` (`goMatch`, `checkGoPattern`, `hasGlob`) for COPY/ADD wildcards, and
 * `.dockerignore` handling as BuildKit does it: `parseIgnoreFile`, `toIgnorePatterns` (COPY
 * --exclude, flags), `IgnoreMatcher` (`matches`, `mayIncludeChildren`), `ignoreFileFor` (which
 * ignore files to look for) and `cleanPath` (Go's `filepath.Clean`).
 *
 * May import: ../../errors.js
 */
export { checkGoPattern, cleanPath, goMatch, hasGlob, type GoMatchOptions } from './go-match.js';
export {
  ignoreFileFor,
  IgnoreMatcher,
  parseIgnoreFile,
  toIgnorePatterns,
  type IgnoreFileForOptions,
  type IgnoreMatcherOptions,
  type IgnorePattern,
  type ParseIgnoreFileOptions,
  type ToIgnorePatternsOptions,
} from './ignore.js';
