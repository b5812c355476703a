/**
 * Platforms (`linux/arm64`, `linux/arm/v7`, `arm64`) parsed and normalised as BuildKit
 * (containerd's platforms package) does: aarch64→arm64, x86_64→amd64, armhf→arm/v7, …; and the
 * choice of an image index's entry for a wanted platform.
 */

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

const KNOWN_OS = new Set([
  'aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd',
  'openbsd', 'plan9', 'solaris', 'wasip1', 'windows', 'zos',
]);
const KNOWN_ARCH = new Set([
  '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le',
  'mips64p32', 'mips64p32le', 'ppc', 'ppc64', 'ppc64le', 'riscv', 'riscv64', 's390', 's390x', 'sparc', 'sparc64', 'wasm',
]);

function normalizeOs(os: string): string {
  const lower = os.toLowerCase();
  return lower === 'macos' ? 'darwin' : lower;
}

/** containerd's normalizeArch: canonical architecture and variant. */
function normalizeArch(arch: string, variant: string): { architecture: string; variant: string } {
  const a = arch.toLowerCase();
  const v = variant.toLowerCase();
  switch (a) {
    case 'i386':
      return { architecture: '386', variant: '' };
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return { architecture: 'amd64', variant: v === 'v1' ? '' : v };
    case 'aarch64':
    case 'arm64':
      return { architecture: 'arm64', variant: v === '8' || v === 'v8' ? '' : v };
    case 'armhf':
      return { architecture: 'arm', variant: 'v7' };
    case 'armel':
      return { architecture: 'arm', variant: 'v6' };
    case 'arm':
      if (v === '' || v === '7') return { architecture: 'arm', variant: 'v7' };
      if (v === '5' || v === '6' || v === '8') return { architecture: 'arm', variant: `v${v}` };
      return { architecture: 'arm', variant: v };
    default:
      return { architecture: a, variant: v };
  }
}

function make(os: string, arch: string, variant: string): Platform {
  const normalized = normalizeArch(arch, variant);
  return {
    os: normalizeOs(os),
    architecture: normalized.architecture,
    ...(normalized.variant === '' ? {} : { variant: normalized.variant }),
  };
}

/** The platform of this machine (`linux/amd64` on x86-64 Linux). */
export function hostPlatform(): Platform {
  const arches: Readonly<Record<string, string>> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };
  return make(process.platform === 'win32' ? 'windows' : process.platform, arches[process.arch] ?? process.arch, '');
}

/** Parses `os[/arch[/variant]]`, a bare `os` or a bare `arch`; `{ error }` when invalid. */
export function parsePlatform(specifier: string): Platform | { readonly error: string } {
  if (specifier.includes('*')) return { error: `"${specifier}": wildcards not yet supported` };
  const parts = specifier.split('/');
  if (parts.some((part) => part === '') || parts.length > 3) {
    return { error: `"${specifier}": invalid platform, expected os/arch[/variant]` };
  }
  const [first = '', second, third = ''] = parts;
  if (second === undefined) {
    if (KNOWN_OS.has(normalizeOs(first))) {
      const host = hostPlatform();
      return make(first, host.architecture, host.variant ?? '');
    }
    const arch = normalizeArch(first, '');
    if (KNOWN_ARCH.has(arch.architecture)) return make(hostPlatform().os, first, '');
    return { error: `"${specifier}": unknown operating system or architecture` };
  }
  if (!KNOWN_OS.has(normalizeOs(first))) return { error: `"${specifier}": unknown operating system "${first}"` };
  if (!KNOWN_ARCH.has(normalizeArch(second, third).architecture)) {
    return { error: `"${specifier}": unknown architecture "${second}"` };
  }
  return make(first, second, third);
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, ...(platform.variant === undefined ? [] : [platform.variant])].join('/');
}


/** A platform as an image index or config states it (OCI image-spec descriptor `platform`). */
export interface DescribedPlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
  readonly 'os.features'?: readonly string[];
}

/** The canonical form of a platform an index states (aarch64 → arm64, arm → arm/v7, …). */
export function normalizePlatform(platform: DescribedPlatform): Platform {
  return make(platform.os, platform.architecture, platform.variant ?? '');
}

/**
 * How well `candidate` serves `wanted`: 0 for an exact match, a larger number for a compatible but
 * less preferred one (an arm/v6 image on an arm/v7 machine; any arm64 variant when none is wanted),
 * undefined when it cannot run there. containerd's `platforms.Only` ordering.
 */
export function platformDistance(options: { readonly wanted: Platform; readonly candidate: DescribedPlatform }): number | undefined {
  const wanted = options.wanted;
  const candidate = normalizePlatform(options.candidate);
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return undefined;
  const want = wanted.variant ?? '';
  const have = candidate.variant ?? '';
  if (want === have) return 0;
  if (candidate.architecture === 'arm') {
    // An arm/vN machine runs every arm/vM image with M ≤ N; nearer versions first.
    const wantVersion = Number(want.slice(1));
    const haveVersion = Number(have.slice(1));
    if (Number.isInteger(wantVersion) && Number.isInteger(haveVersion) && haveVersion < wantVersion) return wantVersion - haveVersion;
    return undefined;
  }
  // No variant wanted: any variant of the architecture will do, after an exact match.
  if (want === '') return 1;
  return undefined;
}

/** The entry of `entries` that best serves `wanted` (first of equals, as in the index), if any. */
export function selectPlatform<T extends { readonly platform?: DescribedPlatform }>(options: {
  readonly entries: readonly T[];
  readonly wanted: Platform;
}): T | undefined {
  let best: T | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const entry of options.entries) {
    if (entry.platform === undefined) continue;
    const distance = platformDistance({ wanted: options.wanted, candidate: entry.platform });
    if (distance !== undefined && distance < bestDistance) {
      best = entry;
      bestDistance = distance;
    }
  }
  return best;
}
