/**
 * Writing image archives (`save`): one tar that is both a docker-archive (manifest.json,
 * which `docker load` reads) and an OCI image layout (index.json + oci-layout, which skopeo
 * and umoci read), as Docker 25 writes it. Blobs are written once, by digest, streamed.
 */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { BerthError } from '../errors/index.ts';
import type { Digest } from '../oci/digest.ts';
import { MediaType } from '../oci/mediatypes.ts';
import { hostPlatform, platformMatches } from '../oci/platform.ts';
import { manifestSchema, type Descriptor, type Platform } from '../oci/schema.ts';
import { familiarName, parseReference, withDefaultTag } from '../reference/index.ts';
import type { ImageSink, RawManifest } from './transfer.ts';

export interface ArchiveEntryImage {
  readonly manifest: RawManifest;
  readonly names: readonly string[]; // full normalized names
  /** A platform of a multi-platform image: index.json lists its index instead (addIndex). */
  readonly inIndex?: boolean;
}

export class ArchiveWriter {
  private readonly pack = tar.pack();
  private queue: Promise<void> = Promise.resolve();
  private readonly written = new Set<string>();
  private readonly images: ArchiveEntryImage[] = [];
  private readonly indexes: Array<{ manifest: RawManifest; names: readonly string[] }> = [];
  private readonly done: Promise<void>;
  private readonly mtime = new Date(0);
  private failure: Error | undefined;

  constructor(out: Writable) {
    this.done = pipeline(this.pack, out);
    this.done.catch(() => undefined);
  }

  /** Serializes entries: a tar is written strictly one entry after another. */
  private enqueue(fn: () => Promise<void>): Promise<void> {
    // After a failed entry the tar is cut off: what is queued behind it fails with it.
    const run = this.queue.then(() => {
      if (this.failure) throw this.failure;
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  hasBlob(digest: Digest): boolean {
    return this.written.has(digest);
  }

  writeBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void> {
    return this.enqueue(async () => {
      if (this.written.has(desc.digest)) return;
      const src = await open();
      await new Promise<void>((resolve, reject) => {
        const entry = this.pack.entry({ name: `blobs/sha256/${desc.digest.slice(7)}`, size: desc.size, mode: 0o644, mtime: this.mtime }, (err) =>
          err ? reject(new BerthError('DATA_CORRUPT', `cannot write blob ${desc.digest}: ${err.message}`)) : resolve(),
        );
        // A source that fails mid-entry (a layer dir that no longer hashes to its diffID)
        // leaves the entry unfinished, and the pack would wait for it for ever.
        entry.on('error', () => undefined); // the source's error, told below
        src.on('error', (e: Error) => {
          this.failure = e;
          this.pack.destroy(e);
          reject(e);
        });
        src.pipe(entry);
      });
      this.written.add(desc.digest);
    });
  }

  private writeFile(name: string, data: string | Buffer): Promise<void> {
    return this.enqueue(async () => {
      this.pack.entry({ name, mode: 0o644, mtime: this.mtime }, data);
    });
  }

  addImage(img: ArchiveEntryImage): void {
    this.images.push(img);
  }

  /** A multi-platform image: its index, named in index.json; its platforms are added with addImage. */
  addIndex(index: { manifest: RawManifest; names: readonly string[] }): void {
    this.indexes.push(index);
  }

  async finish(opts: { ociRefNames?: boolean } = {}): Promise<void> {
    const manifestJson = [];
    const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] as Descriptor[] };
    const repositories: Record<string, Record<string, string>> = {};
    for (const img of this.images) {
      await this.writeBlob({ mediaType: img.manifest.mediaType, digest: img.manifest.digest, size: img.manifest.bytes.length }, async () =>
        Readable.from([img.manifest.bytes]),
      );
      const m = manifestSchema.parse(JSON.parse(img.manifest.bytes.toString()));
      const familiar = img.names.map((n) => familiarName(withDefaultTag(parseReference(n))));
      manifestJson.push({
        Config: `blobs/sha256/${m.config.digest.slice(7)}`,
        RepoTags: familiar,
        Layers: m.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
      });
      const base = { mediaType: img.manifest.mediaType, digest: img.manifest.digest, size: img.manifest.bytes.length };
      const names = img.inIndex ? [] : img.names.length ? img.names : [undefined];
      for (const name of names) {
        const annotations: Record<string, string> = {};
        if (name) {
          annotations['io.containerd.image.name'] = name;
          const ref = withDefaultTag(parseReference(name));
          annotations['org.opencontainers.image.ref.name'] = opts.ociRefNames ? (ref.tag ?? 'latest') : (ref.tag ?? 'latest');
          const fam = familiarName(ref);
          const repo = fam.slice(0, fam.lastIndexOf(':'));
          (repositories[repo] ??= {})[ref.tag ?? 'latest'] = m.config.digest.slice(7);
        }
        index.manifests.push(Object.keys(annotations).length ? { ...base, annotations } : base);
      }
    }
    for (const ix of this.indexes) {
      const base = { mediaType: ix.manifest.mediaType, digest: ix.manifest.digest, size: ix.manifest.bytes.length };
      await this.writeBlob(base, async () => Readable.from([ix.manifest.bytes]));
      for (const name of ix.names.length ? ix.names : [undefined]) {
        const tag = name && (withDefaultTag(parseReference(name)).tag ?? 'latest');
        index.manifests.push(name ? { ...base, annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag! } } : base);
      }
    }
    await this.writeFile('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await this.writeFile('index.json', JSON.stringify(index));
    await this.writeFile('manifest.json', JSON.stringify(manifestJson));
    if (Object.keys(repositories).length) await this.writeFile('repositories', JSON.stringify(repositories));
    await this.queue;
    this.pack.finalize();
    await this.done;
  }
}

/** The archive as a copyImage sink for one image with the given names. */
export class ArchiveImageSink implements ImageSink {
  readonly description = 'image archive';
  constructor(
    private readonly writer: ArchiveWriter,
    private readonly names: readonly string[],
  ) {}

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.writer.hasBlob(desc.digest);
  }

  putBlob(desc: Descriptor, open: (start?: number) => Promise<Readable>): Promise<void> {
    return this.writer.writeBlob(desc, () => open());
  }

  private readonly platforms: Array<{ manifest: RawManifest; platform?: Platform }> = [];
  private index: RawManifest | undefined;

  async putManifest(manifest: RawManifest, opts: { platform?: Platform } = {}): Promise<void> {
    if ((JSON.parse(manifest.bytes.toString()) as { manifests?: unknown }).manifests) this.index = manifest;
    else this.platforms.push({ manifest, platform: opts.platform });
  }

  /**
   * One image goes in with its names. A multi-platform image goes in whole: its index named in
   * index.json, each platform in manifest.json, the names on the host's (what `docker load` tags).
   */
  async finish(): Promise<void> {
    if (!this.index) {
      for (const p of this.platforms) this.writer.addImage({ manifest: p.manifest, names: this.names });
      return;
    }
    const tagged = this.platforms.find((p) => p.platform && platformMatches(hostPlatform(), p.platform)) ?? this.platforms[0];
    for (const p of this.platforms) this.writer.addImage({ manifest: p.manifest, names: p === tagged ? this.names : [], inIndex: true });
    this.writer.addIndex({ manifest: this.index, names: this.names });
  }
}
