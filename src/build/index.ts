/**
 * build: the engine behind `caisson build`. `buildImage` plans the Dockerfile, builds the stages
 * the targets need (one step file per instruction under steps/), and writes the image to
 * registries, OCI layouts and docker-archive files. The build context is a directory with
 * .dockerignore applied (patterns/); COPY and ADD never read outside it. `warmImage` pulls a base
 * image into the layer store ahead of builds (`caisson warm`).
 *
 * May import: ../errors.js, ../log.js, ../dockerfile/index.js, ../image/index.js,
 * ../registry/index.js, ../fs/index.js, ../exec/index.js, ../cache/index.js.
 */
export { buildImage } from './build.js';
export { DEFAULT_CACHE_TTL_MS, type BuildOptions, type BuildOutput, type BuildResult, type BuiltOutput, type BuiltPlatform, type CacheSettings, type CachedStepKind, type NamedContext } from './options.js';
export { checkGoPattern, goMatch, hasGlob, IgnoreMatcher, parseIgnoreFile } from './patterns/index.js';
export { prepareContext, type PreparedContext, type PrepareContextOptions } from './context-source.js';
export { parseGitOptions, type GitContextOptions } from './context-git.js';
export { CONTEXT_ARTIFACT_TYPE, openContextArtifact, pushContextArtifact, type PushContextOptions } from './context-artifact.js';
export { packContext, type PackContextOptions } from './context-pack.js';
export { warmImage, type WarmImageOptions, type WarmedImage } from './warm.js';
export { basePlatformMismatch } from './base-image.js';
export { downloadText, redactUrl } from './add-url.js';
