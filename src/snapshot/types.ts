/**
 * Snapshots: how layers become filesystems (after containerd's `Snapshotter`).
 *
 * Names: a layer is a committed snapshot, named by its diffID; an active snapshot (a
 * container's, a build step's) or a view is named by the key its maker chose.
 *
 * Lifecycle:
 *  1. `unpackLayer(diffId, open)` extracts a layer tar ONCE into a read-only layer, verifying
 *     that the uncompressed bytes hash to `diffId`; nothing is published when they do not.
 *     Every image and container that uses the layer shares it.
 *  2. `prepare(key, parents)` gives a container or build step its own writable snapshot: the
 *     layers (bottom first) merged under a fresh, empty read-write layer, at `rootfs`.
 *     `view(key, parents)` is the same, read-only (COPY --from reads a stage through one).
 *  3. `commit(key)` turns the snapshot's changes into a layer and returns its diffID and size;
 *     the snapshot is gone after it. The layer can be a parent at once.
 *  4. `remove(name)` deletes a snapshot (its layers stay), or a layer.
 *
 * Ordering the driver keeps to itself: a layer is published under its name only once its
 * files are on disk, and until then is read from where its commit left it; `durable()` says
 * when the layers committed so far are on disk, and a record that names a layer (a cache
 * entry, an image) is written only after it, so that no crash leaves a record naming a layer
 * whose files never reached the disk. What a commit leaves to delete goes while the process
 * waits in `durable()`, in `cleanup()`, or at exit.
 */
import type { Readable } from 'node:stream';
import type { FileFill } from '../layer/index.ts';
import type { Digest } from '../oci/digest.ts';

/** One mount, as a runtime would make it (containerd's `mount.Mount`). */
export interface Mount {
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

/** An active snapshot or view, as plain data: stays true until the snapshot is removed. */
export interface ActiveSnapshot {
  readonly key: string;
  /** Where the merged view is mounted: the container's rootfs. */
  readonly rootfs: string;
  /** Where the snapshot's own writes land (the rootfs itself for a copying driver). */
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
   * together (a pull extracting while it downloads): the layer is published only after both
   * its diffID and this check, and not at all if this rejects.
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
  /**
   * The snapshot's writes need not reach the disk before it is committed (a build step's):
   * the overlay driver mounts it volatile, so that fsync inside the step and the unmount skip
   * the disk, and syncs the file system itself before the layer is published.
   */
  readonly volatile?: boolean;
}

/** What `stat` and `walk` report of a layer, a snapshot, or a temp entry. */
export interface SnapshotInfo {
  readonly kind: 'layer' | 'active' | 'view' | 'temp';
  /** The diffID of a layer, the key of a snapshot, the name of a temp entry. */
  readonly name: string;
  /**
   * Where it lives on disk (for a layer, where it is published: `GraphDriver` data, lease
   * checks). Read a layer's files through `readLayer`, not from here.
   */
  readonly path: string;
  /** Its last change (ms, ctime): a live lease covers what changed after it began. */
  readonly changedMs: number;
}

export interface SnapshotListing {
  readonly layers: readonly SnapshotInfo[];
  /** Snapshots and views (containers', build steps', and any a crash left). */
  readonly snapshots: readonly SnapshotInfo[];
  /** Layers being unpacked, trees on their way out, and what crashes left. */
  readonly temp: readonly SnapshotInfo[];
}

export interface CleanupOptions {
  /** Temp entries (by `walk().temp` name) to delete as well: prune's, once no live process owns them. */
  readonly temp?: readonly string[];
}

export interface Snapshotter {
  readonly driver: 'overlay' | 'native';
  /** Set by the engine: `hold()` is called before a snapshot, layer or temp dir is made (store/leases.ts). */
  lease: { hold(): void } | undefined;
  unpackLayer(diffId: Digest, open: () => Promise<Readable>, opts?: UnpackOptions): Promise<{ size: number }>;
  /** A writable snapshot over `parents` (layers, bottom first). ALREADY_EXISTS for a key in use, NOT_FOUND for a missing parent. */
  prepare(key: string, parents: readonly Digest[], opts?: PrepareOptions): Promise<ActiveSnapshot>;
  /** A read-only snapshot over `parents`; removed with `remove`, never committed. */
  view(key: string, parents: readonly Digest[], opts?: { signal?: AbortSignal }): Promise<ActiveSnapshot>;
  /** Mounts a prepared snapshot again if it is not (after a reboot or an unmount); its mounts. */
  mount(key: string, parents: readonly Digest[]): Promise<ActiveSnapshot>;
  /** Takes the snapshot's rootfs down; its writes stay for the next mount. */
  unmount(key: string): Promise<void>;
  commit(key: string, opts?: CommitOptions): Promise<CommittedLayer>;
  /** Deletes a snapshot or view (its parents stay), or a layer (a diffID: gone at once, its files go in the background). */
  remove(name: string): Promise<void>;
  /** A layer (by diffID) or a snapshot (by key) as it is now; undefined when there is none. */
  stat(name: string): Promise<SnapshotInfo | undefined>;
  walk(): Promise<SnapshotListing>;
  /** Runs `read` on the dir that holds the layer's files (in overlay form), which stays put until it settles. */
  readLayer<T>(diffId: Digest, read: (dir: string) => Promise<T>): Promise<T>;
  /**
   * Resolves once the layers committed so far are on disk; rejects with the first failure of
   * the work a commit left running (a detach, a sync). Write a record naming a layer after it.
   */
  durable(): Promise<void>;
  /** Deletes what commits and removals left behind, and the temp entries named; waits for it. */
  cleanup(opts?: CleanupOptions): Promise<void>;
}
