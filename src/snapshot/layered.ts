/**
 * What both drivers share: the layer dirs, the snapshot dirs under `active/`, the names and
 * listings of both, and the ordering of what a commit leaves behind (see types.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, errnoCode } from '../errors/index.ts';
import { hashLayer } from '../layer/index.ts';
import { isDigest, type Digest } from '../oci/digest.ts';
import { lstatOrUndefined } from '../sys/quiet-fs.ts';
import { entriesOf, LayerDirs, removeEmptyDirs } from './layer-dirs.ts';
import type { CleanupOptions, CommitOptions, CommittedLayer, SnapshotInfo, SnapshotListing, UnpackOptions } from './types.ts';

/** A tree up to this size (as a tar) is deleted in line: quicker than starting `rm`. */
const SMALL_TREE = 1 << 20;

/**
 * What both drivers share: the layer dirs under `<root>/layers` and the snapshot dirs under
 * `<root>/active`. A driver adds how a snapshot is made, mounted and committed.
 */
export abstract class LayeredSnapshotter {
  protected readonly layers: LayerDirs;
  protected readonly activeDir: string;

  get lease(): { hold(): void } | undefined {
    return this.layers.lease;
  }

  set lease(l: { hold(): void } | undefined) {
    this.layers.lease = l;
  }

  constructor(root: string) {
    this.layers = new LayerDirs(join(root, 'layers'));
    this.activeDir = join(root, 'active');
  }

  async init(): Promise<this> {
    await this.layers.init();
    mkdirSync(this.activeDir, { recursive: true, mode: 0o700 });
    return this;
  }

  /**
   * Layers committed by this process whose dirs are not published yet, by the upperdir that
   * holds each meanwhile: a layer dir is published only once its files are on disk, and the
   * sync runs on after its commit (OverlaySnapshotter.commit). Mounts read them from there.
   */
  protected readonly unpublished = new Map<Digest, string>();

  /**
   * The diffID and size of `upper` (a tree in overlay upperdir form) as a layer: its canonical
   * tar, hashed and never stored; a fill is read once its copy has ended.
   */
  protected async hashUpper(upper: string, opts: CommitOptions): Promise<CommittedLayer> {
    const fills = opts.fills?.length ? new Map(opts.fills.map((f) => [f.rel, f])) : undefined;
    return hashLayer(upper, { mode: 'overlay-upper', sourceDateEpoch: opts.sourceDateEpoch, signal: opts.signal, fills });
  }

  /** keepUpper, then dropSnapshotDir. */
  protected async keepLayer(layer: CommittedLayer, upper: string, dir: string): Promise<CommittedLayer> {
    await this.dropSnapshotDir(layer, dir, await this.keepUpper(layer, upper), false);
    return layer;
  }

  /**
   * Makes `upper` the dir of `layer` unless the store has that layer already (a --no-cache
   * rebuild makes the same one again). True when it was moved.
   */
  protected async keepUpper(layer: CommittedLayer, upper: string): Promise<boolean> {
    return !(await this.layers.has(layer.diffId)) && this.layers.publish(upper, layer.diffId);
  }

  /**
   * Removes what is left of the snapshot dir `dir` after its commit (the upperdir too unless
   * `moved`): moved aside and deleted in the background. `onlyUpper` says that `dir` holds
   * nothing big but the upperdir (the overlay's workdir and mount point): then, with the
   * upperdir published or small itself, it goes with the empty dirs later (removeLater),
   * sparing a step an `rm` process.
   */
  protected async dropSnapshotDir(layer: CommittedLayer, dir: string, moved: boolean, onlyUpper: boolean): Promise<void> {
    this.gone.add(dir);
    if (onlyUpper && (moved || layer.size <= SMALL_TREE)) return this.removeLater(dir);
    try {
      await this.layers.discard(dir);
    } finally {
      this.gone.delete(dir);
    }
  }

  /** Refuses a snapshot over a layer that is not unpacked (the store lost it, or was never given it). */
  protected async requireLayers(layers: readonly Digest[]): Promise<void> {
    for (const l of layers) {
      if (!existsSync(this.layerDir(l))) throw new BerthError('NOT_FOUND', `layer ${l} is not unpacked`, { hint: 'run `berth system check`' });
    }
  }

  unpackLayer(diffId: Digest, open: () => Promise<Readable>, opts?: UnpackOptions): Promise<{ size: number }> {
    return this.layers.unpack(diffId, open, opts);
  }

  async stat(name: string): Promise<SnapshotInfo | undefined> {
    if (isDigest(name)) {
      const path = this.layers.path(name);
      if (this.unpublished.has(name)) return { kind: 'layer', name, path, changedMs: Date.now() };
      const st = lstatOrUndefined(path);
      return st && { kind: 'layer', name, path, changedMs: Math.max(st.ctimeMs, st.mtimeMs) };
    }
    const path = join(this.activeDir, name);
    const st = snapshotKeyOk(name) && !this.gone.has(path) ? lstatOrUndefined(path) : undefined;
    return st && { kind: 'active', name, path, changedMs: Math.max(st.ctimeMs, st.mtimeMs) };
  }

  async walk(): Promise<SnapshotListing> {
    const now = Date.now();
    const layers = entriesOf(this.layers.root, 'layer')
      .filter((e) => isDigest(`sha256:${e.name}`))
      .map((e) => ({ ...e, name: `sha256:${e.name}` }));
    const listed = new Set(layers.map((l) => l.name));
    const pending = [...this.unpublished.keys()]
      .filter((d) => !listed.has(d))
      .map((d) => ({ kind: 'layer' as const, name: d, path: this.layers.path(d), changedMs: now }));
    const snapshots = entriesOf(this.activeDir, 'active').filter((e) => !this.gone.has(e.path));
    return { layers: [...layers, ...pending], snapshots, temp: this.layers.listTemp() };
  }

  /**
   * The dir that holds a layer's files now: its published dir, or the upperdir a commit left
   * it in until its files are on disk. Only readLayer and the drivers' own mounts use it.
   */
  protected layerDir(diffId: Digest): string {
    return this.unpublished.get(diffId) ?? this.layers.path(diffId);
  }

  /** Readers of unpublished layers, by layer: a layer is published only once none reads it. */
  private readonly readers = new Map<Digest, Set<Promise<unknown>>>();

  async readLayer<T>(diffId: Digest, read: (dir: string) => Promise<T>): Promise<T> {
    const dir = this.layerDir(diffId);
    if (!this.unpublished.has(diffId)) {
      if (!existsSync(dir)) throw new BerthError('NOT_FOUND', `layer ${diffId} is not unpacked`, { hint: 'run `berth system check`' });
      return read(dir);
    }
    const reading = read(dir);
    let set = this.readers.get(diffId);
    if (!set) this.readers.set(diffId, (set = new Set()));
    set.add(reading);
    try {
      return await reading;
    } finally {
      set.delete(reading);
      if (!set.size) this.readers.delete(diffId);
    }
  }

  /** Settles once nothing reads the unpublished layer `diffId` (see readLayer). */
  protected async unread(diffId: Digest): Promise<void> {
    for (let set = this.readers.get(diffId); set?.size; set = this.readers.get(diffId)) await Promise.allSettled([...set]);
  }

  /**
   * Snapshot dirs left to delete (see dropSnapshotDir): cleanup() deletes them, in line, when
   * its caller has time (a container runs, an image is fsynced); the exit deletes what is left.
   */
  private readonly leftovers: string[] = [];
  /** Layers removed whose trees wait in `tmp/` for cleanup() (or, at exit, a background rm). */
  private readonly aside: string[] = [];
  private readonly atExit = (): void => {
    this.removeLeftovers();
    for (const name of this.aside.splice(0)) spawn('rm', ['-rf', join(this.layers.root, 'tmp', name)], { detached: true, stdio: 'ignore' }).unref();
  };

  private watchExit(): void {
    if (!this.leftovers.length && !this.aside.length) process.once('exit', this.atExit);
  }

  /** Dirs of committed snapshots on their way out: no snapshot any more, and their keys free. */
  protected readonly gone = new Set<string>();

  /**
   * Makes the dir of a new snapshot, in one call, which is also the check that its key is
   * free: ALREADY_EXISTS when it is not. A committed snapshot's dir goes first (freeKey).
   */
  protected async claimKey(key: string, dir: string): Promise<void> {
    if (this.gone.has(dir)) await this.freeKey(dir);
    this.makeKeyDir(key, dir);
  }

  private async freeKey(dir: string): Promise<void> {
    // Its commit may still be detaching it: the dir goes once that has ended.
    if (!this.leftovers.includes(dir)) await this.pendingWork().catch(() => undefined);
    if (this.gone.delete(dir) && !removeEmptyDirs(dir)) rmSync(dir, { recursive: true, force: true });
  }

  /** claimKey's in-line part, for a key no commit left behind. */
  protected makeKeyDir(key: string, dir: string): void {
    if (!snapshotKeyOk(key)) throw new BerthError('INVALID_ARGUMENT', `not a snapshot key: ${key}`);
    try {
      mkdirSync(dir);
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') throw new BerthError('ALREADY_EXISTS', `snapshot ${key} already exists`);
      throw e;
    }
  }

  protected removeLater(dir: string): void {
    this.watchExit();
    this.leftovers.push(dir);
  }

  private removeLeftovers(): void {
    for (const dir of this.leftovers.splice(0)) {
      if (!this.gone.delete(dir)) continue; // a new snapshot took its key (claimKey)
      if (!removeEmptyDirs(dir)) rmSync(dir, { recursive: true, force: true });
    }
    if (!this.aside.length) process.removeListener('exit', this.atExit);
  }

  /** The work commits leave running (none here: see OverlaySnapshotter); its first failure. */
  protected async pendingWork(): Promise<void> {}

  durable(): Promise<void> {
    return this.pendingWork();
  }

  /** The leftovers go in line, before the first await: the caller goes on to what it waits for. */
  async cleanup(opts: CleanupOptions = {}): Promise<void> {
    this.removeLeftovers();
    const names = [...this.aside.splice(0), ...(opts.temp ?? [])];
    if (!this.leftovers.length && !this.aside.length) process.removeListener('exit', this.atExit);
    for (const name of names) await this.layers.removeTemp(name);
  }

  async remove(name: string): Promise<void> {
    if (!isDigest(name)) return this.removeSnapshot(name);
    // A layer just committed may still be the upperdir of an overlay on its way out.
    await this.pendingWork();
    const aside = this.layers.moveAside(name); // atomic disappearance first, slow delete after
    if (aside) {
      this.watchExit();
      this.aside.push(aside);
    }
  }

  protected abstract removeSnapshot(key: string): Promise<void>;
}

/** A snapshot key names one dir under `active/`. */
function snapshotKeyOk(key: string): boolean {
  return key !== '' && key !== '.' && key !== '..' && !key.includes('/');
}
