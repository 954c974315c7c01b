/**
 * The local store as an image source (save, push) and sink (load, pull). The sink verifies
 * every blob by digest as it lands, unpacks each layer once (checking its diffID against
 * the config), and only then records the image and its tags: a failed copy leaves no image.
 */
import { PassThrough, type Readable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import type { Engine } from '../engine.ts';
import type { Digest } from '../oci/digest.ts';
import { imageConfigSchema, manifestSchema, type Descriptor, type Platform } from '../oci/schema.ts';
import type { ImageRecord } from '../store/images.ts';
import { mark } from '../progress/timing.ts';
import { openLayerBlob } from './layer-blob.ts';
import type { ImageSink, ImageSource, PutBlobOptions, RawManifest, TransferOptions } from './transfer.ts';

/** Blobs from this size up are fetched as parallel ranged parts (BERTH_RANGE_THRESHOLD). */
const RANGE_THRESHOLD = Number(process.env.BERTH_RANGE_THRESHOLD ?? 64 << 20);

export class StoreImageSource implements ImageSource {
  readonly description: string;
  constructor(
    private readonly engine: Engine,
    private readonly record: ImageRecord,
    description?: string,
  ) {
    this.description = description ?? record.id;
  }

  async rootManifest(): Promise<RawManifest> {
    return this.manifest(this.record.manifestDigest);
  }

  async manifest(digest: Digest): Promise<RawManifest> {
    const bytes = await this.engine.content.readBytes(digest);
    return { digest, bytes, mediaType: (JSON.parse(bytes.toString()) as { mediaType?: string }).mediaType ?? this.record.manifestMediaType };
  }

  async openBlob(desc: Descriptor, opts: { start?: number } = {}): Promise<Readable> {
    return openLayerBlob(this.engine, desc.digest, { start: opts.start });
  }
}

export interface StoreSinkOptions {
  /** Full normalized names to tag the image with (e.g. docker.io/library/bb:1). */
  readonly tags?: readonly string[];
  /** Repository (full name, no tag) whose manifest digest becomes a RepoDigest. */
  readonly repository?: string;
}

export class StoreImageSink implements ImageSink {
  readonly description = 'local store';
  readonly written: ImageRecord[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly opts: StoreSinkOptions = {},
  ) {}

  private readonly diffIds = new Map<Digest, Digest>();

  async expectLayers(config: Descriptor, layers: readonly Descriptor[]): Promise<void> {
    const doc = JSON.parse((await this.engine.content.readBytes(config.digest)).toString()) as { rootfs?: { diff_ids?: Digest[] } };
    const diffIds = doc.rootfs?.diff_ids ?? [];
    for (const [i, l] of layers.entries()) if (diffIds[i]) this.diffIds.set(l.digest, diffIds[i]!);
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.engine.content.has(desc.digest);
  }

  /**
   * Resumable: bytes of an interrupted transfer are kept by digest and continued from. A big
   * blob from a source that serves ranges comes as parallel parts (store/ranged.ts).
   */
  async putBlob(desc: Descriptor, open: (start?: number) => Promise<Readable>, opts: PutBlobOptions = {}): Promise<void> {
    if (opts.openRange && desc.size >= RANGE_THRESHOLD) {
      const stored = await this.engine.content.putRanged(desc.digest, desc.size, opts.openRange, { signal: opts.signal });
      mark(`ranged download of ${desc.digest.slice(7, 19)} done`);
      if (stored) return;
    }
    const diffId = this.diffIds.get(desc.digest);
    if (!diffId || (await this.engine.snapshots.hasLayer(diffId))) {
      await this.engine.content.putResumable(desc.digest, desc.size, open, { signal: opts.signal });
      return;
    }
    await this.downloadAndUnpack(desc, diffId, open, opts);
  }

  /**
   * A layer unpacked while it downloads: the one stream feeds the content store and the
   * extraction at once. The layer dir is published only when its diffID matches and the blob
   * has been verified by digest. A download that resumes from a partial file unpacks after.
   */
  private async downloadAndUnpack(desc: Descriptor, diffId: Digest, open: (start?: number) => Promise<Readable>, opts: TransferOptions): Promise<void> {
    let blobDone!: (e?: unknown) => void;
    const verified = new Promise<void>((resolve, reject) => (blobDone = (e) => (e ? reject(e) : resolve())));
    verified.catch(() => undefined);
    let unpacking: Promise<unknown> | undefined;
    const teeOpen = async (start?: number): Promise<Readable> => {
      const src = await open(start);
      if (start || unpacking) return src; // a resume: the extraction waits for the whole blob
      // One stream, two readers; pipe() pauses the source while either is full.
      const toUnpack = new PassThrough({ highWaterMark: 1 << 20 });
      const toStore = new PassThrough({ highWaterMark: 1 << 20 });
      src.on('error', (e) => (toUnpack.destroy(e), toStore.destroy(e)));
      src.pipe(toUnpack);
      src.pipe(toStore);
      unpacking = this.engine.snapshots.unpackLayer(diffId, async () => toUnpack, { signal: opts.signal, gate: verified });
      unpacking.catch(() => undefined);
      return toStore;
    };
    try {
      await this.engine.content.putResumable(desc.digest, desc.size, teeOpen, { signal: opts.signal });
      blobDone();
    } catch (e) {
      blobDone(e);
      throw e;
    }
    await unpacking; // undefined after a resume: putManifest unpacks from the stored blob
  }

  async putManifest(raw: RawManifest, opts: TransferOptions & { platform?: Platform } = {}): Promise<void> {
    const doc = JSON.parse(raw.bytes.toString()) as { manifests?: unknown };
    await this.engine.content.put(raw.bytes, { expected: raw.digest });
    if (doc.manifests) return; // an index: its images were written before it
    const manifest = manifestSchema.parse(doc);
    const config = imageConfigSchema.parse(JSON.parse((await this.engine.content.readBytes(manifest.config.digest)).toString()));
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new BerthError('DATA_CORRUPT', `image ${manifest.config.digest} lists ${manifest.layers.length} layers but its config has ${diffIds.length} diffIDs`);
    }
    let size = 0;
    for (const [i, layer] of manifest.layers.entries()) {
      const diffId = diffIds[i]!;
      let layerSize = this.engine.images.layerSize(diffId);
      if (layerSize === undefined || !(await this.engine.snapshots.hasLayer(diffId))) {
        ({ size: layerSize } = await this.engine.snapshots.unpackLayer(diffId, () => this.engine.content.open(layer.digest), { signal: opts.signal }));
      }
      this.engine.images.putLayer(diffId, layerSize, { digest: layer.digest, mediaType: layer.mediaType, size: layer.size });
      size += layerSize;
    }
    const record: ImageRecord = {
      id: manifest.config.digest,
      manifestDigest: raw.digest,
      manifestMediaType: raw.mediaType,
      created: config.created,
      size,
      os: config.os,
      architecture: config.architecture,
      variant: config.variant,
      addedAt: Date.now(),
    };
    const repoDigests = this.opts.repository ? [{ repository: this.opts.repository, digest: raw.digest }] : [];
    this.engine.images.put(record, this.opts.tags ?? [], repoDigests);
    this.written.push(record);
  }

  async finish(root: RawManifest): Promise<void> {
    const last = this.written.at(-1);
    if (last && this.opts.repository && root.digest !== last.manifestDigest) {
      this.engine.images.put(last, [], [{ repository: this.opts.repository, digest: root.digest }]);
    }
  }
}
