/**
 * docker-archive tarballs, as `docker save` writes and `docker load` reads them: `manifest.json`
 * (Config, RepoTags, Layers per image) and the legacy `repositories` file. caisson writes blobs
 * under `blobs/sha256/<hex>` with `oci-layout` and `index.json` beside them (the layout Docker 25
 * saves), so the same file is also an OCI layout tar and digests survive a round trip. Reading
 * accepts both that and the classic `<id>/layer.tar` form, for which it describes the image itself.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { CaissonError } from '../errors.js';
import { BLOB_STREAM_BUFFER, digestHex, readAll, verifiedStream, type Digest } from './digest.js';
import { REF_NAME_ANNOTATION } from './layout.js';
import { describeBytes, parseManifest, type Descriptor, type ImageIndex, type ParsedManifest } from './manifest.js';
import { MediaType, sniffCompression } from './media-types.js';
import { parseReference, repositoryName } from './reference.js';
import type { ImageSource, ImageTarget, WriteBlobOptions, WriteManifestOptions } from './store.js';
import { fileHeader, indexTar, padding, TAR_END, type TarEntry } from './tar.js';

interface ArchiveManifestEntry {
  readonly Config: string;
  readonly RepoTags: readonly string[] | null;
  readonly Layers: readonly string[];
}

function blobName(digest: Digest): string {
  return `blobs/sha256/${digestHex(digest)}`;
}

/** Writes a docker-archive file; entries are appended in order, the file appears on commit. */
export class DockerArchiveWriter implements ImageTarget {
  readonly name: string;
  readonly #path: string;
  readonly #temporary: string;
  readonly #out: WriteStream;
  readonly #written = new Set<string>();
  readonly #manifests = new Map<string, { descriptor: Descriptor; parsed: ParsedManifest; tags: string[] }>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: { readonly path: string }) {
    this.#path = options.path;
    this.name = `docker-archive:${options.path}`;
    this.#temporary = `${options.path}.tmp-${randomBytes(6).toString('hex')}`;
    this.#out = createWriteStream(this.#temporary, { flags: 'wx', highWaterMark: BLOB_STREAM_BUFFER });
  }

  /** Serialises appends: concurrent writers each get the whole file for their entry. */
  #append<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #write(chunk: Buffer): Promise<void> {
    if (!this.#out.write(chunk)) await once(this.#out, 'drain');
  }

  async #appendEntry(options: { readonly name: string; readonly size: number; readonly content: AsyncIterable<Uint8Array> | Iterable<Uint8Array> }): Promise<void> {
    await this.#write(fileHeader({ name: options.name, size: options.size }));
    for await (const chunk of options.content) await this.#write(Buffer.from(chunk));
    await this.#write(padding(options.size));
  }

  writeBlob(options: WriteBlobOptions): Promise<'exists' | 'written'> {
    const { descriptor } = options;
    if (this.#written.has(descriptor.digest)) return Promise.resolve('exists');
    this.#written.add(descriptor.digest);
    return this.#append(async () => {
      const source = await options.open();
      const content = options.verified === true ? source : verifiedStream({ from: source, expected: descriptor.digest, size: descriptor.size, what: `${this.name}: blob ${descriptor.digest}` });
      await this.#appendEntry({ name: blobName(descriptor.digest), size: descriptor.size, content });
      return 'written' as const;
    });
  }

  async writeManifest(options: WriteManifestOptions): Promise<void> {
    const parsed = parseManifest({ bytes: options.bytes, mediaType: options.descriptor.mediaType, what: this.name });
    if (options.root === true && parsed.kind === 'index') {
      throw new CaissonError({
        code: 'ERR_IMAGE_INVALID',
        message: `${this.name}: a docker-archive holds single-platform images, this is an index of ${parsed.index.manifests.length}`,
        hint: 'Pick one platform with --platform, or copy to an OCI layout (oci:<dir>) instead.',
      });
    }
    await this.writeBlob({ descriptor: options.descriptor, open: async () => Readable.from([options.bytes]) });
    if (options.root !== true) return;
    const entry = this.#manifests.get(options.descriptor.digest) ?? { descriptor: options.descriptor, parsed, tags: [] };
    if (options.tag !== undefined) entry.tags.push(options.tag);
    this.#manifests.set(options.descriptor.digest, entry);
  }

  async commit(): Promise<void> {
    await this.#append(async () => {
      const images = [...this.#manifests.values()];
      const manifestJson: ArchiveManifestEntry[] = [];
      const repositories: Record<string, Record<string, string>> = {};
      const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
      const indexEntries: Descriptor[] = [];
      for (const { descriptor, parsed, tags } of images) {
        if (parsed.kind !== 'manifest') continue;
        const layers = parsed.manifest.layers.map((layer) => blobName(layer.digest));
        manifestJson.push({ Config: blobName(parsed.manifest.config.digest), RepoTags: tags, Layers: layers });
        for (const tag of tags) {
          const reference = parseReference(tag);
          const lastLayer = parsed.manifest.layers.at(-1);
          if (reference.tag !== undefined && lastLayer !== undefined) {
            (repositories[repositoryName(reference)] ??= {})[reference.tag] = digestHex(lastLayer.digest);
          }
          indexEntries.push({ ...descriptor, annotations: { [REF_NAME_ANNOTATION]: tag, 'io.containerd.image.name': tag } });
        }
        if (tags.length === 0) indexEntries.push(descriptor);
      }
      const files: [string, string][] = [
        ['manifest.json', JSON.stringify(manifestJson)],
        ['repositories', JSON.stringify(repositories)],
        ['oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' })],
        ['index.json', JSON.stringify({ ...index, manifests: indexEntries })],
      ];
      for (const [name, text] of files) {
        const bytes = Buffer.from(text);
        await this.#appendEntry({ name, size: bytes.length, content: [bytes] });
      }
      await this.#write(TAR_END);
      this.#out.end();
      await once(this.#out, 'finish');
      await rename(this.#temporary, this.#path);
    });
  }

  /** Drops the unfinished file (after a failed copy). */
  async abort(): Promise<void> {
    await this.#queue;
    this.#out.on('error', () => undefined);
    this.#out.end();
    await finished(this.#out).catch(() => undefined);
    await rm(this.#temporary, { force: true });
  }
}

/** Reads a docker-archive (or an OCI layout tar) by indexing its entries; blobs stream by range. */
export class DockerArchiveReader implements ImageSource {
  readonly name: string;
  readonly #path: string;
  readonly #entries: Map<string, TarEntry>;
  /** Synthesised manifests (classic archives) and roots, by digest. */
  readonly #documents = new Map<string, Buffer>();
  readonly #blobs = new Map<string, TarEntry>();
  readonly #roots: { readonly descriptor: Descriptor; readonly tags: readonly string[] }[] = [];

  private constructor(path: string, entries: TarEntry[]) {
    this.#path = path;
    this.name = `docker-archive:${path}`;
    this.#entries = new Map(entries.map((entry) => [entry.name, entry]));
  }

  static async open(path: string): Promise<DockerArchiveReader> {
    let entries: TarEntry[];
    try {
      entries = await indexTar(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new CaissonError({ code: 'ERR_INPUT_NOT_FOUND', message: `${path}: no such docker-archive file`, hint: 'Check the path after docker-archive:.' });
      }
      throw error;
    }
    const reader = new DockerArchiveReader(path, entries);
    await reader.#load();
    return reader;
  }

  async #readEntry(name: string): Promise<Buffer> {
    const entry = this.#entries.get(name);
    if (entry === undefined) throw new CaissonError({ code: 'ERR_IMAGE_INVALID', message: `${this.name}: the archive has no ${name}`, hint: 'The file is not a complete docker-archive.' });
    return readAll(this.#stream(entry));
  }

  #stream(entry: TarEntry): Readable {
    return entry.size === 0 ? Readable.from([]) : createReadStream(this.#path, { start: entry.offset, end: entry.offset + entry.size - 1, highWaterMark: BLOB_STREAM_BUFFER });
  }

  async #describe(name: string, mediaType: string): Promise<Descriptor> {
    const entry = this.#entries.get(name);
    if (entry === undefined) throw new CaissonError({ code: 'ERR_IMAGE_INVALID', message: `${this.name}: manifest.json names ${name}, which the archive lacks` });
    const hash = createHash('sha256');
    let head: Buffer | undefined;
    for await (const chunk of this.#stream(entry)) {
      head ??= chunk as Buffer;
      hash.update(chunk as Buffer);
    }
    const digest = `sha256:${hash.digest('hex')}` as Digest;
    this.#blobs.set(digest, entry);
    const compression = mediaType === MediaType.dockerLayer && head !== undefined ? sniffCompression(head) : 'none';
    const type = compression === 'gzip' ? MediaType.dockerLayerGzip : compression === 'zstd' ? MediaType.dockerLayerZstd : mediaType;
    return { mediaType: type, digest, size: entry.size };
  }

  async #load(): Promise<void> {
    for (const entry of this.#entries.values()) {
      const match = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(entry.name);
      if (match !== null) this.#blobs.set(`sha256:${match[1]}`, entry);
    }
    if (this.#entries.has('index.json')) {
      const parsed = parseManifest({ bytes: await this.#readEntry('index.json'), mediaType: MediaType.ociIndex, what: `${this.name}/index.json` });
      if (parsed.kind === 'index') {
        for (const descriptor of parsed.index.manifests) {
          const tag = descriptor.annotations?.['io.containerd.image.name'] ?? descriptor.annotations?.[REF_NAME_ANNOTATION];
          this.#roots.push({ descriptor, tags: tag === undefined ? [] : [tag] });
        }
        return;
      }
    }
    const list = JSON.parse((await this.#readEntry('manifest.json')).toString('utf8')) as ArchiveManifestEntry[];
    for (const image of list) {
      const config = await this.#describe(image.Config, MediaType.dockerConfig);
      const layers: Descriptor[] = [];
      for (const layer of image.Layers) layers.push(await this.#describe(layer, MediaType.dockerLayer));
      const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config, layers }));
      const descriptor = describeBytes({ mediaType: MediaType.dockerManifest, bytes });
      this.#documents.set(descriptor.digest, bytes);
      this.#roots.push({ descriptor, tags: image.RepoTags ?? [] });
    }
  }

  get roots(): readonly { readonly descriptor: Descriptor; readonly tags: readonly string[] }[] {
    return this.#roots;
  }

  async resolve(reference: string | undefined): Promise<Descriptor> {
    const found =
      reference === undefined
        ? this.#roots.length === 1
          ? this.#roots[0]
          : undefined
        : this.#roots.find((root) => root.tags.includes(reference) || root.descriptor.digest === reference || root.tags.some((tag) => tag.endsWith(`/${reference}`)));
    if (found !== undefined) return found.descriptor;
    throw new CaissonError({
      code: 'ERR_MANIFEST_UNKNOWN',
      message: reference === undefined ? `${this.name}: holds ${this.#roots.length} images, say which one` : `${this.name}:${reference}: no such image in the archive`,
      hint: `The archive has: ${this.#roots.flatMap((root) => root.tags).join(', ') || 'no tagged images'}.`,
    });
  }

  async readManifest(descriptor: Descriptor): Promise<ParsedManifest> {
    return parseManifest({ bytes: await readAll(await this.openBlob(descriptor)), mediaType: descriptor.mediaType, what: `${this.name}@${descriptor.digest}` });
  }

  async openBlob(descriptor: Descriptor): Promise<Readable> {
    const verify = { expected: descriptor.digest, size: descriptor.size, what: `${this.name}@${descriptor.digest}` };
    const document = this.#documents.get(descriptor.digest);
    if (document !== undefined) return verifiedStream({ from: Readable.from([document]), ...verify });
    const entry = this.#blobs.get(descriptor.digest);
    if (entry === undefined) throw new CaissonError({ code: 'ERR_BLOB_UNKNOWN', message: `${this.name}: blob ${descriptor.digest} is not in the archive` });
    return verifiedStream({ from: this.#stream(entry), ...verify });
  }
}
