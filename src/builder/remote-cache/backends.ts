/**
 * Where a cache lives: a registry repository (`type=registry`: the cache index is pushed as a
 * manifest by tag, its blobs as blobs) or an OCI layout directory (`type=local`: index.json
 * naming the cache index by tag, blobs under blobs/sha256/). Reads are bounded: documents by
 * MAX_DOCUMENT_BYTES, blobs by their descriptor's size, and every blob is checked against its
 * digest by whoever stores it (verifiedBlob).
 */
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, isBerthError } from '../../errors/index.ts';
import type { Digest } from '../../oci/digest.ts';
import { MAX_DOCUMENT_BYTES, limitText } from '../../oci/limits.ts';
import { MediaType } from '../../oci/mediatypes.ts';
import type { Descriptor } from '../../oci/schema.ts';
import { parseReference, withDefaultTag } from '../../reference/index.ts';
import { type Credentials, RegistryClient, RegistrySink, RegistrySource } from '../../registry/index.ts';
import { createSha256, randomHex, sha256 } from '../../sys/crypto.ts';

export interface CacheBackend {
  readonly description: string;
  /** The cache's root document (the cache index, or an image's manifest), or undefined where there is none yet. */
  readRoot(): Promise<{ bytes: Buffer; mediaType?: string } | undefined>;
  /** A small blob (a config, a manifest of an index), whole, checked against its digest. */
  readDocument(desc: Descriptor): Promise<Buffer>;
  /** A blob as a stream that fails if it is longer than its descriptor or does not hash to its digest. */
  openBlob(desc: Descriptor): Promise<Readable>;
  putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void>;
  putRoot(bytes: Buffer, mediaType: string): Promise<void>;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Passes the bytes on while hashing and counting them; fails at the end (or past the size) if they are not the blob. */
export function verifiedBlob(desc: Descriptor, what: string): Transform {
  const h = createSha256();
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      n += chunk.length;
      if (n > desc.size) return cb(new BerthError('DATA_CORRUPT', `${what}: blob ${desc.digest} is longer than its ${desc.size} bytes`));
      h.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      const got = `sha256:${h.digest('hex')}`;
      if (n !== desc.size || got !== desc.digest)
        return cb(new BerthError('DATA_CORRUPT', `${what}: blob ${desc.digest} does not match its descriptor (got ${got}, ${n} bytes)`));
      cb();
    },
  });
}

/** A document bigger than this is refused before it is asked for. */
function boundedDocument(desc: Descriptor, what: string): void {
  if (desc.size > MAX_DOCUMENT_BYTES)
    throw new BerthError('DATA_CORRUPT', `${what}: ${desc.digest} is ${desc.size} bytes, more than ${limitText(MAX_DOCUMENT_BYTES)}`);
}

async function readAll(stream: Readable, desc: Descriptor, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(stream, verifiedBlob(desc, what), async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) chunks.push(c as Buffer);
  });
  return Buffer.concat(chunks);
}

export class RegistryCacheBackend implements CacheBackend {
  readonly description: string;
  private readonly source: RegistrySource;
  private readonly sink: RegistrySink;

  /** `credentials`: the registry's, `null` for none; docker's config file when undefined. */
  constructor(name: string, credentials?: Credentials | null) {
    const ref = withDefaultTag(parseReference(name));
    const client = new RegistryClient(ref.registry, { credentials });
    this.source = new RegistrySource(client, ref);
    this.sink = new RegistrySink(client, ref);
    this.description = name;
  }

  async readRoot(): Promise<{ bytes: Buffer; mediaType?: string } | undefined> {
    try {
      const m = await this.source.rootManifest();
      return { bytes: m.bytes, mediaType: m.mediaType };
    } catch (e) {
      if (isBerthError(e) && e.code === 'NOT_FOUND') return undefined;
      throw e;
    }
  }

  async readDocument(desc: Descriptor): Promise<Buffer> {
    boundedDocument(desc, this.description);
    if (desc.mediaType === MediaType.OciManifest || desc.mediaType === MediaType.DockerManifest) {
      const m = await this.source.manifest(desc.digest);
      return m.bytes;
    }
    return readAll(await this.source.openBlob(desc), desc, this.description);
  }

  async openBlob(desc: Descriptor): Promise<Readable> {
    return (await this.source.openBlob(desc)).pipe(verifiedBlob(desc, this.description));
  }

  async putBlob(desc: Descriptor, openBlob: () => Promise<Readable>): Promise<void> {
    if (await this.sink.hasBlob(desc)) return;
    await this.sink.putBlob(desc, () => openBlob());
  }

  async putRoot(bytes: Buffer, mediaType: string): Promise<void> {
    await this.sink.finish({ digest: sha256(bytes), bytes, mediaType });
  }
}

interface LayoutIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

const REF_NAME = 'org.opencontainers.image.ref.name';

/** An OCI image layout directory, as BuildKit's local cache writes it (index.json naming the cache by tag). */
export class LocalCacheBackend implements CacheBackend {
  readonly description: string;

  constructor(
    private readonly dir: string,
    private readonly tag: string,
    private readonly digest?: string,
  ) {
    this.description = dir;
  }

  private blobPath(d: Digest): string {
    if (!DIGEST.test(d)) throw new BerthError('DATA_CORRUPT', `${this.dir}: "${String(d).slice(0, 80)}" is not a sha256 digest`);
    return join(this.dir, 'blobs', 'sha256', d.slice(7));
  }

  private async readIndex(): Promise<LayoutIndex | undefined> {
    const file = join(this.dir, 'index.json');
    if (!existsSync(file)) return undefined;
    const st = await stat(file);
    if (st.size > MAX_DOCUMENT_BYTES) throw new BerthError('DATA_CORRUPT', `${file} is more than ${limitText(MAX_DOCUMENT_BYTES)}`);
    let doc: LayoutIndex;
    try {
      doc = JSON.parse(await readFile(file, 'utf8')) as LayoutIndex;
    } catch {
      throw new BerthError('DATA_CORRUPT', `${file} is not JSON`);
    }
    if (!Array.isArray(doc?.manifests)) throw new BerthError('DATA_CORRUPT', `${file} has no manifests list`);
    return doc;
  }

  async readRoot(): Promise<{ bytes: Buffer; mediaType?: string } | undefined> {
    const index = await this.readIndex();
    const desc = index?.manifests.find((m) => (this.digest ? m.digest === this.digest : m.annotations?.[REF_NAME] === this.tag));
    if (!desc) return undefined;
    return { bytes: await this.readDocument(desc), mediaType: desc.mediaType };
  }

  async readDocument(desc: Descriptor): Promise<Buffer> {
    boundedDocument(desc, this.dir);
    return readAll(await this.openRaw(desc), desc, this.dir);
  }

  private async openRaw(desc: Descriptor): Promise<Readable> {
    const path = this.blobPath(desc.digest);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) throw new BerthError('NOT_FOUND', `${this.dir}: blob ${desc.digest} is missing`);
    if (st.size !== desc.size) throw new BerthError('DATA_CORRUPT', `${this.dir}: blob ${desc.digest} is ${st.size} bytes, its descriptor says ${desc.size}`);
    return createReadStream(path);
  }

  async openBlob(desc: Descriptor): Promise<Readable> {
    return (await this.openRaw(desc)).pipe(verifiedBlob(desc, this.dir));
  }

  async putBlob(desc: Descriptor, openBlob: () => Promise<Readable>): Promise<void> {
    const path = this.blobPath(desc.digest);
    if ((await stat(path).catch(() => undefined))?.size === desc.size) return;
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    const tmp = `${path}.${randomHex(6)}.tmp`;
    try {
      const fh = await open(tmp, 'wx', 0o644);
      try {
        await pipeline(await openBlob(), verifiedBlob(desc, this.dir), fh.createWriteStream());
      } finally {
        await fh.close().catch(() => undefined);
      }
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async putRoot(bytes: Buffer, mediaType: string): Promise<void> {
    const desc: Descriptor = { mediaType, digest: sha256(bytes), size: bytes.length };
    await this.putBlob(desc, async () => Readable.from([bytes]));
    const index: LayoutIndex = (await this.readIndex()) ?? { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
    index.manifests = [...index.manifests.filter((m) => m.annotations?.[REF_NAME] !== this.tag), { ...desc, annotations: { [REF_NAME]: this.tag } }];
    await writeFile(join(this.dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const tmp = join(this.dir, `index.json.${randomHex(6)}.tmp`);
    await writeFile(tmp, JSON.stringify(index));
    await rename(tmp, join(this.dir, 'index.json'));
  }
}
