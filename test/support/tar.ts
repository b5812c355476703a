/**
 * Test helper (never a test itself): builds tar archives entry by entry, including the hostile
 * ones no honest writer makes (`..` names, links out, whiteouts of parents), with caisson's own
 * header encoder or raw GNU long-name records.
 */
import { encodeHeader, type EntryKind, type TarHeader } from '../../src/fs/index.js';
import { BLOCK, padding, sealHeader, TAR_END } from '../../src/image/index.js';

export interface FixtureEntry {
  readonly name: string;
  readonly kind?: EntryKind;
  readonly content?: string | Buffer;
  readonly linkname?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mtime?: number;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly xattrs?: ReadonlyMap<string, Buffer>;
  /** Write the name as a GNU `L` record instead of PAX. */
  readonly gnuLongName?: boolean;
}

export function fixtureHeader(entry: FixtureEntry): TarHeader {
  const kind = entry.kind ?? (entry.content === undefined ? 'directory' : 'file');
  const content = entry.content === undefined ? Buffer.alloc(0) : Buffer.from(entry.content);
  return {
    name: entry.name,
    kind,
    mode: entry.mode ?? (kind === 'directory' ? 0o755 : 0o644),
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    size: kind === 'file' ? content.length : 0,
    mtime: entry.mtime ?? 1_700_000_000,
    linkname: entry.linkname ?? '',
    devmajor: entry.devmajor ?? 0,
    devminor: entry.devminor ?? 0,
    xattrs: entry.xattrs ?? new Map(),
  };
}

/** A GNU `L` (long name) record followed by the entry's own header with a truncated name. */
function gnuLongNameHeader(header: TarHeader): Buffer {
  const name = Buffer.from(`${header.name}\0`);
  const record = encodeHeader({ ...header, name: '././@LongLink', kind: 'file', size: name.length, mode: 0o644, linkname: '' });
  record.write('L', 156, 1, 'latin1');
  sealHeader(record);
  return Buffer.concat([record, name, padding(name.length), encodeHeader({ ...header, name: header.name.slice(0, 99) })]);
}

/** An uncompressed tar of the entries, in order. */
export function makeTar(entries: readonly FixtureEntry[], options: { readonly end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const header = fixtureHeader(entry);
    parts.push(entry.gnuLongName === true ? gnuLongNameHeader(header) : encodeHeader(header));
    if (header.kind === 'file' && header.size > 0) {
      parts.push(Buffer.from(entry.content ?? ''), padding(header.size));
    }
  }
  if (options.end !== false) parts.push(TAR_END);
  return Buffer.concat(parts);
}

export async function* chunksOf(data: Buffer, size: number = 7 * BLOCK + 13): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}
