/**
 * The little tar the image model needs for docker-archive files: ustar headers for regular files
 * (PAX `path` records for names over 100 bytes), and an index of an existing uncompressed tar's
 * entries (name, offset, size) read from its headers, so blobs can be streamed out by range. The
 * block primitives (octal fields, the header checksum, PAX records, padding, the end marker) are
 * shared with the filesystem layer, whose layer tars carry modes, owners, links and xattrs.
 */
import { open } from 'node:fs/promises';
import { CaissonError } from '../errors.js';

export const BLOCK = 512;

function writeString(header: Buffer, options: { readonly offset: number; readonly length: number; readonly value: string }): void {
  header.write(options.value, options.offset, options.length, 'utf8');
}

/** A zero-padded octal field ending in NUL. */
export function writeOctal(header: Buffer, options: { readonly offset: number; readonly length: number; readonly value: number }): void {
  writeString(header, { offset: options.offset, length: options.length, value: `${options.value.toString(8).padStart(options.length - 1, '0')}\0` });
}

/** The sum of a header's bytes, its checksum field counted as spaces. */
export function headerChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return sum;
}

/** Writes the checksum of a filled-in header block. */
export function sealHeader(header: Buffer): Buffer {
  writeString(header, { offset: 148, length: 8, value: `${headerChecksum(header).toString(8).padStart(6, '0')}\0 ` });
  return header;
}

function rawHeader(options: { readonly name: string; readonly size: number; readonly type: '0' | 'x'; readonly mode: number }): Buffer {
  const header = Buffer.alloc(BLOCK);
  writeString(header, { offset: 0, length: 100, value: options.name });
  writeOctal(header, { offset: 100, length: 8, value: options.mode });
  writeOctal(header, { offset: 108, length: 8, value: 0 });
  writeOctal(header, { offset: 116, length: 8, value: 0 });
  writeOctal(header, { offset: 124, length: 12, value: options.size });
  writeOctal(header, { offset: 136, length: 12, value: 0 });
  writeString(header, { offset: 156, length: 1, value: options.type });
  writeString(header, { offset: 257, length: 6, value: 'ustar\0' });
  writeString(header, { offset: 263, length: 2, value: '00' });
  return sealHeader(header);
}

/** A PAX record `<len> key=value\n`, whose length counts itself; values may be binary (xattrs). */
export function paxRecord(key: string, value: string | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

/** The header block(s) of a regular file `name` of `size` bytes (mode 0644, owner 0:0, mtime 0). */
export function fileHeader(options: { readonly name: string; readonly size: number }): Buffer {
  if (Buffer.byteLength(options.name) <= 100) return rawHeader({ name: options.name, size: options.size, type: '0', mode: 0o644 });
  const pax = paxRecord('path', options.name);
  return Buffer.concat([
    rawHeader({ name: 'PaxHeaders/entry', size: pax.length, type: 'x', mode: 0o644 }),
    pax,
    padding(pax.length),
    rawHeader({ name: options.name.slice(0, 100), size: options.size, type: '0', mode: 0o644 }),
  ]);
}

/** How many zero bytes pad `size` bytes of content up to the next 512-byte block. */
export function paddingLength(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The zero bytes that pad `size` bytes of content up to the next 512-byte block. */
export function padding(size: number): Buffer {
  return Buffer.alloc(paddingLength(size));
}

/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

export interface TarEntry {
  readonly name: string;
  /** Byte offset of the content in the file. */
  readonly offset: number;
  readonly size: number;
  readonly type: string;
}

function readOctal(header: Buffer, offset: number, length: number): number {
  const text = header.toString('latin1', offset, offset + length).replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function parsePax(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let position = 0;
  while (position < data.length) {
    const space = data.indexOf(0x20, position);
    if (space < 0) break;
    const length = Number(data.toString('latin1', position, space));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = data.toString('utf8', space + 1, position + length - 1);
    const equals = record.indexOf('=');
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    position += length;
  }
  return records;
}

/** Lists the entries of an uncompressed tar file by reading only its headers. */
export async function indexTar(path: string): Promise<TarEntry[]> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const entries: TarEntry[] = [];
    const header = Buffer.alloc(BLOCK);
    let position = 0;
    let longName: string | undefined;
    while (position + BLOCK <= size) {
      await handle.read({ buffer: header, position, length: BLOCK });
      if (header.every((byte) => byte === 0)) break;
      if (header.toString('latin1', 257, 262) !== 'ustar') {
        throw new CaissonError({ code: 'ERR_IMAGE_INVALID', message: `${path}: not a tar archive (bad header at byte ${position})`, hint: 'docker-archive files are uncompressed tar files as `docker save` writes them.' });
      }
      const entrySize = readOctal(header, 124, 12);
      const type = header.toString('latin1', 156, 157) || '0';
      const prefix = header.toString('utf8', 345, 500).replace(/\0.*$/s, '');
      const shortName = header.toString('utf8', 0, 100).replace(/\0.*$/s, '');
      const contentOffset = position + BLOCK;
      if (type === 'x' || type === 'L') {
        const data = Buffer.alloc(entrySize);
        await handle.read({ buffer: data, position: contentOffset, length: entrySize });
        longName = type === 'L' ? data.toString('utf8').replace(/\0.*$/s, '') : (parsePax(data).get('path') ?? longName);
      } else {
        const name = longName ?? (prefix === '' ? shortName : `${prefix}/${shortName}`);
        entries.push({ name: name.replace(/^\.\//, ''), offset: contentOffset, size: entrySize, type });
        longName = undefined;
      }
      position = contentOffset + entrySize + paddingLength(entrySize);
    }
    return entries;
  } finally {
    await handle.close();
  }
}
