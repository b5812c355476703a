/**
 * The tar format as layers use it: decoding a 512-byte header (POSIX ustar, GNU and v7 magic;
 * octal and base-256 numbers; checksum), PAX extended records (path, linkpath, size, ids, mtime,
 * `SCHILY.xattr.*`, `LIBARCHIVE.xattr.*`, GNU sparse 1.0 keys), and encoding the deterministic
 * headers the layer writer emits (PAX records only for what ustar cannot hold).
 */
import { CaissonError } from '../errors.js';
import { BLOCK, headerChecksum, padding, paxRecord, sealHeader, writeOctal } from '../image/index.js';

export type EntryKind = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

/** One filesystem entry of a layer: the header after PAX and GNU long-name records are applied. */
export interface TarHeader {
  /** As written in the archive; the extractor cleans it. */
  readonly name: string;
  readonly kind: EntryKind;
  /** Permission bits with setuid, setgid and sticky (07777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of content in the archive (the stored size for a sparse file). */
  readonly size: number;
  /** Seconds since the epoch; fractions from PAX are kept. */
  readonly mtime: number;
  /** Symlink target, or the hardlink's target entry name. */
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
  /** Extended attributes by name (`security.capability`, `user.*`, …). */
  readonly xattrs: ReadonlyMap<string, Buffer>;
  /** GNU sparse 1.0: the file's real size; its content starts with the map of data regions. */
  readonly sparse?: { readonly realSize: number };
}

/** A raw header block as decoded, before PAX records override it. */
export type RawHeader = Omit<TarHeader, 'kind' | 'xattrs' | 'sparse'> & { readonly typeflag: string };

function cString(block: Buffer, offset: number, length: number): string {
  const end = block.indexOf(0, offset);
  return block.toString('utf8', offset, end < 0 || end > offset + length ? offset + length : end);
}

/** A numeric field: octal text, or base-256 (big-endian, first byte's high bit set) for big values. */
function readNumber(block: Buffer, offset: number, length: number, what: string): number {
  const first = block[offset] ?? 0;
  if ((first & 0x80) !== 0) {
    if ((first & 0x40) !== 0) throw new CaissonError({ code: 'ERR_LAYER_INVALID', message: `${what}: a negative base-256 number in a tar header`, hint: 'The layer was written by a broken tar writer.' });
    let value = BigInt(first & 0x7f);
    for (let i = 1; i < length; i += 1) value = (value << 8n) | BigInt(block[offset + i] ?? 0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new CaissonError({ code: 'ERR_LAYER_INVALID', message: `${what}: a number in a tar header is too large`, hint: 'The layer was written by a broken tar writer.' });
    return Number(value);
  }
  const text = block.toString('latin1', offset, offset + length).replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new CaissonError({ code: 'ERR_LAYER_INVALID', message: `${what}: "${text}" is not an octal number in a tar header`, hint: 'The file is not a tar archive, or it is corrupt.' });
  return Number.parseInt(text, 8);
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i += 1) if (block[i] !== 0) return false;
  return true;
}

/** Decodes one header block; `what` names the archive and offset in errors. */
export function decodeHeader(block: Buffer, what: string): RawHeader {
  const unsigned = headerChecksum(block);
  const stored = readNumber(block, 148, 8, what);
  if (stored !== unsigned) {
    // Some old writers summed signed bytes.
    let signed = 0;
    for (let i = 0; i < BLOCK; i += 1) signed += i >= 148 && i < 156 ? 0x20 : ((block[i] ?? 0) << 24) >> 24;
    if (stored !== signed) throw new CaissonError({ code: 'ERR_LAYER_INVALID', message: `${what}: tar header checksum is ${stored}, the header sums to ${unsigned}`, hint: 'The layer is corrupt or not a tar archive.' });
  }
  const magic = block.toString('latin1', 257, 263);
  const posix = magic === 'ustar\0';
  const shortName = cString(block, 0, 100);
  const prefix = posix ? cString(block, 345, 155) : '';
  return {
    name: prefix === '' ? shortName : `${prefix}/${shortName}`,
    typeflag: block.toString('latin1', 156, 157),
    mode: readNumber(block, 100, 8, what) & 0o7777,
    uid: readNumber(block, 108, 8, what),
    gid: readNumber(block, 116, 8, what),
    size: readNumber(block, 124, 12, what),
    mtime: readNumber(block, 136, 12, what),
    linkname: cString(block, 157, 100),
    devmajor: posix || magic === 'ustar ' ? readNumber(block, 329, 8, what) : 0,
    devminor: posix || magic === 'ustar ' ? readNumber(block, 337, 8, what) : 0,
  };
}

/** PAX records `<length> <key>=<value>\n`; values stay bytes (xattr values are binary). */
export function parsePaxRecords(data: Buffer, what: string): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let position = 0;
  while (position < data.length) {
    if (data[position] === 0) break;
    const space = data.indexOf(0x20, position);
    const length = space < 0 ? Number.NaN : Number(data.toString('latin1', position, space));
    if (!Number.isInteger(length) || length <= space - position || position + length > data.length || data[position + length - 1] !== 0x0a) {
      throw new CaissonError({ code: 'ERR_LAYER_INVALID', message: `${what}: malformed PAX record at byte ${position}`, hint: 'The layer is corrupt.' });
    }
    const record = data.subarray(space + 1, position + length - 1);
    const equals = record.indexOf(0x3d);
    if (equals <= 0) throw new CaissonError({ code: 'ERR_LAYER_INVALID', message: `${what}: PAX record without a key at byte ${position}`, hint: 'The layer is corrupt.' });
    records.set(record.toString('utf8', 0, equals), Buffer.from(record.subarray(equals + 1)));
    position += length;
  }
  return records;
}

const KINDS: Readonly<Record<string, EntryKind>> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'directory', '6': 'fifo' };

export function entryKind(typeflag: string): EntryKind | undefined {
  return KINDS[typeflag] ?? (typeflag === '' ? 'file' : undefined);
}

function paxNumber(records: ReadonlyMap<string, Buffer>, key: string, fallback: number, what: string): number {
  const value = records.get(key);
  if (value === undefined) return fallback;
  const number = Number(value.toString('latin1'));
  if (!Number.isFinite(number) || number < 0) throw new CaissonError({ code: 'ERR_LAYER_INVALID', message: `${what}: PAX ${key}="${value.toString('latin1')}" is not a number`, hint: 'The layer is corrupt.' });
  return number;
}

/** Applies PAX records and GNU long names to a raw header. */
export function resolveHeader(options: {
  readonly raw: RawHeader;
  readonly kind: EntryKind;
  readonly pax: ReadonlyMap<string, Buffer>;
  readonly longName?: string;
  readonly longLink?: string;
  readonly what: string;
}): TarHeader {
  const { raw, pax, what } = options;
  const text = (key: string): string | undefined => pax.get(key)?.toString('utf8');
  const xattrs = new Map<string, Buffer>();
  for (const [key, value] of pax) {
    if (key.startsWith('SCHILY.xattr.')) xattrs.set(key.slice('SCHILY.xattr.'.length), value);
    else if (key.startsWith('LIBARCHIVE.xattr.')) xattrs.set(decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(value.toString('latin1'), 'base64'));
  }
  const sparseMajor = text('GNU.sparse.major');
  let name = text('path') ?? options.longName ?? raw.name;
  let sparse: TarHeader['sparse'];
  if (sparseMajor !== undefined) {
    if (sparseMajor !== '1' || text('GNU.sparse.minor') !== '0') {
      throw new CaissonError({ code: 'ERR_LAYER_UNSUPPORTED', message: `${what}: GNU sparse format ${sparseMajor}.${text('GNU.sparse.minor') ?? '?'} in ${name}`, hint: 'caisson reads sparse files in the PAX 1.0 format (GNU tar --sparse --format=posix); re-create the layer with it, or without --sparse.' });
    }
    name = text('GNU.sparse.name') ?? name;
    sparse = { realSize: paxNumber(pax, 'GNU.sparse.realsize', 0, what) };
  } else if (pax.has('GNU.sparse.size') || pax.has('GNU.sparse.map') || raw.typeflag === 'S') {
    throw new CaissonError({ code: 'ERR_LAYER_UNSUPPORTED', message: `${what}: an old GNU sparse entry (${name})`, hint: 'caisson reads sparse files in the PAX 1.0 format (GNU tar --sparse --format=posix); re-create the layer with it, or without --sparse.' });
  }
  return {
    name,
    kind: options.kind,
    mode: raw.mode,
    uid: paxNumber(pax, 'uid', raw.uid, what),
    gid: paxNumber(pax, 'gid', raw.gid, what),
    size: paxNumber(pax, 'size', raw.size, what),
    mtime: paxNumber(pax, 'mtime', raw.mtime, what),
    linkname: text('linkpath') ?? options.longLink ?? raw.linkname,
    devmajor: raw.devmajor,
    devminor: raw.devminor,
    xattrs,
    ...(sparse === undefined ? {} : { sparse }),
  };
}

// ---- encoding ----

const TYPEFLAGS: Readonly<Record<EntryKind, string>> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' };

function fitsOctal(value: number, length: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < 8 ** (length - 1);
}

/** Splits a long name into ustar's prefix (≤155 bytes) and name (≤100 bytes), when it can. */
function splitUstarName(name: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let slash = name.indexOf('/'); slash >= 0; slash = name.indexOf('/', slash + 1)) {
    const prefix = name.slice(0, slash);
    const rest = name.slice(slash + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '') return { prefix, name: rest };
  }
  return undefined;
}

/** What one ustar block holds: the raw header with the name split into prefix and name. */
type BlockFields = RawHeader & { readonly prefix: string };

/** One ustar block; numbers that do not fit are written as 0 (a PAX record carries them). */
function headerBlock(fields: BlockFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  const octal = (offset: number, length: number, value: number): void => writeOctal(block, { offset, length, value: fitsOctal(value, length) ? value : 0 });
  block.write(fields.name, 0, 100, 'utf8');
  octal(100, 8, fields.mode & 0o7777);
  octal(108, 8, fields.uid);
  octal(116, 8, fields.gid);
  octal(124, 12, fields.size);
  octal(136, 12, Math.floor(fields.mtime));
  block.write(fields.typeflag, 156, 1, 'latin1');
  block.write(fields.linkname, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 8, 'latin1');
  if (fields.typeflag === '3' || fields.typeflag === '4') {
    octal(329, 8, fields.devmajor);
    octal(337, 8, fields.devminor);
  }
  block.write(fields.prefix, 345, 155, 'utf8');
  return sealHeader(block);
}

/**
 * The header block(s) for an entry: plain ustar when it fits, else a PAX `x` header first with
 * only the records ustar cannot hold (long path or link, big ids or size, fractional mtime is
 * dropped, xattrs). Owner names are never written: numeric ids only.
 */
export function encodeHeader(header: TarHeader): Buffer {
  const records: Buffer[] = [];
  let names = splitUstarName(header.name);
  if (names === undefined) {
    records.push(paxRecord('path', header.name));
    names = { prefix: '', name: header.name.slice(0, 100) };
  }
  let linkname = header.linkname;
  if (Buffer.byteLength(linkname) > 100) {
    records.push(paxRecord('linkpath', linkname));
    linkname = linkname.slice(0, 100);
  }
  if (!fitsOctal(header.uid, 8)) records.push(paxRecord('uid', String(header.uid)));
  if (!fitsOctal(header.gid, 8)) records.push(paxRecord('gid', String(header.gid)));
  if (!fitsOctal(header.size, 12)) records.push(paxRecord('size', String(header.size)));
  if (!fitsOctal(Math.floor(header.mtime), 12)) records.push(paxRecord('mtime', String(Math.floor(header.mtime))));
  for (const key of [...header.xattrs.keys()].sort()) records.push(paxRecord(`SCHILY.xattr.${key}`, header.xattrs.get(key) as Buffer));
  const main = headerBlock({ ...header, ...names, typeflag: TYPEFLAGS[header.kind], linkname });
  if (records.length === 0) return main;
  const data = Buffer.concat(records);
  const paxHeader = headerBlock({ prefix: '', name: `PaxHeaders.0/${names.name}`.slice(0, 100), typeflag: 'x', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: 0, linkname: '', devmajor: 0, devminor: 0 });
  return Buffer.concat([paxHeader, data, padding(data.length), main]);
}
