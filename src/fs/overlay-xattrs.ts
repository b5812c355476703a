/**
 * Where overlayfs keeps its markers (opaque directories): `trusted.overlay.*` when caisson is root
 * of the machine, `user.overlay.*` in a user namespace, where the kernel refuses `trusted.*` and
 * overlay is mounted with `userxattr`. Layers written one way are read correctly either way by
 * caisson's own walkers; overlay itself only sees its own kind.
 */
import { readFileSync } from 'node:fs';

/**
 * Whether this process is in the machine's user namespace: its uid map is the whole identity
 * (`0 0 4294967295`). A namespace root made (`unshare --map-root-user` as root) maps 0 to 0 too,
 * but only that one id.
 */
export function initialUserNamespace(): boolean {
  const [inside, outside, count] = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/);
  return inside === '0' && outside === '0' && count === '4294967295';
}

/** Whether this process is uid 0 of the initial user namespace. */
export function initialNamespaceRoot(): boolean {
  return process.getuid?.() === 0 && initialUserNamespace();
}

/** The opaque-directory xattr this process can set and its overlay mounts read. */
export function opaqueXattrName(): string {
  return initialNamespaceRoot() ? 'trusted.overlay.opaque' : 'user.overlay.opaque';
}

/** Whether `xattrs` mark an opaque directory, in either form. */
export function isOpaqueMarked(xattrs: ReadonlyMap<string, Buffer> | undefined): boolean {
  const value = xattrs?.get('trusted.overlay.opaque') ?? xattrs?.get('user.overlay.opaque');
  return value?.toString() === 'y';
}
