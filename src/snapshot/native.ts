/**
 * The native driver, for filesystems where overlayfs cannot be used (the state root on
 * overlayfs itself, or a kernel without it): every snapshot is a full copy. Layers keep the
 * overlay driver's form (whiteouts as 0/0 character devices, opaque dirs as an xattr), so
 * layer dirs, their diffIDs, save, push and gc are the same whichever driver made them.
 *
 * - `prepare` writes each layer's tar again (the canonical stream that hashes to its diffID)
 *   and applies it onto an empty rootfs, deletions and opaque dirs included: the extraction
 *   code is the one every pulled layer goes through, with its path-safety rules.
 * - `commit` (build steps) materializes the parent the same way and compares the two trees:
 *   new and changed entries are copied with `cp -a` (modes, owners, times, xattrs, hardlinks),
 *   deleted ones become whiteouts, and dirs get the metadata they have in the rootfs; that
 *   upper-form tree is hashed and published exactly as the overlay driver's upperdir is, so
 *   both drivers give the same diffID for the same change.
 */
import { chmodSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, utimesSync, type Stats } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { applyLayer, writeLayer } from '../layer/index.ts';
import { makeWhiteouts } from '../sys/device-nodes.ts';
import type { Digest } from '../oci/digest.ts';
import { execFileAsync } from '../sys/exec-file.ts';
import { lstatOrUndefined } from '../sys/quiet-fs.ts';
import { LayeredSnapshotter } from './layered.ts';
import type { ActiveSnapshot, CommitOptions, CommittedLayer, Snapshotter } from './types.ts';

export class NativeSnapshotter extends LayeredSnapshotter implements Snapshotter {
  readonly driver = 'native' as const;

  private paths(key: string) {
    const dir = join(this.activeDir, key);
    return { dir, rootfs: join(dir, 'rootfs'), parent: join(dir, 'parent'), upper: join(dir, 'upper'), record: join(dir, 'layers.json') };
  }

  /** Applies `layers` (bottom first) onto `dir`, as a container would see them merged. */
  private async materialize(dir: string, layers: readonly Digest[], signal?: AbortSignal): Promise<void> {
    await mkdir(dir, { recursive: true });
    await this.requireLayers(layers);
    for (const l of layers) {
      await applyLayer(writeLayer(this.layers.path(l), { mode: 'overlay-upper', signal }), dir, { whiteouts: 'apply', signal });
    }
  }

  async prepare(key: string, layers: readonly Digest[], opts: { signal?: AbortSignal } = {}): Promise<ActiveSnapshot> {
    this.lease?.hold();
    const p = this.paths(key);
    await this.claimKey(key, p.dir);
    try {
      await this.materialize(p.rootfs, layers, opts.signal);
      await writeFile(p.record, JSON.stringify(layers));
    } catch (e) {
      await rm(p.dir, { recursive: true, force: true });
      throw e;
    }
    return this.snapshot(key);
  }

  /** A copy, as prepare's, made read-only by a bind mount of it onto itself. */
  async view(key: string, layers: readonly Digest[], opts: { signal?: AbortSignal } = {}): Promise<ActiveSnapshot> {
    const snap = await this.prepare(key, layers, opts);
    try {
      await execFileAsync('mount', ['--bind', snap.rootfs, snap.rootfs]);
      await execFileAsync('mount', ['-o', 'remount,bind,ro', snap.rootfs]);
    } catch (e) {
      await this.removeSnapshot(key);
      throw new BerthError('RUNTIME', `cannot make the view ${key} read-only: ${(e as { stderr?: string }).stderr?.trim() || String(e)}`, { cause: e });
    }
    return { ...snap, mounts: [{ type: 'bind', source: snap.rootfs, options: ['rbind', 'ro'] }] };
  }

  private snapshot(key: string): ActiveSnapshot {
    const p = this.paths(key);
    return { key, rootfs: p.rootfs, upperDir: p.rootfs, mounts: [{ type: 'bind', source: p.rootfs, options: ['rbind'] }] };
  }

  /** Nothing to mount: the rootfs is a plain dir, and it stays as it is between runs. */
  async mount(key: string): Promise<ActiveSnapshot> {
    if (!(await this.exists(this.paths(key).rootfs))) throw new BerthError('NOT_FOUND', `snapshot ${key} does not exist`);
    return this.snapshot(key);
  }

  async unmount(): Promise<void> {}

  async commit(key: string, opts: CommitOptions = {}): Promise<CommittedLayer> {
    const p = this.paths(key);
    // The rootfs is compared with its parent before anything is hashed: its fills must have landed.
    await Promise.all((opts.fills ?? []).map((f) => f.copying));
    const layers = JSON.parse(await readFile(p.record, 'utf8')) as Digest[];
    await this.materialize(p.parent, layers, opts.signal);
    await mkdir(p.upper);
    const changes = diffTrees(p.rootfs, p.parent);
    await writeUpper(p.rootfs, p.upper, changes);
    return this.keepLayer(await this.hashUpper(p.upper, { ...opts, fills: undefined }), p.upper, p.dir);
  }

  protected async removeSnapshot(key: string): Promise<void> {
    const { rootfs, dir } = this.paths(key);
    // A view's read-only bind mount goes first (a plain snapshot has none).
    while (isMountPoint(rootfs)) await execFileAsync('umount', ['-l', rootfs]);
    await this.layers.discard(dir);
  }

  private async exists(path: string): Promise<boolean> {
    return this.layers.exists(path);
  }
}

/** Whether `path` is a mount point (a view's bind mount shows in /proc/self/mountinfo). */
function isMountPoint(path: string): boolean {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[4] === path);
  } catch {
    return false;
  }
}

interface Changes {
  /** Entries (and, for dirs, their whole subtree) to copy as they are in the rootfs. */
  readonly copy: string[];
  /** Entries of the parent that the rootfs no longer has. */
  readonly deleted: string[];
  /** Dirs present in both that the layer must carry (changed metadata, or changes inside). */
  readonly dirs: string[];
}

function kind(st: Stats): string {
  return st.isDirectory()
    ? 'dir'
    : st.isSymbolicLink()
      ? 'link'
      : st.isFile()
        ? 'file'
        : st.isCharacterDevice()
          ? 'chr'
          : st.isBlockDevice()
            ? 'blk'
            : st.isFIFO()
              ? 'fifo'
              : 'other';
}

/** Same metadata and, for a file, the same size and mtime: what Docker's naive differ compares. */
function same(a: Stats, b: Stats, pa: string, pb: string): boolean {
  if (kind(a) !== kind(b) || a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid) return false;
  if (a.isSymbolicLink()) return readlinkSync(pa) === readlinkSync(pb);
  if (a.isDirectory()) return a.mtimeMs === b.mtimeMs;
  if (a.isCharacterDevice() || a.isBlockDevice()) return a.rdev === b.rdev;
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** What changed from `parent` to `rootfs`, as slash paths relative to both. */
export function diffTrees(rootfs: string, parent: string): Changes {
  const out: Changes = { copy: [], deleted: [], dirs: [] };
  const walk = (rel: string): boolean => {
    const here = readdirSync(join(rootfs, rel));
    const before = new Set(readdirSync(join(parent, rel)));
    let changed = false;
    for (const name of [...new Set([...here, ...before])].sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const a = lstatOrUndefined(join(rootfs, r));
      const b = before.has(name) ? lstatOrUndefined(join(parent, r)) : undefined;
      if (!a) {
        out.deleted.push(r);
        changed = true;
      } else if (!b || kind(a) !== kind(b)) {
        out.copy.push(r);
        changed = true;
      } else if (a.isDirectory()) {
        const inner = walk(r);
        if (inner || !same(a, b, join(rootfs, r), join(parent, r))) {
          out.dirs.push(r);
          changed = true;
        }
      } else if (!same(a, b, join(rootfs, r), join(parent, r))) {
        out.copy.push(r);
        changed = true;
      }
    }
    return changed;
  };
  walk('');
  return out;
}

/** Builds the layer in overlay upperdir form from the rootfs and its changes. */
async function writeUpper(rootfs: string, upper: string, changes: Changes): Promise<void> {
  // Dirs first (parents before children, as `dirs` lists them bottom-up), metadata last.
  const dirs = [...changes.dirs].sort();
  for (const d of dirs) mkdirSync(join(upper, d), { recursive: true });
  for (let i = 0; i < changes.copy.length; i += 500) {
    await execFileAsync('cp', ['-a', '--parents', '--', ...changes.copy.slice(i, i + 500), upper], { cwd: rootfs, maxBuffer: 1 << 20 }).catch(
      (e: { stderr?: string }) => {
        throw new BerthError('RUNTIME', `native snapshot: copy changes: ${e.stderr?.trim() ?? String(e)}`);
      },
    );
  }
  for (const d of changes.deleted) mkdirSync(join(upper, dirname(d)), { recursive: true });
  await makeWhiteouts(changes.deleted.map((d) => join(upper, d)));
  // Every dir of the upper tree takes the rootfs's metadata, after its children are in.
  const all = new Set<string>(dirs);
  for (const p of [...changes.copy, ...changes.deleted]) for (let d = dirname(p); d !== '.'; d = dirname(d)) all.add(d);
  for (const d of [...all].sort().reverse()) {
    const st = lstatSync(join(rootfs, d));
    const target = join(upper, d);
    lchownSync(target, st.uid, st.gid);
    chmodSync(target, st.mode & 0o7777);
    utimesSync(target, st.atime, st.mtime);
  }
}
