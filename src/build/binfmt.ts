/**
 * Whether this machine can run a platform's programs, for RUN: natively (its own architecture,
 * and 386 on amd64), or through a binfmt_misc handler the kernel has registered for that
 * architecture's ELF executables (Debian's `qemu-user-static` with `binfmt-support`, or
 * `tonistiigi/binfmt`). The handler must be enabled and carry the F (fix-binary) flag: the kernel
 * then opened the interpreter when it was registered, so it runs inside the sandbox's root, which
 * does not have it. Only reads /proc/sys/fs/binfmt_misc; never registers anything.
 *
 * A handler matches as the kernel matches it: the bytes at `offset` of an ELF header of that
 * architecture, masked, equal the magic.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CaissonError } from '../errors.js';
import { formatPlatform, hostPlatform, type Platform } from '../image/index.js';

export const BINFMT_MISC_DIR = '/proc/sys/fs/binfmt_misc';

/** An ELF machine per architecture: e_machine, 64-bit class, big-endian data. */
const ELF_MACHINES: Readonly<Record<string, { readonly machine: number; readonly wide: boolean; readonly bigEndian: boolean }>> = {
  amd64: { machine: 62, wide: true, bigEndian: false },
  '386': { machine: 3, wide: false, bigEndian: false },
  arm64: { machine: 183, wide: true, bigEndian: false },
  arm: { machine: 40, wide: false, bigEndian: false },
  ppc64le: { machine: 21, wide: true, bigEndian: false },
  ppc64: { machine: 21, wide: true, bigEndian: true },
  s390x: { machine: 22, wide: true, bigEndian: true },
  riscv64: { machine: 243, wide: true, bigEndian: false },
  mips64le: { machine: 8, wide: true, bigEndian: false },
  mips64: { machine: 8, wide: true, bigEndian: true },
  mipsle: { machine: 8, wide: false, bigEndian: false },
  mips: { machine: 8, wide: false, bigEndian: true },
  loong64: { machine: 258, wide: true, bigEndian: false },
};

/** The first 20 bytes of an ELF executable of `architecture` (ident, e_type, e_machine), or undefined when unknown. */
export function elfHeader(architecture: string): Buffer | undefined {
  const elf = ELF_MACHINES[architecture];
  if (elf === undefined) return undefined;
  const header = Buffer.alloc(20);
  header.set([0x7f, 0x45, 0x4c, 0x46, elf.wide ? 2 : 1, elf.bigEndian ? 2 : 1, 1], 0);
  if (elf.bigEndian) {
    header.writeUInt16BE(2, 16);
    header.writeUInt16BE(elf.machine, 18);
  } else {
    header.writeUInt16LE(2, 16);
    header.writeUInt16LE(elf.machine, 18);
  }
  return header;
}

export interface BinfmtHandler {
  readonly name: string;
  readonly enabled: boolean;
  readonly interpreter: string;
  readonly flags: string;
  readonly offset: number;
  readonly magic: Buffer;
  readonly mask: Buffer | undefined;
}

/** Parses one /proc/sys/fs/binfmt_misc/<name> file; undefined for extension handlers and unreadable text. */
export function parseBinfmtHandler(options: { readonly name: string; readonly text: string }): BinfmtHandler | undefined {
  const fields = new Map<string, string>();
  let enabled = false;
  for (const line of options.text.split('\n')) {
    if (line === 'enabled') enabled = true;
    const space = line.indexOf(' ');
    if (space > 0) fields.set(line.slice(0, space).replace(/:$/, ''), line.slice(space + 1).trim());
  }
  const magic = fields.get('magic');
  if (magic === undefined || !/^([0-9a-f]{2})+$/.test(magic)) return undefined;
  const mask = fields.get('mask');
  return {
    name: options.name,
    enabled,
    interpreter: fields.get('interpreter') ?? '',
    flags: fields.get('flags') ?? '',
    offset: Number(fields.get('offset') ?? '0'),
    magic: Buffer.from(magic, 'hex'),
    mask: mask === undefined || !/^([0-9a-f]{2})+$/.test(mask) ? undefined : Buffer.from(mask, 'hex'),
  };
}

/** Whether the kernel would hand `header` to `handler`. */
export function handlerMatches(options: { readonly handler: BinfmtHandler; readonly header: Buffer }): boolean {
  const { handler, header } = options;
  if (handler.offset + handler.magic.length > header.length) return false;
  return handler.magic.every((byte, i) => {
    const mask = handler.mask?.[i] ?? 0xff;
    return ((header[handler.offset + i] as number) & mask) === (byte & mask);
  });
}

/** The registered handlers (none when binfmt_misc is not mounted or globally disabled). */
export async function readBinfmtHandlers(dir: string): Promise<BinfmtHandler[]> {
  const status = await readFile(join(dir, 'status'), 'utf8').catch(() => undefined);
  if (status?.trim() !== 'enabled') return [];
  const names = (await readdir(dir)).filter((name) => name !== 'status' && name !== 'register');
  const handlers = await Promise.all(names.map(async (name) => {
    const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : parseBinfmtHandler({ name, text });
  }));
  return handlers.filter((handler) => handler !== undefined);
}

/** How this machine runs `platform`'s programs: natively, through a handler, or why it cannot. */
export type Runner =
  | { readonly kind: 'native' }
  | { readonly kind: 'emulated'; readonly handler: BinfmtHandler }
  | { readonly kind: 'none'; readonly reason: string };

export async function platformRunner(options: { readonly platform: Platform; readonly binfmtDir?: string; readonly host?: Platform }): Promise<Runner> {
  const { platform } = options;
  const host = options.host ?? hostPlatform();
  if (platform.os !== host.os) return { kind: 'none', reason: `it is a ${platform.os} platform and this machine runs ${host.os}` };
  if (platform.architecture === host.architecture || (host.architecture === 'amd64' && platform.architecture === '386')) return { kind: 'native' };
  const header = elfHeader(platform.architecture);
  if (header === undefined) return { kind: 'none', reason: `caisson does not know the ELF machine of ${platform.architecture}` };
  const handlers = (await readBinfmtHandlers(options.binfmtDir ?? BINFMT_MISC_DIR)).filter((handler) => handlerMatches({ handler, header }));
  const usable = handlers.find((handler) => handler.enabled && handler.flags.includes('F'));
  if (usable !== undefined) return { kind: 'emulated', handler: usable };
  const found = handlers[0];
  if (found === undefined) return { kind: 'none', reason: `no binfmt_misc handler for ${platform.architecture} executables is registered` };
  if (!found.enabled) return { kind: 'none', reason: `the binfmt_misc handler ${found.name} is disabled` };
  return { kind: 'none', reason: `the binfmt_misc handler ${found.name} lacks the F (fix-binary) flag, so its interpreter ${found.interpreter} would have to be inside the build's root` };
}

/** Throws ERR_BUILD_STEP naming the platform when RUN cannot run its programs here. */
export function checkRunner(options: { readonly platform: Platform; readonly runner: Runner }): void {
  const { runner } = options;
  if (runner.kind !== 'none') return;
  const wanted = formatPlatform(options.platform);
  throw new CaissonError({
    code: 'ERR_BUILD_STEP',
    message: `RUN for ${wanted} cannot run on this ${formatPlatform(hostPlatform())} machine: ${runner.reason}`,
    hint: `Register qemu-user emulation on the machine (Debian: apt-get install qemu-user-static binfmt-support, whose handlers have the F flag), build ${wanted} on a ${wanted} machine and merge the images with caisson manifest create, or leave RUN out of the ${wanted} stages (COPY-only stages need no emulation).`,
  });
}
