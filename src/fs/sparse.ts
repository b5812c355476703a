/**
 * GNU sparse 1.0 content (PAX `GNU.sparse.major=1`): a map of data regions in decimal text
 * (`count\n` then `offset\nlength\n` pairs, padded to 512 bytes) followed by the regions' bytes.
 * Written with holes: only the regions are written, then the file is sized to its real size.
 */
import type { FileHandle } from 'node:fs/promises';
import { CaissonError } from '../errors.js';
import { paddingLength } from '../image/index.js';

interface Region {
  readonly offset: number;
  readonly length: number;
}

/** Writes sparse `content` into `file`; returns the bytes of data written. */
export async function writeSparse(options: { readonly content: AsyncIterable<Buffer>; readonly file: FileHandle; readonly realSize: number; readonly what: string }): Promise<number> {
  const { what } = options;
  const invalid = (detail: string): CaissonError => new CaissonError({ code: 'ERR_LAYER_INVALID', message: `${what}: sparse map ${detail}`, hint: 'The layer is corrupt.' });
  const iterator = options.content[Symbol.asyncIterator]();
  let pending = Buffer.alloc(0);
  let consumed = 0;
  const numbers: number[] = [];
  let expected = Number.POSITIVE_INFINITY;
  // The map: decimal lines until `count` pairs are read.
  while (numbers.length < expected) {
    const newline = pending.indexOf(0x0a);
    if (newline < 0) {
      if (pending.length > 64) throw invalid('has a line longer than any number');
      const next = await iterator.next();
      if (next.done === true) throw invalid('ends early');
      pending = Buffer.concat([pending, next.value]);
      continue;
    }
    const text = pending.toString('latin1', 0, newline);
    if (!/^[0-9]+$/.test(text)) throw invalid(`holds "${text.slice(0, 20)}", not a number`);
    numbers.push(Number(text));
    consumed += newline + 1;
    pending = pending.subarray(newline + 1);
    if (numbers.length === 1) expected = 1 + 2 * (numbers[0] as number);
  }
  // The map is padded to a whole block.
  let skip = paddingLength(consumed);
  const regions: Region[] = [];
  for (let i = 1; i < numbers.length; i += 2) {
    const region = { offset: numbers[i] as number, length: numbers[i + 1] as number };
    if (region.offset + region.length > options.realSize) throw invalid(`region at ${region.offset} runs past the real size ${options.realSize}`);
    regions.push(region);
  }
  let index = 0;
  let within = 0;
  let written = 0;
  const place = async (chunk: Buffer): Promise<void> => {
    let piece = chunk;
    while (piece.length > 0) {
      const region = regions[index];
      if (region === undefined) throw invalid('has fewer data bytes than the entry holds');
      if (within === region.length) {
        index += 1;
        within = 0;
        continue;
      }
      const part = piece.subarray(0, region.length - within);
      await options.file.write(part, 0, part.length, region.offset + within);
      within += part.length;
      written += part.length;
      piece = piece.subarray(part.length);
    }
  };
  const take = async (chunk: Buffer): Promise<void> => {
    const dropped = Math.min(skip, chunk.length);
    skip -= dropped;
    await place(chunk.subarray(dropped));
  };
  await take(pending);
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) break;
    await take(next.value);
  }
  const total = regions.reduce((sum, region) => sum + region.length, 0);
  if (written !== total) throw invalid(`promises ${total} data bytes, the entry holds ${written}`);
  await options.file.truncate(options.realSize);
  return written;
}
