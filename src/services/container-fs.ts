/**
 * A container's file system as docker shows it: `diff` (what its writable layer changed,
 * read from the snapshot's upperdir) and `export` (its whole rootfs as a tar). The upperdir
 * is the container's to write while it runs, so it is walked through in-root fds; the
 * export of a running container reads host paths, so the container is frozen meanwhile,
 * as `cp` does (container/freeze.ts).
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import type { Readable } from 'node:stream';
import { withFrozen } from '../container/freeze.ts';
import type { ContainerControl } from '../container/control.ts';
import { BerthError, errnoCode } from '../errors/index.ts';
import { loadImage } from '../image/resolve.ts';
import type { ImageStores } from '../image/stores.ts';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX, writeLayer } from '../layer/index.ts';
import type { Digest } from '../oci/digest.ts';
import { closeFd, fdPath, fstatFd, O_DIRECTORY, O_PATH, openInRoot, openRoot } from '../sys/in-root.ts';
import type { ContainerRecord } from '../container/records.ts';

/** docker's change kinds: 0 modified, 1 added, 2 deleted. */
export const ChangeKind = { Modified: 0, Added: 1, Deleted: 2 } as const;

export interface Change {
  readonly Path: string;
  readonly Kind: 0 | 1 | 2;
}

type FsDeps = ContainerControl & Pick<ImageStores, 'content' | 'images'>;

/** The image layers under the container, bottom first. */
async function layersOf(deps: FsDeps, rec: ContainerRecord): Promise<readonly Digest[]> {
  return (await loadImage(deps, rec.imageId)).config.rootfs.diff_ids;
}

/** True when `rel` names an entry in one of `lowers` (top first), stopping at a whiteout. */
function inLower(lowerFds: readonly number[], rel: string): boolean {
  for (const root of lowerFds) {
    let fd: number;
    try {
      fd = openInRoot(root, rel, { flags: O_PATH });
    } catch (e) {
      if (['ENOENT', 'ENOTDIR', 'ELOOP'].includes(errnoCode(e) ?? '')) continue;
      throw e;
    }
    try {
      // An overlay-form layer deletes with a 0/0 character device.
      return !isWhiteout(fstatFd(fd));
    } finally {
      closeFd(fd);
    }
  }
  return false;
}

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/**
 * `docker diff`: every entry of the upperdir, as added (absent below), modified (present
 * below: a dir is listed when anything under it changed), or deleted (a whiteout).
 */
export async function containerChanges(deps: FsDeps, rec: ContainerRecord): Promise<Change[]> {
  return withUpper(deps, rec, async (upperFd, layers) => {
    const lowerFds: number[] = [];
    try {
      for (const l of [...layers].reverse()) {
        const info = await deps.snapshots.stat(l);
        if (info) lowerFds.push(openRoot(info.path));
      }
      const out: Change[] = [];
      walkTree(upperFd, '', (rel, st) => {
        if (isWhiteout(st)) out.push({ Path: `/${rel}`, Kind: ChangeKind.Deleted });
        else if (!isOverlayMarker(rel)) out.push({ Path: `/${rel}`, Kind: inLower(lowerFds, rel) ? ChangeKind.Modified : ChangeKind.Added });
      });
      return withoutMountPoints(out);
    } finally {
      for (const fd of lowerFds) closeFd(fd);
    }
  });
}

/**
 * docker's `SizeRw` (the bytes the container wrote: the files of its writable layer, each
 * hard link once) and `SizeRootFs` (that and its image). With the native driver, whose
 * rootfs is one copied tree with no separate writable layer, SizeRw is unknown: 0.
 */
export async function containerSize(deps: FsDeps, rec: ContainerRecord): Promise<{ SizeRw: number; SizeRootFs: number }> {
  const image = deps.images.get(rec.imageId)?.size ?? 0;
  if (deps.snapshots.driver !== 'overlay') return { SizeRw: 0, SizeRootFs: image };
  const sizeRw = await withUpper(deps, rec, async (upperFd) => {
    const seen = new Set<string>();
    let total = 0;
    walkTree(upperFd, '', (_rel, st) => {
      if (!(st.isFile() || st.isSymbolicLink()) || (st.nlink > 1 && seen.has(`${st.ino}`))) return;
      seen.add(`${st.ino}`);
      total += st.size;
    });
    return total;
  });
  return { SizeRw: sizeRw, SizeRootFs: sizeRw + image };
}

/**
 * The /etc files berth bind-mounts into every container leave empty mount points in its
 * writable layer (runc makes them): docker keeps those in an init layer below, so its diff
 * never shows them, nor /etc for their sake.
 */
const MOUNT_POINTS = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);

function withoutMountPoints(changes: Change[]): Change[] {
  const kept = changes.filter((c) => !MOUNT_POINTS.has(c.Path));
  const etcChanged = kept.some((c) => c.Path.startsWith('/etc/'));
  return kept.filter((c) => c.Path !== '/etc' || etcChanged || c.Kind === ChangeKind.Deleted);
}

function isOverlayMarker(rel: string): boolean {
  const leaf = rel.slice(rel.lastIndexOf('/') + 1);
  return leaf.startsWith(WHITEOUT_PREFIX) || leaf === OPAQUE_WHITEOUT;
}

/** Calls `visit` for every entry under `rel` of the tree `rootFd` holds, parents first, names sorted, through in-root fds. */
function walkTree(rootFd: number, rel: string, visit: (rel: string, st: Stats) => void): void {
  const dirFd = rel === '' ? rootFd : openInRoot(rootFd, rel, { flags: O_PATH | O_DIRECTORY });
  try {
    for (const name of readdirSync(fdPath(dirFd)).sort()) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(fdPath(dirFd, name));
      visit(childRel, st);
      if (st.isDirectory()) walkTree(rootFd, childRel, visit);
    }
  } finally {
    if (dirFd !== rootFd) closeFd(dirFd);
  }
}

/**
 * Runs `read` on the container's writable layer (an in-root fd of its upperdir) and its
 * image layers. A stopped container's overlay is mounted for the look and taken down after.
 */
async function withUpper<T>(deps: FsDeps, rec: ContainerRecord, read: (upperFd: number, layers: readonly Digest[]) => Promise<T>): Promise<T> {
  const layers = await layersOf(deps, rec);
  const wasRunning = rec.state.status === 'running';
  const snap = await deps.snapshots.mount(rec.id, layers);
  try {
    if (snap.upperDir === snap.rootfs) {
      throw new BerthError('UNSUPPORTED', 'container changes need the overlay snapshotter: the native one keeps no separate writable layer');
    }
    const upperFd = openRoot(snap.upperDir);
    try {
      return await read(upperFd, layers);
    } finally {
      closeFd(upperFd);
    }
  } finally {
    if (!wasRunning && deps.containers.get(rec.id)?.state.status !== 'running') await deps.snapshots.unmount(rec.id).catch(() => undefined);
  }
}

/**
 * `docker export`: the container's rootfs as a plain tar (layer/'s writer, so the same tree
 * gives the same bytes). `consume` reads the stream; the rootfs stays mounted, and a running
 * container frozen, until it settles.
 */
export async function exportContainer(deps: FsDeps, rec: ContainerRecord, consume: (tar: Readable) => Promise<void>): Promise<void> {
  const layers = await layersOf(deps, rec);
  const running = rec.state.status === 'running';
  const snap = await deps.snapshots.mount(rec.id, layers);
  try {
    await withFrozen(deps, rec.id, running, () => consume(writeLayer(snap.rootfs, { mode: 'plain' })));
  } finally {
    if (!running && deps.containers.get(rec.id)?.state.status !== 'running') await deps.snapshots.unmount(rec.id).catch(() => undefined);
  }
}
