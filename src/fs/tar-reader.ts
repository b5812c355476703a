/**
 * A streaming tar reader: yields each entry's resolved header (PAX and GNU long names applied)
 * with its content as a stream of the archive's own chunks, never buffering a whole file. An
 * entry's content must be read or skipped before the next entry is asked for; skipping is done
 * for the caller when it moves on.
 */
import { CaissonError } from '../errors.js';
import { BLOCK, paddingLength } from '../image/index.js';
import { decodeHeader, entryKind, isZeroBlock, parsePaxRecords, resolveHeader, type TarHeader } from './tar-format.js';

/** PAX and GNU long-name records are small; anything bigger is hostile. */
const MAX_META_BYTES = 1 << 20;

export interface TarEntry {
  readonly header: TarHeader;
  /** Byte offset of the header in the uncompressed archive, for error messages. */
  readonly offset: number;
  /** The content: exactly `header.size` bytes. */
  content(): AsyncGenerator<Buffer>;
}

/** Reads exact byte counts from a chunked source without copying more than it must. */
class ByteSource {
  readonly #iterator: AsyncIterator<Buffer>;
  readonly #what: string;
  #pending: Buffer = Buffer.alloc(0);
  position = 0;

  constructor(source: AsyncIterable<Buffer>, what: string) {
    this.#iterator = source[Symbol.asyncIterator]();
    this.#what = what;
  }

  async #fill(): Promise<boolean> {
    const next = await this.#iterator.next();
    if (next.done === true) return false;
    this.#pending = this.#pending.length === 0 ? next.value : Buffer.concat([this.#pending, next.value]);
    return true;
  }

  /** Exactly `length` bytes, or undefined at a clean end of input before any of them. */
  async take(length: number): Promise<Buffer | undefined> {
    while (this.#pending.length < length) {
      if (!(await this.#fill())) {
        if (this.#pending.length === 0) return undefined;
        throw this.truncated();
      }
    }
    const piece = this.#pending.subarray(0, length);
    this.#pending = this.#pending.subarray(length);
    this.position += length;
    return piece;
  }

  /** `length` bytes as the chunks they arrive in. */
  async *stream(length: number): AsyncGenerator<Buffer> {
    let left = length;
    while (left > 0) {
      if (this.#pending.length === 0 && !(await this.#fill())) throw this.truncated();
      const piece = this.#pending.subarray(0, Math.min(left, this.#pending.length));
      this.#pending = this.#pending.subarray(piece.length);
      this.position += piece.length;
      left -= piece.length;
      yield piece;
    }
  }

  async skip(length: number): Promise<void> {
    for await (const piece of this.stream(length)) void piece;
  }

  truncated(): CaissonError {
    return new CaissonError({ code: 'ERR_LAYER_INVALID', message: `${this.#what}: the tar archive ends in the middle of an entry (at byte ${this.position})`, hint: 'The layer is truncated; pull it again.' });
  }
}

/** The entries of an uncompressed tar stream; `what` names the layer in errors. */
export async function* readTar(source: AsyncIterable<Buffer>, what: string): AsyncGenerator<TarEntry> {
  const input = new ByteSource(source, what);
  let pax = new Map<string, Buffer>();
  let globalPax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const offset = input.position;
    const block = await input.take(BLOCK);
    // A missing end-of-archive marker is tolerated, as every tar reader does.
    if (block === undefined) return;
    if (isZeroBlock(block)) return;
    const where = `${what} (tar header at byte ${offset})`;
    const raw = decodeHeader(block, where);
    const meta = async (): Promise<Buffer> => {
      if (raw.size > MAX_META_BYTES) throw new CaissonError({ code: 'ERR_LAYER_INVALID', message: `${where}: a ${raw.size}-byte extended header`, hint: 'Extended headers hold names and attributes; this one is hostile or corrupt.' });
      const data = (await input.take(raw.size + paddingLength(raw.size))) ?? Buffer.alloc(0);
      if (data.length < raw.size) throw input.truncated();
      return data.subarray(0, raw.size);
    };
    switch (raw.typeflag) {
      case 'x':
        pax = new Map([...globalPax, ...parsePaxRecords(await meta(), where)]);
        continue;
      case 'g':
        globalPax = new Map([...globalPax, ...parsePaxRecords(await meta(), where)]);
        continue;
      case 'L':
        longName = (await meta()).toString('utf8').replace(/\0+$/, '');
        continue;
      case 'K':
        longLink = (await meta()).toString('utf8').replace(/\0+$/, '');
        continue;
      default:
        break;
    }
    const kind = entryKind(raw.typeflag);
    if (kind === undefined) {
      throw new CaissonError({ code: 'ERR_LAYER_UNSUPPORTED', message: `${where}: entry ${raw.name} has tar type "${raw.typeflag}", which caisson does not read`, hint: 'Layers hold files, directories, links, devices and fifos; re-create the layer with a POSIX tar writer.' });
    }
    const header = resolveHeader({ raw, kind, pax: pax.size > 0 ? pax : globalPax, ...(longName === undefined ? {} : { longName }), ...(longLink === undefined ? {} : { longLink }), what: where });
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    // Links, directories and devices carry no content whatever their size field says (GNU tar).
    const size = kind === 'file' ? header.size : 0;
    // What the caller read of the content; the rest (and the padding) is skipped before the next entry.
    const progress = { started: false, read: 0 };
    const entry: TarEntry = {
      header: size === header.size ? header : { ...header, size },
      offset,
      content: async function* () {
        if (progress.started) throw new Error(`the content of ${header.name} was already read`);
        progress.started = true;
        for await (const piece of input.stream(size)) {
          progress.read += piece.length;
          yield piece;
        }
      },
    };
    yield entry;
    await input.skip(size - progress.read + paddingLength(size));
  }
}
