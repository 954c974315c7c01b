/**
 * The one contract every image transport speaks. Pull, push, save and load are all
 * `copyImage(source, sink)` (see copy.ts): the registry, docker-archive, OCI layout
 * and the local store each implement one or both sides.
 *
 * Sources hand out re-openable blobs (a fresh stream per call). Sinks verify every blob
 * against its descriptor before it becomes visible.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.ts';
import type { Descriptor, Platform } from '../oci/schema.ts';
import type { ProgressEvent } from '../progress/transfer-events.ts';
import type { RangeOpener } from '../store/ranged.ts';

export interface RawManifest {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly bytes: Buffer;
}

export interface TransferOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (ev: ProgressEvent) => void;
}

export type { ProgressEvent } from '../progress/transfer-events.ts';

export interface ImageSource {
  /** What the source calls itself in messages, e.g. `127.0.0.1:5000/app:1`. */
  readonly description: string;
  /** The top manifest (or index) the source was opened at. */
  rootManifest(opts?: TransferOptions): Promise<RawManifest>;
  /** A manifest by digest, e.g. a platform entry of an index. */
  manifest(digest: Digest, opts?: TransferOptions): Promise<RawManifest>;
  /** A fresh stream of a blob (config or layer), from byte `start` on. Not verified: the sink verifies. */
  openBlob(desc: Descriptor, opts?: TransferOptions & { start?: number }): Promise<Readable>;
  /** Bytes `start`..`end` (inclusive) of a blob, for parallel parts; 'unsupported' when the source cannot. */
  openBlobRange?(desc: Descriptor, start: number, end: number, opts?: TransferOptions): Promise<Readable | 'unsupported'>;
}

/** What a sink may use besides `open(start)`: ranged parts, when the source serves them. */
export interface PutBlobOptions extends TransferOptions {
  readonly openRange?: RangeOpener;
}

export interface ImageSink {
  readonly description: string;
  /** Layer media types the sink accepts as they are; others are converted by copyImage. */
  hasBlob(desc: Descriptor, opts?: TransferOptions): Promise<boolean>;
  /** Stores a blob, verifying size and digest. `open(start)` resumes from a byte offset. */
  /** 'mounted': the sink took the blob from elsewhere (a registry's cross-repository mount), not from `open`. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a sink that stores the blob returns nothing, as its implementations' async bodies do
  putBlob(desc: Descriptor, open: (start?: number) => Promise<Readable>, opts?: PutBlobOptions): Promise<void | 'mounted'>;
  /**
   * Called once an image's config blob is in and before its layers are sent: a sink that
   * unpacks layers reads their diffIDs from it, so it can unpack them while they download.
   */
  expectLayers?(config: Descriptor, layers: readonly Descriptor[]): Promise<void>;
  /** Writes a manifest once all of its blobs are in. `tag` names it at the sink. */
  putManifest(manifest: RawManifest, opts?: TransferOptions & { platform?: Platform }): Promise<void>;
  /** Called once after the top manifest is written. */
  finish?(root: RawManifest, opts?: TransferOptions): Promise<void>;
}
