/**
 * The local store as an image source (save, push) and sink (load, pull). The sink verifies
 * every blob by digest as it lands, unpacks each layer once (checking its diffID against
 * the config), and only then records the image and its tags: a failed copy leaves no image.
 */
import { PassThrough, type Readable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import type { Digest } from '../oci/digest.ts';
import { imageConfigSchema, manifestSchema, type Descriptor, type Platform } from '../oci/schema.ts';
import type { ImageRecord } from '../store/images.ts';
import { ReaderStoppedError } from '../store/ranged.ts';
import { releaseBuffer } from '../layer/apply-thread.ts';
import type { ImageStores } from './stores.ts';
import { platformOf } from './image-index.ts';
import { hostPlatform, platformMatches } from '../oci/platform.ts';
import { openLayerBlob } from './layer-blob.ts';
import type { ImageSink, ImageSource, PutBlobOptions, RawManifest, TransferOptions } from './transfer.ts';
import { settings } from '../config/index.ts';

/** Blobs from this size up are fetched as parallel ranged parts (BERTH_RANGE_THRESHOLD). */
const RANGE_THRESHOLD = settings().rangeThreshold;
/** Layers from this (blob) size up are extracted on a worker thread (BERTH_THREAD_THRESHOLD). */
const THREAD_THRESHOLD = settings().layerThreadThreshold;

export class StoreImageSource implements ImageSource {
  readonly description: string;
  constructor(
    private readonly stores: Pick<ImageStores, 'content' | 'images' | 'snapshots'>,
    private readonly record: ImageRecord,
    description?: string,
  ) {
    this.description = description ?? record.id;
  }

  async rootManifest(): Promise<RawManifest> {
    return this.manifest(this.record.manifestDigest);
  }

  async manifest(digest: Digest): Promise<RawManifest> {
    const bytes = await this.stores.content.readBytes(digest);
    return { digest, bytes, mediaType: (JSON.parse(bytes.toString()) as { mediaType?: string }).mediaType ?? this.record.manifestMediaType };
  }

  async openBlob(desc: Descriptor, opts: { start?: number } = {}): Promise<Readable> {
    return openLayerBlob(this.stores, desc.digest, { start: opts.start });
  }
}

export interface StoreSinkOptions {
  /** Full normalized names to tag the image with (e.g. docker.io/library/bb:1). */
  readonly tags?: readonly string[];
  /** Repository (full name, no tag) whose manifest digest becomes a RepoDigest. */
  readonly repository?: string;
}

/** A layer being extracted from a download in progress (StoreImageSink.unpackAlongside). */
interface Unpacking {
  readonly input: PassThrough;
  readonly done: Promise<{ size: number }>;
  settle(e?: unknown): void;
}

export class StoreImageSink implements ImageSink {
  readonly description = 'local store';
  readonly written: ImageRecord[] = [];
  private index: RawManifest | undefined;

  constructor(
    private readonly stores: ImageStores,
    private readonly opts: StoreSinkOptions = {},
  ) {}

  private readonly diffIds = new Map<Digest, Digest>();

  async expectLayers(config: Descriptor, layers: readonly Descriptor[]): Promise<void> {
    const doc = JSON.parse((await this.stores.content.readBytes(config.digest)).toString()) as { rootfs?: { diff_ids?: Digest[] } };
    const diffIds = doc.rootfs?.diff_ids ?? [];
    // Named before any is looked for: a prune from now on keeps the layers this copy may find.
    this.stores.lease.add('layer', diffIds);
    this.stores.lease.add(
      'blob',
      layers.map((l) => l.digest),
    );
    for (const [i, l] of layers.entries()) if (diffIds[i]) this.diffIds.set(l.digest, diffIds[i]!);
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    this.stores.lease.add('blob', [desc.digest]); // before the look: a prune keeps what is found
    return this.stores.content.has(desc.digest);
  }

  /**
   * Resumable: bytes of an interrupted transfer are kept by digest and continued from. A big
   * blob from a source that serves ranges comes as parallel parts (store/ranged.ts). A layer
   * the store lacks is unpacked while it downloads, either way.
   */
  async putBlob(desc: Descriptor, open: (start?: number) => Promise<Readable>, opts: PutBlobOptions = {}): Promise<void> {
    this.stores.lease.add('blob', [desc.digest]);
    if (await this.stores.content.has(desc.digest)) return;
    const diffId = this.diffIds.get(desc.digest);
    const unpackHere = diffId !== undefined && !(await this.stores.snapshots.stat(diffId));
    if (opts.openRange && desc.size >= RANGE_THRESHOLD) {
      const unpack = unpackHere ? this.unpackAlongside(diffId, desc.size, opts) : undefined;
      const stored = await this.verifying(
        () => unpack,
        () => this.stores.content.putRanged(desc.digest, desc.size, opts.openRange!, { signal: opts.signal, inOrder: unpack?.input, release: releaseBuffer }),
      );
      if (stored) return;
    }
    if (!unpackHere) {
      await this.stores.content.putResumable(desc.digest, desc.size, open, { signal: opts.signal });
      return;
    }
    // One stream, two readers: the content store and the extraction. A download that resumes
    // from a partial file is stored first, and putManifest unpacks it from the store.
    let unpack: Unpacking | undefined;
    const teeOpen = async (start?: number): Promise<Readable> => {
      const src = await open(start);
      if (start || unpack) return src;
      unpack = this.unpackAlongside(diffId, desc.size, opts);
      src.on('error', (e) => unpack!.input.destroy(e));
      src.pipe(unpack.input); // pipe() pauses the source while the extraction is behind
      return src;
    };
    await this.verifying(
      () => unpack,
      () => this.stores.content.putResumable(desc.digest, desc.size, teeOpen, { signal: opts.signal }),
    );
  }

  /**
   * An extraction fed by a download as it goes. Its layer dir is published only once the blob
   * has been verified by digest (the gate), and only when its diffID matches.
   */
  private unpackAlongside(diffId: Digest, blobSize: number, opts: TransferOptions): Unpacking {
    let settle!: (e?: unknown) => void;
    const gate = new Promise<void>((resolve, reject) => (settle = (e) => (e ? reject(e) : resolve())));
    gate.catch(() => undefined);
    const input = new PassThrough({ highWaterMark: 1 << 20 });
    // The download can fail before the extraction reads this (it makes its dir first); the
    // extraction still gets the error from the stream, and the process does not die of it.
    input.on('error', () => undefined);
    // Recorded at once, so that putManifest finds the layer unpacked and does not extract it again.
    const done = this.stores.snapshots
      .unpackLayer(diffId, async () => input, { signal: opts.signal, gate, offThread: blobSize >= THREAD_THRESHOLD })
      .then((r) => {
        this.stores.images.putLayer(diffId, r.size);
        return r;
      });
    done.catch(() => undefined);
    return { input, done, settle };
  }

  /**
   * Runs a download that feeds the extraction `current()` names (made once the download has
   * started, if at all), then opens or shuts its gate. Undefined from the download (a source
   * without ranges) stops that extraction: another one will follow.
   */
  private async verifying<T>(current: () => Unpacking | undefined, download: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await download();
    } catch (e) {
      current()?.input.destroy(e as Error);
      current()?.settle(e);
      // An extraction that failed on its own (a hostile tar, say) stopped reading and so
      // stopped the download: its error is the one that says what went wrong.
      const own = await current()?.done.then(
        () => undefined,
        (x: unknown) => x,
      );
      throw own !== undefined && e instanceof ReaderStoppedError ? own : e;
    }
    const u = current();
    if (!u) return result;
    // Undefined: the source serves no ranges. Found: another process stored the blob while
    // this one waited for its partial download, and the extraction was fed nothing.
    if (result === undefined || (result as { found?: boolean }).found) {
      const stop = new BerthError('UNAVAILABLE', result === undefined ? 'the source does not serve ranges' : 'the blob was stored by another process');
      u.input.destroy(stop);
      u.settle(stop);
      await u.done.catch(() => undefined);
      return result;
    }
    if (!u.input.writableEnded) u.input.end(); // a piped source has ended it already
    u.settle();
    await u.done;
    return result;
  }

  async putManifest(raw: RawManifest, opts: TransferOptions & { platform?: Platform } = {}): Promise<void> {
    const doc = JSON.parse(raw.bytes.toString()) as { manifests?: unknown };
    this.stores.lease.add('blob', [raw.digest]);
    await this.stores.content.put(raw.bytes, { expected: raw.digest });
    if (doc.manifests) {
      this.index = raw; // an index: its images were written before it (finish records it)
      return;
    }
    const manifest = manifestSchema.parse(doc);
    const config = imageConfigSchema.parse(JSON.parse((await this.stores.content.readBytes(manifest.config.digest)).toString()));
    const diffIds = config.rootfs.diff_ids;
    this.stores.lease.add('layer', diffIds);
    if (diffIds.length !== manifest.layers.length) {
      throw new BerthError(
        'DATA_CORRUPT',
        `image ${manifest.config.digest} lists ${manifest.layers.length} layers but its config has ${diffIds.length} diffIDs`,
      );
    }
    let size = 0;
    for (const [i, layer] of manifest.layers.entries()) {
      const diffId = diffIds[i]!;
      let layerSize = this.stores.images.layerSize(diffId);
      if (layerSize === undefined || !(await this.stores.snapshots.stat(diffId))) {
        ({ size: layerSize } = await this.stores.snapshots.unpackLayer(diffId, () => this.stores.content.open(layer.digest), {
          signal: opts.signal,
          offThread: layer.size >= THREAD_THRESHOLD,
        }));
      }
      this.stores.images.putLayer(diffId, layerSize, { digest: layer.digest, mediaType: layer.mediaType, size: layer.size });
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
    // The repository's digest is the root's (of an index, not this platform's manifest), as docker records it: finish().
    this.stores.images.put(record, this.opts.tags ?? []);
    this.written.push(record);
  }

  /** Once finished: the image the copy's root names here (of a whole index, the host's platform). */
  named: ImageRecord | undefined;

  async finish(root: RawManifest): Promise<void> {
    // Every platform of an index came: the tags (or, pulled by its digest, the digest) hold the multi-platform image.
    const whole = !!this.index && this.index.digest === root.digest && this.written.length > 0;
    const tagged = this.written.find((r) => platformMatches(hostPlatform(), platformOf(r))) ?? this.written[0];
    if (whole && tagged) {
      const children = this.written.map((r) => r.id);
      for (const t of this.opts.tags ?? []) this.stores.images.putIndex(t, root.digest, tagged.id, children);
      if (!this.opts.tags?.length && this.opts.repository) this.stores.images.putDigestIndex(`${this.opts.repository}@${root.digest}`, root.digest, children);
    }
    // The root's digest at the repository names the image that runs here: of an index, the host's child.
    const named = whole ? tagged : this.written.at(-1);
    this.named = named;
    if (named && this.opts.repository) {
      this.stores.images.put(named, [], [{ repository: this.opts.repository, digest: root.digest }]);
    }
  }
}
