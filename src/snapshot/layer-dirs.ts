/**
 * The layer dirs both drivers share: `<root>/<diffID hex>`, each a layer unpacked once in
 * overlay form and never changed after; `tmp/` for unpacking and for trees on their way out.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, errnoCode } from '../errors/index.ts';
import { applyLayer, applyLayerOffThread, hashLayer } from '../layer/index.ts';
import { digestHex, isDigest, type Digest } from '../oci/digest.ts';
import { randomHex } from '../sys/crypto.ts';
import { lstatOrUndefined } from '../sys/quiet-fs.ts';
import type { CommitOptions, CommittedLayer, SnapshotEntry, UnpackOptions } from './types.ts';

/**
 * Removes `dir` if it holds only (empty) dirs, as an overlay snapshot's does once its upperdir
 * is gone: a handful of rmdir calls in line, where fs.rm's async walk makes a round trip per entry.
 * False (and `dir` left as it was, or partly emptied) when something else is in it.
 */
function removeEmptyDirs(dir: string): boolean {
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || !removeEmptyDirs(join(dir, e.name))) return false;
    }
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/**
 * Snapshot dirs to remove when a caller has time: those left with nothing but empty dirs
 * (seven directory calls each, that a step would otherwise wait for), and small
 * upperdirs whose layer was stored already. Whatever is left goes when the process exits.
 */
const later: string[] = [];

function removeLater(dir: string): void {
  if (!later.length) process.once('exit', flushRemovals);
  later.push(dir);
}

function flushRemovals(): void {
  if (!later.length) return;
  process.removeListener('exit', flushRemovals);
  for (const dir of later.splice(0)) {
    if (!removeEmptyDirs(dir)) rmSync(dir, { recursive: true, force: true });
  }
}

/** A tree up to this size (as a tar) is deleted in line: quicker than starting `rm`. */
const SMALL_TREE = 1 << 20;

export class LayerDirs {
  /** See Snapshotter.lease. */
  lease: { hold(): void } | undefined;

  constructor(readonly root: string) {}

  async init(): Promise<void> {
    // tmp first: it makes the layers dir 0700 (store/private-root.ts). `empty` is the lowerdir
    // of an image with no layers, the container's `/`: 0755, as docker's.
    mkdirSync(join(this.root, 'tmp'), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.root, 'empty'), { recursive: true });
  }

  path(diffId: Digest): string {
    return join(this.root, digestHex(diffId));
  }

  has(diffId: Digest): Promise<boolean> {
    return this.exists(this.path(diffId));
  }

  /**
   * Whether `p` exists. Synchronous, as publish's rename: a metadata call on the local disk
   * takes microseconds, and a trip through the thread pool costs a step more than that.
   */
  async exists(p: string): Promise<boolean> {
    return existsSync(p);
  }

  /** Extracts a layer tar once, verifying that its bytes hash to `diffId` before it is published. */
  async unpack(diffId: Digest, open: () => Promise<Readable>, opts: UnpackOptions = {}): Promise<{ size: number }> {
    this.lease?.hold();
    const tmp = join(this.root, 'tmp', `${digestHex(diffId).slice(0, 12)}-${randomHex(6)}`);
    await mkdir(tmp, { recursive: true });
    try {
      const got = await (opts.offThread ? applyLayerOffThread : applyLayer)(await open(), tmp, { whiteouts: 'overlay', signal: opts.signal });
      if (got.diffId !== diffId) {
        throw new BerthError('DATA_CORRUPT', `layer content does not match its diffID: expected ${diffId}, got ${got.diffId}`);
      }
      await opts.gate;
      this.publish(tmp, diffId);
      return { size: got.size };
    } finally {
      // Published, it is gone; failed, a partial tree (up to a whole layer) goes in the
      // background, so the error is reported without waiting for the delete.
      await this.discard(tmp);
    }
  }

  /**
   * Renames a finished dir into place, in the caller's tick (one call); losing a race to an
   * identical dir is fine (false: `from` stays).
   */
  publish(from: string, diffId: Digest): boolean {
    try {
      renameSync(from, this.path(diffId));
      return true;
    } catch (e) {
      const code = errnoCode(e);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      return false;
    }
  }

  /** Makes the layer dirs' names durable (an fsync of the dir that holds them). */
  async syncNames(): Promise<void> {
    const fh = await open(this.root, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** Moves a dir out of the way (atomic) and deletes it in the background. */
  async discard(dir: string): Promise<void> {
    const trash = join(this.root, 'tmp', `rm-${randomHex(6)}`);
    try {
      await rename(dir, trash);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return;
      await rm(dir, { recursive: true, force: true });
      return;
    }
    spawn('rm', ['-rf', trash], { detached: true, stdio: 'ignore' }).unref();
  }

  async remove(diffId: Digest): Promise<void> {
    const name = this.moveAside(diffId); // atomic disappearance first, slow delete after
    if (name) await this.removeTemp(name);
  }

  /** Renames a layer dir into `tmp/` (one call, in line); the name there, or undefined when it was not there. */
  moveAside(diffId: Digest): string | undefined {
    const name = `rm-${randomHex(6)}`;
    try {
      renameSync(this.path(diffId), join(this.root, 'tmp', name));
      return name;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  async list(): Promise<Digest[]> {
    return (await readdir(this.root)).map((n) => `sha256:${n}`).filter(isDigest);
  }

  /** The entries of `tmp/`. */
  listTemp(): SnapshotEntry[] {
    return entriesOf(join(this.root, 'tmp'));
  }

  async removeTemp(name: string): Promise<void> {
    if (name.includes('/') || name === '..' || name === '.') throw new BerthError('INVALID_ARGUMENT', `not a temp entry: ${name}`);
    await rm(join(this.root, 'tmp', name), { recursive: true, force: true });
  }
}

/** The entries of `dir` with their ctime; one that goes while listed is left out. */
export function entriesOf(dir: string): SnapshotEntry[] {
  const out: SnapshotEntry[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    const st = lstatOrUndefined(path);
    if (st) out.push({ name, path, changedMs: Math.max(st.ctimeMs, st.mtimeMs) });
  }
  return out;
}

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

  layerPath(diffId: Digest): string {
    return this.unpublished.get(diffId) ?? this.layers.path(diffId);
  }

  hasLayer(diffId: Digest): Promise<boolean> {
    return this.unpublished.has(diffId) ? Promise.resolve(true) : this.layers.has(diffId);
  }

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
   * upperdir published or small itself, it goes with the empty dirs later, sparing a step an
   * `rm` process.
   */
  protected async dropSnapshotDir(layer: CommittedLayer, dir: string, moved: boolean, onlyUpper: boolean): Promise<void> {
    if (onlyUpper && (moved || layer.size <= SMALL_TREE)) removeLater(dir);
    else await this.layers.discard(dir);
  }

  /** See Snapshotter.settled: a driver whose commits leave nothing running has nothing to wait for. */
  async settled(): Promise<void> {}

  /** See Snapshotter.whenSynced: nothing runs on after a commit here. */
  whenSynced(fn: () => void): void {
    fn();
  }

  /** See Snapshotter.flushCleanup: removes the snapshot dirs commits left for later. */
  flushCleanup(): void {
    flushRemovals();
  }

  /** Refuses a snapshot over a layer that is not unpacked (the store lost it, or was never given it). */
  protected async requireLayers(layers: readonly Digest[]): Promise<void> {
    for (const l of layers) {
      if (!existsSync(this.layerPath(l))) throw new BerthError('NOT_FOUND', `layer ${l} is not unpacked`, { hint: 'run `berth system check`' });
    }
  }

  unpackLayer(diffId: Digest, open: () => Promise<Readable>, opts?: UnpackOptions): Promise<{ size: number }> {
    return this.layers.unpack(diffId, open, opts);
  }

  async removeLayer(diffId: Digest): Promise<void> {
    await this.settled(); // a layer just committed may still be the upperdir of an overlay on its way out
    return this.layers.remove(diffId);
  }

  async moveLayerAside(diffId: Digest): Promise<string | undefined> {
    await this.settled();
    return this.layers.moveAside(diffId);
  }

  listLayers(): Promise<Digest[]> {
    return this.layers.list();
  }

  listSnapshots(): SnapshotEntry[] {
    return entriesOf(this.activeDir);
  }

  listTemp(): SnapshotEntry[] {
    return this.layers.listTemp();
  }

  removeTemp(name: string): Promise<void> {
    return this.layers.removeTemp(name);
  }
}
