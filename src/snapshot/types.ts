/**
 * Snapshots: how layers become filesystems.
 *
 * Lifecycle:
 *  1. `unpackLayer(diffId, open)` extracts a layer tar ONCE into a read-only layer dir
 *     (`<root>/layers/<hex>`), verifying that the uncompressed bytes hash to `diffId`.
 *     Every image and container that uses the layer shares that dir.
 *  2. `prepare(key, layers)` gives a container or build step its own writable view: an
 *     overlay of the layer dirs (top layer last in `layers`) with a fresh upperdir — the
 *     thin read-write layer — mounted at `rootfs`.
 *  3. `commit(key)` (build steps) streams the upperdir as a deterministic tar through
 *     sha256 (the new layer's diffID) without storing it, while the overlay detaches, and
 *     moves the upperdir into place as that layer's dir: no copy, no second extraction.
 *     The tar is made again, identically, when save or push needs it (image/layer-blob.ts).
 *     Leftovers go to `layers/tmp/rm-*` and are deleted by a detached `rm`.
 *  4. `remove(key)` unmounts and deletes the upperdir; the layers stay.
 */
import type { Readable } from 'node:stream';
import type { FileFill } from '../layer/index.ts';
import type { Digest } from '../oci/digest.ts';

export interface Mount {
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

export interface ActiveSnapshot {
  readonly key: string;
  /** Where the merged view is mounted: the container's rootfs. */
  readonly rootfs: string;
  readonly upperDir: string;
  readonly mounts: readonly Mount[];
}

export interface CommittedLayer {
  readonly diffId: Digest;
  readonly size: number;
}

export interface UnpackOptions {
  readonly signal?: AbortSignal;
  /**
   * Settles once the compressed blob the tar comes from is verified, when the two arrive
   * together (a pull extracting while it downloads): the layer dir is published only after
   * both its diffID and this check, and not at all if this rejects.
   */
  readonly gate?: Promise<unknown>;
  /** Extract on a worker thread (layer/apply-thread.ts): for big layers during a pull. */
  readonly offThread?: boolean;
}

export interface CommitOptions {
  /** Clamp mtimes to this (SOURCE_DATE_EPOCH). */
  readonly sourceDateEpoch?: number;
  readonly signal?: AbortSignal;
  /**
   * Big files the step is still copying into the rootfs (paths relative to it): the layer is
   * hashed while they copy, each read once its copy has ended (layer/file-chunks.ts).
   */
  readonly fills?: readonly FileFill[];
}

export interface PrepareOptions {
  readonly signal?: AbortSignal;
  readonly volatile?: boolean;
}

export interface SnapshotEntry {
  /** The snapshot key, or the temp entry's name. */
  readonly name: string;
  readonly path: string;
  /** Its last change (ms, ctime): a live lease covers what changed after it began. */
  readonly changedMs: number;
}

export interface Snapshotter {
  readonly driver: 'overlay' | 'native';
  /** Set by the engine: `hold()` is called before a snapshot, layer or temp dir is made (store/leases.ts). */
  lease: { hold(): void } | undefined;
  hasLayer(diffId: Digest): Promise<boolean>;
  layerPath(diffId: Digest): string;
  unpackLayer(diffId: Digest, open: () => Promise<Readable>, opts?: UnpackOptions): Promise<{ size: number }>;
  /**
   * `volatile`: the snapshot's writes need not reach the disk before it is committed (a build
   * step's): the overlay driver mounts it volatile, so that fsync inside the step and the
   * unmount skip the disk, and syncs the file system itself after the commit.
   */
  prepare(key: string, layers: readonly Digest[], opts?: PrepareOptions): Promise<ActiveSnapshot>;
  /** Mounts again (after a reboot or an explicit unmount). */
  mount(key: string, layers: readonly Digest[]): Promise<ActiveSnapshot>;
  unmount(key: string): Promise<void>;
  commit(key: string, opts?: CommitOptions): Promise<CommittedLayer>;
  remove(key: string): Promise<void>;
  removeLayer(diffId: Digest): Promise<void>;
  /** The first half of removeLayer: the dir goes into `layers/tmp/` at once; removeTemp(name) deletes it. */
  moveLayerAside(diffId: Digest): Promise<string | undefined>;
  listLayers(): Promise<Digest[]>;
  /** Snapshots under `active/` (containers', build steps', and any a crash left), for prune and check. */
  listSnapshots(): SnapshotEntry[];
  /** Entries of `layers/tmp/`: layers being unpacked, trees on their way out, and what crashes left. */
  listTemp(): SnapshotEntry[];
  /** Deletes a `layers/tmp/` entry (prune, once no live process owns it). */
  removeTemp(name: string): Promise<void>;
  /**
   * Removes what commits left to remove later (a snapshot's empty dirs): callers run it while
   * they wait anyway (a container runs, an image is fsynced); what is left goes at exit.
   */
  flushCleanup(): void;
  /**
   * Resolves once the work commits left running has ended (the overlay driver detaches a
   * committed snapshot after its commit returns); rejects with the first of it that failed.
   */
  settled(): Promise<void>;
  /**
   * Runs `fn` once the layers committed so far are on disk: the overlay driver's detach syncs
   * them. A record that names a layer (a cache entry, an image) is written only then, so that
   * no crash leaves one naming a layer whose files never reached the disk. At once when no
   * detach is running; a failure (of `fn` or of a detach, which skips it) is settled()'s.
   */
  whenSynced(fn: () => void): void;
}
