/**
 * The layer dirs both drivers share: `<root>/<diffID hex>`, each a layer unpacked once in
 * overlay form and never changed after; `tmp/` for unpacking and for trees on their way out.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, errnoCode } from '../errors/index.ts';
import { applyLayer, applyLayerOffThread } from '../layer/index.ts';
import { digestHex, isDigest, type Digest } from '../oci/digest.ts';
import { randomHex } from '../sys/crypto.ts';
import { lstatOrUndefined } from '../sys/quiet-fs.ts';
import { markTopDir } from '../sys/top-dir.ts';
import type { SnapshotInfo, UnpackOptions } from './types.ts';

/**
 * Removes `dir` if it holds only (empty) dirs, as an overlay snapshot's does once its upperdir
 * is gone: a handful of rmdir calls in line, where fs.rm's async walk makes a round trip per entry.
 * False (and `dir` left as it was, or partly emptied) when something else is in it.
 */
export function removeEmptyDirs(dir: string): boolean {
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

export class LayerDirs {
  /** See Snapshotter.lease. */
  lease: { hold(): void } | undefined;

  constructor(readonly root: string) {}

  async init(): Promise<void> {
    // tmp first: it makes the layers dir 0700 (store/private-root.ts). `empty` is the lowerdir
    // of an image with no layers, the container's `/`: 0755, as docker's.
    const made = mkdirSync(join(this.root, 'tmp'), { recursive: true, mode: 0o700 });
    // Layers are unpacked in tmp: each new one is spread to a block group of its own (top-dir.ts).
    if (made) await markTopDir(join(this.root, 'tmp'));
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
  listTemp(): SnapshotInfo[] {
    return entriesOf(join(this.root, 'tmp'), 'temp');
  }

  async removeTemp(name: string): Promise<void> {
    if (name.includes('/') || name === '..' || name === '.') throw new BerthError('INVALID_ARGUMENT', `not a temp entry: ${name}`);
    await rm(join(this.root, 'tmp', name), { recursive: true, force: true });
  }
}

/** The entries of `dir` with their ctime; one that goes while listed is left out. */
export function entriesOf(dir: string, kind: SnapshotInfo['kind']): SnapshotInfo[] {
  const out: SnapshotInfo[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    const st = lstatOrUndefined(path);
    if (st) out.push({ kind, name, path, changedMs: Math.max(st.ctimeMs, st.mtimeMs) });
  }
  return out;
}
