/**
 * Copying trees into a rootfs for COPY and ADD: every destination path resolves inside the
 * rootfs (so a symlink in the image cannot redirect a write outside it); files keep their
 * mode and mtime; ownership is 0:0 unless --chown; --chmod overrides modes.
 *
 * The calls are synchronous on purpose: a COPY of 20k small files is thread-pool round
 * trips otherwise, several per file, and those cost far more than the syscalls.
 */
import { chmodSync, copyFileSync, lchownSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { IgnoreMatcher } from '../dockerfile/index.ts';
import { resolveInRootSync } from '../layer/index.ts';

export interface CopyOwnership {
  readonly uid: number;
  readonly gid: number;
  readonly mode?: number;
  readonly exclude?: IgnoreMatcher;
  /** Paths (relative to the source root) to leave out, e.g. what .dockerignore excludes. */
  readonly skip?: (rel: string) => boolean;
}

function lstatOrUndefined(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** Creates `dir` (a path in the rootfs) and its missing parents; returns the host path. */
export async function mkdirInRoot(rootfs: string, dir: string, own?: CopyOwnership): Promise<string> {
  let cur = '/';
  for (const part of dir.split('/').filter(Boolean)) {
    cur = posix.join(cur, part);
    const host = resolveInRootSync(rootfs, cur, { followFinal: true }).path;
    const st = lstatOrUndefined(host);
    if (st?.isDirectory()) continue;
    if (st) rmSync(host, { force: true });
    mkdirSync(host, { mode: 0o755 });
    if (own) lchownSync(host, own.uid, own.gid);
  }
  return resolveInRootSync(rootfs, dir, { followFinal: true }).path;
}

function copyEntry(src: string, hostDest: string, own: CopyOwnership): void {
  const st = lstatSync(src);
  const existing = lstatOrUndefined(hostDest);
  if (existing && !(existing.isDirectory() && st.isDirectory())) rmSync(hostDest, { recursive: true, force: true });
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), hostDest);
    lchownSync(hostDest, own.uid, own.gid);
    try {
      lutimesSync(hostDest, st.atime, st.mtime);
    } catch {
      /* not supported everywhere */
    }
    return;
  }
  if (st.isDirectory()) {
    if (!existing) mkdirSync(hostDest);
    lchownSync(hostDest, own.uid, own.gid);
    chmodSync(hostDest, own.mode ?? st.mode & 0o7777);
    return;
  }
  copyFileSync(src, hostDest);
  lchownSync(hostDest, own.uid, own.gid);
  chmodSync(hostDest, own.mode ?? st.mode & 0o7777); // after chown, which clears setuid bits
  utimesSync(hostDest, st.atime, st.mtime);
}

/**
 * Copies `src` (a host path) to `dest` (a path in the rootfs). A directory's contents are
 * merged into `dest`; a file becomes `dest`.
 */
export async function copyInto(rootfs: string, src: string, dest: string, own: CopyOwnership): Promise<void> {
  const st = lstatSync(src);
  if (!st.isDirectory()) {
    await mkdirInRoot(rootfs, posix.dirname(dest));
    copyEntry(src, resolveInRootSync(rootfs, dest, { followFinal: false }).path, own);
    return;
  }
  const hostRoot = await mkdirInRoot(rootfs, dest, own);
  const dirTimes: Array<[string, Date, Date]> = [[hostRoot, st.atime, st.mtime]];
  // Below the destination root every path is created by this copy: joining host paths
  // directly is safe, as no symlink of the image can sit in between.
  const walk = (rel: string, hostDir: string): void => {
    for (const name of readdirSync(join(src, rel)).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      if (own.exclude?.matches(childRel) || own.skip?.(childRel)) continue;
      const from = join(src, childRel);
      const to = join(hostDir, name);
      const existing = lstatOrUndefined(to);
      // An existing symlink in the image at this path is replaced, never followed.
      const target = existing?.isSymbolicLink() ? resolveInRootSync(rootfs, posix.join(dest, childRel), { followFinal: false }).path : to;
      copyEntry(from, target, own);
      const cst = lstatSync(from);
      if (cst.isDirectory()) {
        dirTimes.push([target, cst.atime, cst.mtime]);
        walk(childRel, target);
      }
    }
  };
  walk('', hostRoot);
  for (const [p, a, m] of dirTimes.reverse()) {
    try {
      utimesSync(p, a, m);
    } catch {
      /* best effort, as docker */
    }
  }
}
