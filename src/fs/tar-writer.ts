/**
 * Writes a tar stream from entries in the order given: each header (ustar, PAX only where
 * needed), the content checked against the header's size, padding, and the end-of-archive
 * blocks. Deterministic by construction: nothing but the header's fields reaches the output.
 */
import { CaissonError } from '../errors.js';
import { padding, TAR_END } from '../image/index.js';
import { encodeHeader, type TarHeader } from './tar-format.js';

export interface TarInput {
  readonly header: TarHeader;
  /** Exactly `header.size` bytes for a file; nothing for other kinds. */
  readonly content?: AsyncIterable<Buffer> | Buffer;
}

export async function* writeTar(entries: AsyncIterable<TarInput> | Iterable<TarInput>): AsyncGenerator<Buffer> {
  for await (const { header, content } of entries) {
    const size = header.kind === 'file' ? header.size : 0;
    yield encodeHeader(header.kind === 'file' ? header : { ...header, size: 0 });
    if (size === 0) continue;
    let written = 0;
    if (content === undefined) written = 0;
    else if (Buffer.isBuffer(content)) {
      written = content.length;
      if (written === size) yield content;
    } else {
      for await (const chunk of content) {
        written += chunk.length;
        if (written > size) break;
        yield chunk;
      }
    }
    if (written !== size) {
      throw new CaissonError({ code: 'ERR_LAYER_INVALID', message: `${header.name}: ${written > size ? 'grew' : 'changed size'} while it was being added to the layer (header says ${size} bytes, got ${written}${written > size ? ' or more' : ''})`, hint: 'Something changed the file during the build; run the build again.' });
    }
    yield padding(size);
  }
  yield TAR_END;
}
