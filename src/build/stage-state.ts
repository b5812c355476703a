/**
 * What a stage is while it builds: its layers (bottom first), the image config being written, its
 * history, its variables, and the SHELL. Steps change it in place; `FROM <stage>` starts from a
 * copy of the parent's state.
 */
import type { StageScope } from '../dockerfile/index.js';
import type { ContainerConfig, Descriptor, Digest, HistoryEntry, ImageSource, Platform } from '../image/index.js';

/** Where a layer's compressed blob can be read. */
export type LayerBlob =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'source'; readonly source: ImageSource };

export interface StageLayer {
  readonly descriptor: Descriptor;
  readonly diffId: Digest;
  readonly blob: LayerBlob;
}

/** ContainerConfig with writable fields: steps set them one at a time. */
export type MutableConfig = { -readonly [K in keyof ContainerConfig]?: ContainerConfig[K] };

export interface StageState {
  readonly platform: Platform;
  readonly layers: StageLayer[];
  config: MutableConfig;
  readonly history: HistoryEntry[];
  scope: StageScope;
  /** SHELL: what shell-form RUN, CMD and ENTRYPOINT run through. */
  shell: readonly string[];
  /** What the config's `author` says (MAINTAINER). */
  author?: string;
  /** CMD was set in this stage (ENTRYPOINT clears only an inherited CMD). */
  cmdSet: boolean;
  /**
   * The build cache's chain: the key of the last filesystem step, or what the stage started from
   * (`scratch`, `image sha256:…`). The next filesystem step's key includes it.
   */
  cacheKey: string;
  /** How many layers and history entries came from the base image (through `FROM <stage>` too). */
  readonly base: { readonly layers: number; readonly history: number };
}

export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

/** BuildKit's default PATH, given to stages whose base sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A deep enough copy for a child stage: arrays and the config are new, layers shared. */
export function forkState(options: { readonly parent: StageState; readonly scope: StageScope }): StageState {
  const { parent } = options;
  return {
    platform: parent.platform,
    layers: [...parent.layers],
    config: structuredClone(parent.config),
    history: [...parent.history],
    scope: options.scope,
    shell: parent.shell,
    cmdSet: false,
    cacheKey: parent.cacheKey,
    base: parent.base,
    ...(parent.author === undefined ? {} : { author: parent.author }),
  };
}
