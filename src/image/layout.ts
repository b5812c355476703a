/**
 * OCI image layout directories (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
 * `oci-layout`, `index.json`, `blobs/<alg>/<hex>`. A layout is both an `ImageSource` and an
 * `ImageTarget`; tags are the `org.opencontainers.image.ref.name` annotation of index.json entries.
 * Blobs are written to a temporary name, verified, then renamed, so a killed copy leaves no blob
 * that reads as valid; index.json is replaced atomically.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { CaissonError } from '../errors.js';
import { BLOB_STREAM_BUFFER, digestAlgorithm, digestHex, readAll, verifiedStream, VerifyingStream } from './digest.js';
import { parseManifest, type Descriptor, type ImageIndex, type ParsedManifest } from './manifest.js';
import { MediaType } from './media-types.js';
import type { ImageSource, ImageTarget, WriteBlobOptions, WriteManifestOptions } from './store.js';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
const LAYOUT_VERSION = '1.0.0';

export function blobPath(options: { readonly dir: string; readonly descriptor: Pick<Descriptor, 'digest'> }): string {
  const digest = options.descriptor.digest;
  return join(options.dir, 'blobs', digestAlgorithm(digest), digestHex(digest));
}

/** Streams `from` into `path` through digest verification; the file appears only when it matches. */
export async function writeVerifiedFile(options: {
  readonly path: string;
  readonly from: Readable;
  readonly descriptor: Descriptor;
  readonly what: string;
  /** `from` already fails on a mismatch (an ImageSource stream): do not hash it twice. */
  readonly verified?: boolean;
}): Promise<void> {
  const temporary = `${options.path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    const file = createWriteStream(temporary, { flags: 'wx', highWaterMark: BLOB_STREAM_BUFFER });
    if (options.verified === true) await pipeline(options.from, file);
    else await pipeline(options.from, new VerifyingStream({ expected: options.descriptor.digest, size: options.descriptor.size, what: options.what }), file);
    await rename(temporary, options.path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export class OciLayout implements ImageSource, ImageTarget {
  readonly dir: string;
  readonly name: string;
  #index: ImageIndex;

  private constructor(dir: string, index: ImageIndex) {
    this.dir = dir;
    this.name = `oci:${dir}`;
    this.#index = index;
  }

  /** Opens an existing layout; ERR_INPUT_NOT_FOUND / ERR_IMAGE_INVALID name the directory. */
  static async open(dir: string): Promise<OciLayout> {
    let marker: string;
    try {
      marker = await readFile(join(dir, 'oci-layout'), 'utf8');
    } catch {
      throw new CaissonError({
        code: 'ERR_INPUT_NOT_FOUND',
        message: `${dir}: not an OCI image layout (no oci-layout file)`,
        hint: 'Give the directory that holds oci-layout, index.json and blobs/.',
      });
    }
    const version = (JSON.parse(marker) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
    if (typeof version !== 'string' || !version.startsWith('1.')) {
      throw new CaissonError({ code: 'ERR_IMAGE_INVALID', message: `${dir}/oci-layout: unsupported imageLayoutVersion ${JSON.stringify(version)}` });
    }
    const indexBytes = await readFile(join(dir, 'index.json'));
    const parsed = parseManifest({ bytes: indexBytes, mediaType: MediaType.ociIndex, what: `${dir}/index.json` });
    if (parsed.kind !== 'index') throw new CaissonError({ code: 'ERR_IMAGE_INVALID', message: `${dir}/index.json: not an image index` });
    return new OciLayout(dir, parsed.index);
  }

  /** Opens the layout at `dir`, creating an empty one when the directory holds none. */
  static async openOrCreate(dir: string): Promise<OciLayout> {
    if (await exists(join(dir, 'oci-layout'))) return OciLayout.open(dir);
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(dir, 'oci-layout'), `${JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })}\n`);
    const layout = new OciLayout(dir, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] });
    await layout.commit();
    return layout;
  }

  get index(): ImageIndex {
    return this.#index;
  }

  async resolve(reference: string | undefined): Promise<Descriptor> {
    const entries = this.#index.manifests;
    const found =
      reference === undefined
        ? entries.length === 1
          ? entries[0]
          : undefined
        : entries.find((entry) => entry.annotations?.[REF_NAME_ANNOTATION] === reference || entry.digest === reference);
    if (found !== undefined) return found;
    const names = entries.map((entry) => entry.annotations?.[REF_NAME_ANNOTATION]).filter((name) => name !== undefined);
    throw new CaissonError({
      code: 'ERR_MANIFEST_UNKNOWN',
      message: reference === undefined ? `${this.name}: holds ${entries.length} images, say which one` : `${this.name}:${reference}: no such image in the layout`,
      hint: names.length > 0 ? `The layout has: ${names.join(', ')}.` : 'The layout has no tagged images; address one by digest.',
    });
  }

  async readManifest(descriptor: Descriptor): Promise<ParsedManifest> {
    const what = `${this.name}@${descriptor.digest}`;
    return parseManifest({ bytes: await readAll(await this.openBlob(descriptor)), mediaType: descriptor.mediaType, what });
  }

  async openBlob(descriptor: Descriptor): Promise<Readable> {
    const path = blobPath({ dir: this.dir, descriptor });
    if (!(await exists(path))) {
      throw new CaissonError({ code: 'ERR_BLOB_UNKNOWN', message: `${this.name}: blob ${descriptor.digest} is missing (${path})`, hint: 'The layout is incomplete; copy the image into it again.' });
    }
    return verifiedStream({ from: createReadStream(path, { highWaterMark: BLOB_STREAM_BUFFER }), expected: descriptor.digest, size: descriptor.size, what: path });
  }

  async writeBlob(options: WriteBlobOptions): Promise<'exists' | 'written'> {
    const path = blobPath({ dir: this.dir, descriptor: options.descriptor });
    if (await exists(path)) return 'exists';
    await mkdir(join(path, '..'), { recursive: true });
    await writeVerifiedFile({
      path,
      from: await options.open(),
      descriptor: options.descriptor,
      what: `${this.name}: blob ${options.descriptor.digest}`,
      ...(options.verified === undefined ? {} : { verified: options.verified }),
    });
    return 'written';
  }

  async writeManifest(options: WriteManifestOptions): Promise<void> {
    const { descriptor, bytes, tag } = options;
    await this.writeBlob({ descriptor, open: async () => Readable.from([bytes]) });
    if (tag === undefined) {
      if (options.root === true && !this.#index.manifests.some((entry) => entry.digest === descriptor.digest)) {
        this.#index = { ...this.#index, manifests: [...this.#index.manifests, descriptor] };
      }
      return;
    }
    const entry: Descriptor = {
      mediaType: descriptor.mediaType,
      digest: descriptor.digest,
      size: descriptor.size,
      ...(descriptor.platform === undefined ? {} : { platform: descriptor.platform }),
      annotations: { ...descriptor.annotations, [REF_NAME_ANNOTATION]: tag },
    };
    const others = this.#index.manifests.filter((existing) => existing.annotations?.[REF_NAME_ANNOTATION] !== tag);
    this.#index = { ...this.#index, manifests: [...others, entry] };
  }

  async commit(): Promise<void> {
    const path = join(this.dir, 'index.json');
    const temporary = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    await writeFile(temporary, `${JSON.stringify(this.#index)}\n`);
    await rename(temporary, path);
  }
}
