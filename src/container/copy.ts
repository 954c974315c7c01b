/**
 * `cp` between a container's filesystem and the host, with docker's rules (a dir into an
 * existing dir goes under its own name, `SRC/.` copies the contents, a file replaces a file,
 * a missing parent is an error).
 *
 * Every path inside the container is opened as an fd inside its rootfs (sys/in-root.ts):
 * symlinks resolve as if the rootfs were `/`, and each step then acts through that fd
 * (`fdPath(fd, name)`), never through a host path string. A running container is frozen
 * for the copy (freeze.ts), as docker pauses it: its processes cannot swap a directory for
 * a link between a check and a use (the CVE-2018-15664 class). What is copied in goes
 * through the safe layer extractor.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  readSync,
  realpathSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, join } from 'node:path';
import { BerthError, errnoCode } from '../errors/index.ts';
import { loadImage } from '../image/resolve.ts';
import type { ImageStores } from '../image/stores.ts';
import { applyLayer, writeLayer } from '../layer/index.ts';
import { execFileAsync } from '../sys/exec-file.ts';
import {
  closeFd,
  fdPath,
  fstatFd,
  hostPathOf,
  mkdirAllInRoot,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_PATH,
  openInRoot,
  openRoot,
  splitLeaf,
} from '../sys/in-root.ts';
import { withFrozen } from './freeze.ts';
import type { ContainerRoots } from './paths.ts';
import type { ContainerRecords } from './records.ts';

/** What `cp` uses: the container's record, its image's layers, its snapshot, and its dirs (for the freeze lock). */
export type CopyDeps = ContainerRoots & Pick<ImageStores, 'content' | 'images' | 'snapshots'> & { readonly containers: ContainerRecords };

export interface CopyOptions {
  /** Follow a symlink named by the container path (docker's `-L`). */
  readonly followLink?: boolean;
  /** Keep the source's uid/gid (docker's `-a`); otherwise what is copied in belongs to root. */
  readonly archive?: boolean;
}

/** The container's rootfs as an fd, mounted for the copy when it is not running, frozen when it is. */
export async function withRootfs<T>(engine: CopyDeps, idOrName: string, fn: (rootFd: number, rootfs: string) => Promise<T>): Promise<T> {
  const rec = engine.containers.require(idOrName);
  const { config } = await loadImage(engine, rec.imageId);
  const wasRunning = rec.state.status === 'running';
  const snap = await engine.snapshots.mount(rec.id, config.rootfs.diff_ids);
  try {
    return await withFrozen(engine, rec.id, wasRunning, async () => {
      const rootFd = openRoot(snap.rootfs);
      try {
        return await fn(rootFd, snap.rootfs);
      } finally {
        closeFd(rootFd);
      }
    });
  } finally {
    if (!wasRunning) await engine.snapshots.unmount(rec.id).catch(() => undefined);
  }
}

function inRootErrno(e: unknown): boolean {
  return ['ENOENT', 'ENOTDIR', 'ELOOP'].includes(errnoCode(e) ?? '');
}

/** Opens `rel` inside the root, or undefined when it is not there. */
export function tryOpen(rootFd: number, rel: string, opts: Parameters<typeof openInRoot>[2]): number | undefined {
  try {
    return openInRoot(rootFd, rel, opts);
  } catch (e) {
    if (inRootErrno(e)) return undefined;
    throw e;
  }
}

/**
 * The path inside the root of what `fd` holds, from its host path: to split a resolved file
 * into its dir and name. Only used with the container frozen or stopped, and the result is
 * opened inside the root again.
 */
export function rootRelative(fd: number, rootfs: string): string {
  const host = hostPathOf(fd);
  const root = realpathSync(rootfs);
  if (host === root) return '/';
  if (!host.startsWith(`${root}/`)) throw new BerthError('UNSAFE_PATH', `${host} is not inside the container's rootfs`);
  return host.slice(root.length);
}

/** Copies the bytes of one open file to another. */
function copyBytes(from: number, to: number): void {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let n: number; (n = readSync(from, buf, 0, buf.length, null)) > 0; ) {
    for (let off = 0; off < n; ) off += writeSync(to, buf, off, n - off);
  }
}

export async function copyFromContainer(engine: CopyDeps, idOrName: string, srcPath: string, hostDest: string, opts: CopyOptions = {}): Promise<void> {
  const contents = /\/\.$/.test(srcPath);
  const follow = opts.followLink || contents || srcPath.endsWith('/');
  await withRootfs(engine, idOrName, async (rootFd) => {
    const { parent, leaf } = splitLeaf(srcPath);
    const notFound = () => new BerthError('NOT_FOUND', `Could not find the file ${srcPath} in container ${idOrName}`);
    // The parent is opened (links followed inside the root) and the last component looked at through it.
    const dir = tryOpen(rootFd, follow || leaf === undefined ? srcPath : parent, { flags: O_PATH | O_DIRECTORY, followFinal: true });
    const name = follow || leaf === undefined ? undefined : leaf;
    if (dir === undefined) {
      // A followed path that is not a dir: the file it names, opened in one step.
      // O_NONBLOCK: a fifo there must not hang the copy (it is refused below).
      const file = follow ? tryOpen(rootFd, srcPath, { flags: constants.O_RDONLY | constants.O_NONBLOCK, followFinal: true }) : undefined;
      if (file === undefined) throw notFound();
      try {
        const st = fstatFd(file);
        if (!st.isFile()) throw new BerthError('INVALID_ARGUMENT', `${srcPath} is not a regular file, a dir or a link`, { hint: 'copy the dir that holds it' });
        copyFileOut(file, st, hostTarget(hostDest, leaf ?? 'rootfs', false));
      } finally {
        closeFd(file);
      }
      return;
    }
    try {
      const st = name === undefined ? fstatFd(dir) : statIfThere(fdPath(dir, name));
      if (!st) throw notFound();
      const target = hostTarget(hostDest, leaf ?? '', st.isDirectory() && contents);
      if (st.isDirectory()) {
        const src = name === undefined ? dir : openSync(fdPath(dir, name), O_PATH | O_DIRECTORY | O_NOFOLLOW);
        try {
          const destSt = statIfThere(target);
          if (destSt && !destSt.isDirectory()) throw new BerthError('INVALID_ARGUMENT', `cannot copy a directory to a file: ${target}`);
          if (!destSt) mkdirHost(target, st.mode & 0o7777);
          // cp -a never follows a link below its source, and the source is the fd.
          await execFileAsync('cp', ['-a', '--', `${fdPath(src)}/.`, target]);
        } finally {
          if (src !== dir) closeFd(src);
        }
      } else if (st.isSymbolicLink()) {
        replaceHostFile(target);
        symlinkSync(readlinkSync(fdPath(dir, name!)), target);
      } else if (st.isFile()) {
        const file = openSync(fdPath(dir, name!), constants.O_RDONLY | constants.O_NONBLOCK | O_NOFOLLOW);
        try {
          copyFileOut(file, fstatFd(file), target);
        } finally {
          closeFd(file);
        }
      } else {
        await execFileAsync('cp', ['-a', '--', fdPath(dir, name!), target]); // a device or fifo: cp -a makes it
      }
    } finally {
      closeFd(dir);
    }
  });
}

function mkdirHost(target: string, mode: number): void {
  try {
    mkdirSync(target, { mode });
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new BerthError('NOT_FOUND', `destination directory ${join(target, '..')} does not exist`);
    throw e;
  }
}

/** lstat (or stat with `follow`); undefined when nothing is there, other errors thrown. */
function statIfThere(path: string, follow = false): Stats | undefined {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch (e) {
    if (inRootErrno(e)) return undefined;
    throw e;
  }
}

/** Where on the host a source named `name` lands: under an existing dir (unless copying contents), or the path itself. */
function hostTarget(hostDest: string, name: string, contents: boolean): string {
  const st = statIfThere(hostDest, true);
  if (st?.isDirectory() && !contents && name) return join(hostDest, name);
  if (!st && hostDest.endsWith('/')) throw new BerthError('NOT_FOUND', `destination directory ${hostDest} does not exist`);
  return hostDest;
}

function replaceHostFile(target: string): void {
  try {
    unlinkSync(target);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
}

function copyFileOut(file: number, st: Stats, target: string): void {
  replaceHostFile(target);
  const out = openSync(target, constants.O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, st.mode & 0o7777);
  try {
    copyBytes(file, out);
    fchownSync(out, st.uid, st.gid);
    fchmodSync(out, st.mode & 0o7777);
    futimesSync(out, st.atime, st.mtime);
  } finally {
    closeSync(out);
  }
}

export async function copyToContainer(engine: CopyDeps, idOrName: string, hostSrc: string, destPath: string, opts: CopyOptions = {}): Promise<void> {
  const st = statIfThere(hostSrc);
  if (!st) throw new BerthError('NOT_FOUND', `could not find the file ${hostSrc}`);
  const missingDir = destPath.endsWith('/') ? destPath.replace(/\/+$/, '') || '/' : `/${splitLeaf(destPath).parent}`;
  const noDir = () => new BerthError('NOT_FOUND', `no such directory in the container: ${missingDir}`);
  await withRootfs(engine, idOrName, async (rootFd, rootfs) => {
    const dest = tryOpen(rootFd, destPath, { followFinal: true });
    const destSt = dest === undefined ? undefined : fstatFd(dest);
    // The dir the source lands in, and its name there.
    let parentRel: string;
    let name: string | undefined;
    try {
      if (destSt?.isDirectory()) {
        parentRel = rootRelative(dest!, rootfs);
        name = st.isDirectory() && /(^|\/)\.$/.test(hostSrc) ? undefined : basename(hostSrc);
      } else if (destSt) {
        if (st.isDirectory()) throw new BerthError('INVALID_ARGUMENT', `cannot copy a directory to a file: ${destPath}`);
        ({ parent: parentRel, leaf: name } = splitLeaf(rootRelative(dest!, rootfs)));
      } else {
        if (destPath.endsWith('/') && !st.isDirectory()) throw noDir();
        ({ parent: parentRel, leaf: name } = splitLeaf(destPath));
      }
    } finally {
      if (dest !== undefined) closeFd(dest);
    }
    const parent = tryOpen(rootFd, parentRel, { flags: O_PATH | O_DIRECTORY, followFinal: true });
    if (parent === undefined) throw noDir();
    try {
      if (st.isDirectory()) {
        // Made inside the root, so a link already at `name` resolves as the container sees it.
        let into = parent;
        try {
          if (name !== undefined) into = mkdirAllInRoot(rootFd, `${parentRel}/${name}`, 0o755);
        } catch (e) {
          // A dangling link or a file where the dir would go.
          if (inRootErrno(e)) throw new BerthError('NOT_FOUND', `no such directory in the container: ${destPath}`);
          throw e;
        }
        try {
          await applyLayer(writeLayer(hostSrc, { mode: 'plain' }), fdPath(into), { whiteouts: 'apply' });
        } finally {
          if (into !== parent) closeFd(into);
        }
        return;
      }
      copyFileIn(hostSrc, st, parent, name!, opts);
    } finally {
      closeFd(parent);
    }
  });
}

/** Replaces `name` in the dir `parent` holds: the old entry unlinked, the new one created O_EXCL, never through a link. */
function copyFileIn(hostSrc: string, st: Stats, parent: number, name: string, opts: CopyOptions): void {
  const path = fdPath(parent, name);
  const old = statIfThere(path);
  if (old?.isDirectory()) throw new BerthError('INVALID_ARGUMENT', `cannot overwrite directory ${name} with a file`);
  if (old) unlinkSync(path);
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(hostSrc), path);
    return;
  }
  const from = openSync(hostSrc, constants.O_RDONLY);
  try {
    const out = openSync(path, constants.O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      copyBytes(from, out);
      if (opts.archive) fchownSync(out, st.uid, st.gid);
      fchmodSync(out, st.mode & 0o7777);
      futimesSync(out, st.atime, st.mtime);
    } finally {
      closeSync(out);
    }
  } finally {
    closeSync(from);
  }
}

/** Splits docker's `CONTAINER:PATH` form; a plain path has no container. */
export function splitCopyArg(arg: string): { container?: string; path: string } {
  const m = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(arg);
  if (!m || arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  return { container: m[1], path: m[2] || '/' };
}
