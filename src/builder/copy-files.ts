/**
 * Copying trees into a rootfs for COPY and ADD: every destination path resolves inside the
 * rootfs (so a symlink in the image cannot redirect a write outside it); files keep their
 * mode and mtime; ownership is 0:0 unless --chown; --chmod overrides modes.
 *
 * The walk, dirs, symlinks and small files are synchronous: a thread-pool round trip per
 * call costs more than the call (docs/benchmarks.md). Bigger files are
 * copied by several workers on the thread pool while the small ones are copied in line:
 * each is a whole-file kernel call (copy_file_range), worth its round trip. Many small files
 * are copied in line on two threads (copy-thread.ts).
 */
import {
  chmodSync,
  fstatSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  utimesSync,
  type Stats,
} from 'node:fs';
import { chmod, copyFile as copyFileAsync, lchown, utimes } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { IgnoreMatcher } from '../dockerfile/index.ts';
import { forEachLimit } from '../image/for-each-limit.ts';
import { BerthError } from '../errors/index.ts';
import { cleanComponents, copyFill, copyQueue, type FileFill } from '../layer/index.ts';
import { closeFd, fdPath, hostPathOf, O_DIRECTORY, O_NOFOLLOW, O_PATH, openRoot, splitLeaf } from '../sys/in-root.ts';
import { lstatOrUndefined } from '../sys/quiet-fs.ts';
import { copySmallFiles, copySmallSync, createFileSync, type SmallCopy } from './copy-thread.ts';

export interface CopyOwnership {
  readonly uid: number;
  readonly gid: number;
  readonly mode?: number;
  readonly exclude?: IgnoreMatcher;
  /** Paths (relative to the source root) to leave out, e.g. what .dockerignore excludes. */
  readonly skip?: (rel: string) => boolean;
  /**
   * When given, big files are fills (layer/file-chunks.ts), recorded here by host path: each
   * is created empty and its copy started, to run on beside the small files' copy and the
   * layer's hashing. Only for a COPY with one source, so that no later source can replace a
   * file whose copy is running.
   */
  readonly fills?: Map<string, PendingFill>;
}

/** A file left empty for the commit to fill: a FileFill before its path in the layer is known. */
export type PendingFill = Omit<FileFill, 'rel'>;

/**
 * Creates `dir` (a path in the rootfs) and its missing parents, and returns an O_PATH fd of
 * it (the caller closes it). Each component is looked at and made inside its parent's fd, so
 * a symlink of the image is followed inside the rootfs only (as its target path, again from
 * the rootfs' fd), never on the host. A file in the way is replaced by a dir, as docker does
 * for COPY; `keepFiles` refuses it instead, as `mkdir -p` does.
 */
export function mkdirInRoot(rootfs: string, dir: string, own?: CopyOwnership, keepFiles = false): number {
  const rootFd = openRoot(rootfs);
  try {
    return mkdirBelow(rootFd, cleanComponents(dir), own, keepFiles, 0);
  } finally {
    closeFd(rootFd);
  }
}

const MAX_LINKS = 40;
const DIR_FD = O_PATH | O_DIRECTORY | O_NOFOLLOW;

function mkdirBelow(rootFd: number, comps: readonly string[], own: CopyOwnership | undefined, keepFiles: boolean, hops: number): number {
  let dir = openSync(fdPath(rootFd), O_PATH | O_DIRECTORY);
  try {
    for (let i = 0; i < comps.length; i++) {
      const at = fdPath(dir, comps[i]!);
      const st = lstatOrUndefined(at);
      if (st?.isSymbolicLink()) {
        // Followed as a path inside the rootfs: relative to the dirs resolved so far, an
        // absolute target from the root (`..` clamped there by cleanComponents).
        if (hops >= MAX_LINKS) throw new BerthError('UNSAFE_PATH', `too many levels of symbolic links creating "/${comps.join('/')}"`);
        const target = readlinkSync(at);
        const base = target.startsWith('/') ? [] : comps.slice(0, i);
        closeFd(dir);
        dir = -1;
        return mkdirBelow(rootFd, cleanComponents([...base, target, ...comps.slice(i + 1)].join('/')), own, keepFiles, hops + 1);
      }
      if (!st?.isDirectory()) {
        if (st && keepFiles)
          throw new BerthError(
            'FAILED_PRECONDITION',
            `cannot make the directory "/${comps.join('/')}": "/${comps.slice(0, i + 1).join('/')}" is not a directory`,
          );
        if (st) rmSync(at, { force: true });
        mkdirSync(at, { mode: 0o755 });
        if (own) lchownSync(at, own.uid, own.gid);
      }
      // O_NOFOLLOW|O_DIRECTORY: what was checked (or made) above, or an error, never a link.
      const next = openSync(at, DIR_FD);
      closeFd(dir);
      dir = next;
    }
    return dir;
  } catch (e) {
    if (dir >= 0) closeFd(dir);
    throw e;
  }
}

/**
 * FIFOs, sockets and devices are not copied: reading a FIFO blocks for good (in line, where
 * not even SIGINT is heard), a socket cannot be read, a device's bytes are the host's. The
 * build context leaves them out with a warning (context.ts).
 */
function isSpecial(st: Stats): boolean {
  return !st.isFile() && !st.isDirectory() && !st.isSymbolicLink();
}

type FileJob = { src: string; dest: string; st: Stats; setgidParent: boolean };

/** Creates a dir or symlink at once; a regular file is returned as a job for the copy workers. */
function copyEntry(src: string, st: Stats, hostDest: string, own: CopyOwnership, existing: Stats | undefined, setgidParent: boolean): FileJob | undefined {
  if (existing && !(existing.isDirectory() && st.isDirectory())) rmSync(hostDest, { recursive: true, force: true });
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), hostDest);
    lchownSync(hostDest, own.uid, own.gid);
    try {
      lutimesSync(hostDest, st.atime, st.mtime);
    } catch {
      /* not supported everywhere */
    }
    return undefined;
  }
  if (st.isDirectory()) {
    if (!existing) mkdirSync(hostDest);
    lchownSync(hostDest, own.uid, own.gid);
    chmodSync(hostDest, own.mode ?? st.mode & 0o7777);
    return undefined;
  }
  return { src, dest: hostDest, st, setgidParent };
}

/** Root creates files as 0:0, except in a setgid dir, which passes its group on. */
function needsChown(job: FileJob, own: CopyOwnership): boolean {
  return own.uid !== 0 || own.gid !== 0 || job.setgidParent;
}

/**
 * Makes a big file a fill: created empty with its final owner and mode, its copy queued.
 * The fill is recorded under `hostKey`, its path as `rootfs/<real path>` (the commit finds
 * it in the layer by that), while the copy writes through the dir's fd (job.dest).
 */
function startFill(job: FileJob, own: CopyOwnership, fills: Map<string, PendingFill>, queue: ReturnType<typeof copyQueue>, hostKey: string): void {
  const created = smallCopy(job, own);
  createFileSync(created, EMPTY);
  const fill = { src: job.src, size: job.st.size, mode: created.mode, atimeMs: job.st.atimeMs, mtimeMs: job.st.mtimeMs };
  fills.set(hostKey, { ...fill, copying: queue(() => copyFill(fill, job.dest)) });
}

/** `rootfs` joined with where the dir `fd` holds really is in it: the name a fill is recorded by. */
function rootfsPathOf(rootfs: string, fd: number): string {
  return join(rootfs, relative(realpathSync(rootfs), hostPathOf(fd)));
}

/**
 * Closes the destination's fd once nothing uses a path through it: the fills started from it
 * copy on past the call (and a closed fd's number may be reused by another open).
 */
function closeAfter(fd: number, started: readonly PendingFill[]): void {
  if (!started.length) closeFd(fd);
  else void Promise.allSettled(started.map((f) => f.copying)).then(() => closeFd(fd));
}

const EMPTY = Buffer.alloc(0);

async function copyFile(job: FileJob, own: CopyOwnership): Promise<void> {
  // copyFile gives the new file the source's exact mode: chown and chmod only when they
  // change something.
  await copyFileAsync(job.src, job.dest);
  const chown = needsChown(job, own);
  if (chown) await lchown(job.dest, own.uid, own.gid);
  if (own.mode !== undefined || (chown && job.st.mode & 0o6000)) await chmod(job.dest, own.mode ?? job.st.mode & 0o7777); // chown clears setuid bits
  await utimes(job.dest, job.st.atime, job.st.mtime);
}

const COPY_WORKERS = 8;
/** Bigger files than this in all keep the thread pool busy for as long as the small files take: no second copy thread then. */
const BIG_COPY_ALONE = 64 << 20;
/** Files up to this size are copied in line. */
const SMALL_COPY = 256 << 10;

/** A small file's copy as plain data (copy-thread.ts copies it in line, on one thread or two). */
function smallCopy(job: FileJob, own: CopyOwnership): SmallCopy {
  return {
    src: job.src,
    dest: job.dest,
    mode: own.mode ?? job.st.mode & 0o7777,
    owner: needsChown(job, own) ? { uid: own.uid, gid: own.gid } : undefined,
    atimeMs: job.st.atimeMs,
    mtimeMs: job.st.mtimeMs,
  };
}

/**
 * Copies `src` (a host path) to `dest` (a path in the rootfs). A directory's contents are
 * merged into `dest`; a file becomes `dest`. The destination dir is opened in the rootfs
 * (mkdirInRoot) and every write is addressed below its fd (`/proc/<pid>/fd/N/...`), so no
 * symlink of the image, even one swapped in after a check, can send a write outside it.
 */
export async function copyInto(rootfs: string, src: string, dest: string, own: CopyOwnership): Promise<void> {
  const st = lstatSync(src);
  if (isSpecial(st)) return;
  if (!st.isDirectory()) {
    const { parent, leaf } = splitLeaf(dest);
    if (leaf === undefined) throw new BerthError('INVALID_ARGUMENT', `cannot copy the file ${src} to the root directory itself`);
    const dirFd = mkdirInRoot(rootfs, parent);
    const started: PendingFill[] = [];
    try {
      const hostDest = fdPath(dirFd, leaf);
      // Unknown parent: assume setgid, which costs at most a chown that changes nothing.
      const job = copyEntry(src, st, hostDest, own, lstatOrUndefined(hostDest), true);
      if (!job) return;
      if (job.st.size <= SMALL_COPY)
        copySmallSync(smallCopy(job, own)); // in line, as a tree's small files
      else if (own.fills) {
        const key = join(rootfsPathOf(rootfs, dirFd), leaf);
        startFill(job, own, own.fills, copyQueue(), key);
        started.push(own.fills.get(key)!);
      } else await copyFile(job, own);
    } finally {
      closeAfter(dirFd, started);
    }
    return;
  }
  const destFd = mkdirInRoot(rootfs, dest, own);
  const started: PendingFill[] = [];
  try {
    await copyTree(rootfs, src, st, destFd, own, started);
  } finally {
    closeAfter(destFd, started);
  }
}

async function copyTree(rootfs: string, src: string, st: Stats, destFd: number, own: CopyOwnership, started: PendingFill[]): Promise<void> {
  const hostRoot = fdPath(destFd);
  const dirTimes: Array<[string, Date, Date]> = [[hostRoot, st.atime, st.mtime]];
  const jobs: FileJob[] = [];
  const small: FileJob[] = [];
  // Below the destination's fd every dir was made by this copy or checked to be a dir (an
  // image's symlink in the way is replaced by copyEntry, never followed): joining names
  // below it stays in the rootfs.
  const walk = (rel: string, hostDir: string, fresh: boolean, setgidDir: boolean): void => {
    for (const name of readdirSync(join(src, rel)).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      if (own.exclude?.matches(childRel) || own.skip?.(childRel)) continue;
      const from = join(src, childRel);
      const cst = lstatSync(from);
      if (isSpecial(cst)) continue;
      const to = join(hostDir, name);
      // Below a dir this copy created nothing exists yet: no lookup (a slow negative lookup
      // through every lower layer on overlayfs).
      const existing = fresh ? undefined : lstatOrUndefined(to);
      // An existing symlink in the image at this path is replaced, never followed.
      const job = copyEntry(from, cst, to, own, existing, setgidDir);
      if (job) (cst.size <= SMALL_COPY ? small : jobs).push(job);
      if (cst.isDirectory()) {
        dirTimes.push([to, cst.atime, cst.mtime]);
        // copyEntry gave the dir this mode, so its setgid bit is known without a stat.
        walk(childRel, to, fresh || !existing, ((own.mode ?? cst.mode) & 0o2000) !== 0);
      }
    }
  };
  // fstat: an lstat of /proc/<pid>/fd/N would describe the magic link, not the dir.
  walk('', hostRoot, false, (fstatSync(destFd).mode & 0o2000) !== 0);
  // Big files go to the thread pool first, so that they copy while this thread copies the
  // small ones: a model's weights and its 20k source files take two cores, not turns. As
  // fills, their copies run on past this call, and the small files then take two threads
  // even beside a big copy: what of it is left when they are done overlaps the commit's
  // walk. That beats both one thread and every copy done before the commit (docs/benchmarks.md).
  const fills = own.fills;
  if (fills) {
    const queue = copyQueue();
    const base = jobs.length ? rootfsPathOf(rootfs, destFd) : '';
    for (const job of jobs) {
      const key = join(base, job.dest.slice(hostRoot.length));
      startFill(job, own, fills, queue, key);
      started.push(fills.get(key)!);
    }
  }
  const big = fills ? undefined : forEachLimit(jobs, COPY_WORKERS, (job) => copyFile(job, own));
  try {
    await copySmallFiles(
      small.map((job) => smallCopy(job, own)),
      { otherCoreFree: fills !== undefined || jobs.reduce((n, j) => n + j.st.size, 0) < BIG_COPY_ALONE },
    );
  } catch (e) {
    // No copy but the fills' (which the caller awaits) may outlive the call: the caller cleans up after it.
    await big?.catch(() => undefined);
    throw e;
  }
  await big;
  for (const [p, a, m] of dirTimes.reverse()) {
    try {
      utimesSync(p, a, m);
    } catch {
      /* best effort, as docker */
    }
  }
}
