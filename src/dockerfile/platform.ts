/**
 * The built-in platform ARGs (TARGETPLATFORM, TARGETOS, …, BUILDPLATFORM, …). Platform parsing
 * itself lives in the image model (../image), shared with image indexes.
 */
import { formatPlatform, type Platform } from '../image/index.js';

export { formatPlatform, hostPlatform, parsePlatform, type Platform } from '../image/index.js';

export interface PlatformArgsOptions {
  readonly target: Platform;
  readonly build: Platform;
  /** The stage being built (TARGETSTAGE). */
  readonly targetStage: string;
}

/** BuildKit's automatic platform ARGs, in its order. */
export function platformArgs(options: PlatformArgsOptions): [string, string][] {
  const { target, build } = options;
  return [
    ['BUILDPLATFORM', formatPlatform(build)],
    ['BUILDOS', build.os],
    ['BUILDOSVERSION', ''],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(target)],
    ['TARGETOS', target.os],
    ['TARGETOSVERSION', ''],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
    ['TARGETSTAGE', options.targetStage],
  ];
}
