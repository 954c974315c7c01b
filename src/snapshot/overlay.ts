import { mkdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { digestHex, type Digest } from '../oci/digest.ts';
import { detachMount, mountOverlay, syncFileSystem } from '../sys/mount.ts';
import { LayeredSnapshotter } from './layered.ts';
import type { ActiveSnapshot, CommitOptions, CommittedLayer, PrepareOptions, Snapshotter } from './types.ts';

/** The overlay driver: kernel overlayfs over per-layer dirs. See types.ts for the lifecycle. */
export class OverlaySnapshotter extends LayeredSnapshotter implements Snapshotter {
  readonly driver = 'overlay' as const;

  private paths(key: string) {
    const dir = join(this.activeDir, key);
    return { dir, upper: join(dir, 'upper'), work: join(dir, 'work'), merged: join(dir, 'merged') };
  }

  /** Snapshots prepared `volatile`, and whether each got a volatile overlay (see mount). */
  private readonly volatile = new Map<string, boolean>();
  /** False once the kernel has refused a volatile overlay (it came in Linux 5.10). */
  private volatileWorks = true;

  /** Views: their overlays are mounted read-only. */
  private readonly readOnly = new Set<string>();

  async view(key: string, layers: readonly Digest[]): Promise<ActiveSnapshot> {
    this.readOnly.add(key);
    try {
      return await this.prepare(key, layers);
    } catch (e) {
      this.readOnly.delete(key);
      throw e;
    }
  }

  async prepare(key: string, layers: readonly Digest[], opts: PrepareOptions = {}): Promise<ActiveSnapshot> {
    this.lease?.hold();
    const p = this.paths(key);
    // Four mkdirs in line, quicker than four trips through the thread pool; the first one
    // is also the check that the key is new (the active dir exists from init).
    if (this.gone.has(p.dir)) await this.claimKey(key, p.dir);
    else this.makeKeyDir(key, p.dir);
    for (const d of [p.upper, p.work, p.merged]) mkdirSync(d);
    if (opts.volatile) this.volatile.set(key, false);
    try {
      return await this.mount(key, layers);
    } catch (e) {
      this.volatile.delete(key);
      await rm(p.dir, { recursive: true, force: true });
      throw e;
    }
  }

  async mount(key: string, layers: readonly Digest[]): Promise<ActiveSnapshot> {
    const p = this.paths(key);
    await this.requireLayers(layers);
    await this.detaching.idle();
    this.throwFailure();
    const mounted = await isMountPoint(p.merged);
    const volatile = this.volatile.has(key) && this.volatileWorks;
    const readOnly = this.readOnly.has(key);
    const rest = [`upperdir=${p.upper}`, `workdir=${p.work}`, ...(volatile ? ['volatile'] : [])];
    // The record keeps relative lowerdir names (mountOverlay resolves them), but for a layer
    // not yet published, which is still its snapshot's upperdir: read in the mount's own tick.
    // The `mount` tool runs while a layer may be published, so before it none may be pending.
    const lowerOf = () => (layers.length ? [...layers].reverse().map((d) => this.unpublished.get(d) ?? digestHex(d)) : ['empty']);
    let lower: readonly string[] = lowerOf();
    if (!mounted) {
      try {
        lower = await mountOverlay({
          layersRoot: this.layers.root,
          lowerdirs: lowerOf,
          options: rest,
          target: p.merged,
          readOnly,
          beforeSpawn: () => this.syncing.idle(),
        });
      } catch (e) {
        if (volatile) {
          // Linux before 5.10 has no volatile overlays: once an ordinary one mounts where a
          // volatile one would not, every overlay is ordinary (synced at unmount).
          this.volatileWorks = false;
          try {
            return await this.mount(key, layers);
          } catch (again) {
            this.volatileWorks = true;
            throw again;
          }
        }
        throw new BerthError('RUNTIME', `cannot mount the overlay for ${key}: ${(e as { stderr?: string }).stderr?.trim() || String(e)}`, { cause: e });
      }
      if (volatile) this.volatile.set(key, true);
    }
    const options = [`lowerdir=${lower.join(':')}`, ...rest];
    return { key, rootfs: p.merged, upperDir: p.upper, mounts: [{ type: 'overlay', source: 'overlay', options: readOnly ? ['ro', ...options] : options }] };
  }

  /**
   * Detaches the merged view (MNT_DETACH). Every write already lives in the upperdir, so
   * nothing waits on the sync a plain umount does. That
   * sync runs on the thread pool; a volatile overlay's unmount syncs nothing and is made in line.
   * The caller need not wait for it (docs/benchmarks.md).
   */
  async unmount(key: string): Promise<void> {
    const { merged } = this.paths(key);
    if (!(await isMountPoint(merged))) return;
    await detachMount(merged, { syncsNothing: this.volatile.get(key) });
  }

  async commit(key: string, opts: CommitOptions = {}): Promise<CommittedLayer> {
    const p = this.paths(key);
    // The tar is only hashed, never stored: the upperdir already holds the layer in overlay
    // form and becomes the layer dir; the tar is regenerated from it when save or push needs it.
    // Nothing writes to the snapshot any more, so the upperdir is read while the overlay is
    // detached: the kernel's last put of a mount that wrote much data syncs it, and that
    // overlaps the hashing instead of preceding it. A fill
    // the COPY is still copying writes through the merged view, which stays until it has ended.
    const copies = Promise.allSettled((opts.fills ?? []).map((f) => f.copying));
    const wasVolatile = this.volatile.get(key) === true;
    const detached = copies.then(() => this.unmount(key)).finally(() => this.volatile.delete(key));
    let layer: CommittedLayer;
    try {
      layer = await this.hashUpper(p.upper, opts);
    } catch (e) {
      await detached.catch(() => undefined);
      throw e;
    }
    await copies; // the fills are part of the layer
    this.gone.add(p.dir); // no snapshot any more: its dir goes once detached
    // The step waits neither for the detach (which syncs the file system under an ordinary
    // overlay, even after a tiny step; docs/benchmarks.md) nor for the sync: a volatile overlay's
    // unmount writes nothing, and its files are synced here (syncfs), off the step's path. A
    // layer dir is published only once its files are on disk; until then the layer is read
    // from this upperdir (`unpublished`), and the records that name it wait (durable()). The
    // next mount waits for the detach, so that no lowerdir is still another overlay's upperdir.
    const known = this.unpublished.has(layer.diffId) || (await this.layers.has(layer.diffId));
    if (!known) this.unpublished.set(layer.diffId, p.upper);
    this.detaching.add(detached);
    const synced = wasVolatile ? detached.then(() => this.syncLayers()) : detached;
    this.syncing.add(
      synced.then(async () => {
        let moved = false;
        if (!known) {
          await this.unread(layer.diffId); // a reader keeps the upperdir where it is
          // In one tick with the map, so that no mount reads the upperdir's old path.
          moved = this.layers.publish(p.upper, layer.diffId);
          this.unpublished.delete(layer.diffId);
          if (moved) await this.layers.syncNames();
        }
        // What is left of the snapshot dir: the workdir, the mount point, or a duplicate upperdir.
        await this.dropSnapshotDir(layer, p.dir, moved, true);
      }),
    );
    return layer;
  }

  /** syncfs(2) of the file system the layer dirs are on. */
  protected async syncLayers(): Promise<void> {
    await syncFileSystem(this.layers.root);
  }

  /** What commits leave running: detaches (and the dir removals after them), and syncs. */
  private readonly detaching = new Running((e) => (this.failure ??= e));
  private readonly syncing = new Running((e) => (this.failure ??= e));
  /**
   * The first of that work that failed. It stays: a layer whose detach or sync failed is
   * never published, so every later durable() (which records wait for) and mount fail too.
   */
  private failure: unknown;

  private throwFailure(): void {
    const e = this.failure;
    if (e !== undefined) throw new BerthError('RUNTIME', `cannot detach or sync a committed snapshot: ${String((e as Error).message ?? e)}`, { cause: e });
  }

  /** What commits left running: detaches, syncs and publications; the first failure of it. */
  protected override async pendingWork(): Promise<void> {
    await Promise.all([this.detaching.idle(), this.syncing.idle()]);
    this.throwFailure();
  }

  protected async removeSnapshot(key: string): Promise<void> {
    this.volatile.delete(key);
    this.readOnly.delete(key);
    await this.unmount(key);
    await rm(this.paths(key).dir, { recursive: true, force: true });
  }
}

/** Promises still running, each removed once it has settled; a failure goes to `onFailure`. */
class Running {
  private readonly set = new Set<Promise<void>>();

  constructor(private readonly onFailure: (e: unknown) => void) {}

  add(work: Promise<unknown>): void {
    const tracked: Promise<void> = work.then(
      () => undefined,
      (e: unknown) => this.onFailure(e),
    );
    this.set.add(tracked);
    void tracked.finally(() => this.set.delete(tracked));
  }

  /** Settles when what runs now has. */
  all(): Promise<unknown> {
    return Promise.all([...this.set]);
  }

  /** Settles when nothing runs, work added meanwhile included. */
  async idle(): Promise<void> {
    while (this.set.size) await this.all();
  }
}

async function isMountPoint(path: string): Promise<boolean> {
  try {
    return statSync(path).dev !== statSync(join(path, '..')).dev;
  } catch {
    return false;
  }
}
