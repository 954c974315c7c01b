/**
 * Copying trees into a rootfs for COPY and ADD: every destination path resolves inside the
 * rootfs (so a symlink in the image cannot redirect a write outside it); files keep their
 * mode and mtime; ownership is 0:0 unless --chown; --chmod overrides modes.
 */
import { chmod, copyFile, lchown, lstat, lutimes, mkdir, readdir, readlink, rm, symlink, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { IgnoreMatcher } from '../dockerfile/index.ts';
import { resolveInRoot } from '../layer/index.ts';

export interface CopyOwnership {
  readonly uid: number;
  readonly gid: number;
  readonly mode?: number;
  readonly exclude?: IgnoreMatcher;
  /** Paths (relative to the source root) to leave out, e.g. what .dockerignore excludes. */
  readonly skip?: (rel: string) => boolean;
}

/** Creates `dir` (a path in the rootfs) and its missing parents; returns the host path. */
export async function mkdirInRoot(rootfs: string, dir: string, own?: CopyOwnership): Promise<string> {
  let cur = '/';
  for (const part of dir.split('/').filter(Boolean)) {
    cur = posix.join(cur, part);
    const host = await resolveInRoot(rootfs, cur, { followFinal: true });
    const st = await lstat(host).catch(() => undefined);
    if (!st) {
      await mkdir(host, { mode: 0o755 });
      if (own) await lchown(host, own.uid, own.gid);
    } else if (!st.isDirectory()) {
      await rm(host, { force: true });
      await mkdir(host, { mode: 0o755 });
      if (own) await lchown(host, own.uid, own.gid);
    }
  }
  return resolveInRoot(rootfs, dir, { followFinal: true });
}

async function copyEntry(src: string, hostDest: string, own: CopyOwnership): Promise<void> {
  const st = await lstat(src);
  const existing = await lstat(hostDest).catch(() => undefined);
  if (existing && !(existing.isDirectory() && st.isDirectory())) await rm(hostDest, { recursive: true, force: true });
  if (st.isSymbolicLink()) {
    await symlink(await readlink(src), hostDest);
    await lchown(hostDest, own.uid, own.gid);
    await lutimes(hostDest, st.atime, st.mtime).catch(() => undefined);
    return;
  }
  if (st.isDirectory()) {
    if (!existing) await mkdir(hostDest);
    await lchown(hostDest, own.uid, own.gid);
    await chmod(hostDest, own.mode ?? st.mode & 0o7777);
    return;
  }
  await copyFile(src, hostDest);
  await lchown(hostDest, own.uid, own.gid);
  await chmod(hostDest, own.mode ?? st.mode & 0o7777);
  await utimes(hostDest, st.atime, st.mtime);
}

/**
 * Copies `src` (a host path) to `dest` (a path in the rootfs). A directory's contents are
 * merged into `dest`; a file becomes `dest`.
 */
export async function copyInto(rootfs: string, src: string, dest: string, own: CopyOwnership): Promise<void> {
  const st = await lstat(src);
  if (!st.isDirectory()) {
    await mkdirInRoot(rootfs, posix.dirname(dest));
    const hostDest = await resolveInRoot(rootfs, dest, { followFinal: false });
    await copyEntry(src, hostDest, own);
    return;
  }
  const hostRoot = await mkdirInRoot(rootfs, dest, own);
  const dirTimes: Array<[string, Date, Date]> = [[hostRoot, st.atime, st.mtime]];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(src, rel))).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      if (own.exclude?.matches(childRel) || own.skip?.(childRel)) continue;
      const from = join(src, childRel);
      const to = await resolveInRoot(rootfs, posix.join(dest, childRel), { followFinal: false });
      await copyEntry(from, to, own);
      const cst = await lstat(from);
      if (cst.isDirectory()) {
        dirTimes.push([to, cst.atime, cst.mtime]);
        await walk(childRel);
      }
    }
  };
  await walk('');
  for (const [p, a, m] of dirTimes.reverse()) await utimes(p, a, m).catch(() => undefined);
}
