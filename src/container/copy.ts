/**
 * `cp` between a container's filesystem and the host, with the extraction rules: paths
 * inside the container resolve as if its rootfs were `/` (symlinks cannot lead out), and
 * what is copied in goes through the safe layer extractor.
 */
import { copyFile, lstat, mkdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { BerthError } from '../errors/index.ts';
import type { Engine } from '../engine.ts';
import { loadImage } from '../image/resolve.ts';
import { applyLayer, resolveInRoot, writeLayer } from '../layer/index.ts';
import { execFileAsync } from '../sys/exec-file.ts';
import { ContainerRecords } from './records.ts';


/** The container's rootfs, mounted for the copy when the container is not running. */
async function withRootfs<T>(engine: Engine, idOrName: string, fn: (rootfs: string) => Promise<T>): Promise<T> {
  const rec = new ContainerRecords(engine.db).require(idOrName);
  const { config } = await loadImage(engine, rec.imageId);
  const wasRunning = rec.state.status === 'running';
  const snap = await engine.snapshots.mount(rec.id, config.rootfs.diff_ids);
  try {
    return await fn(snap.rootfs);
  } finally {
    if (!wasRunning) await engine.snapshots.unmount(rec.id).catch(() => undefined);
  }
}

export async function copyFromContainer(engine: Engine, idOrName: string, srcPath: string, hostDest: string): Promise<void> {
  await withRootfs(engine, idOrName, async (rootfs) => {
    const src = await resolveInRoot(rootfs, srcPath, { followFinal: !srcPath.endsWith('/.') });
    const st = await lstat(src).catch(() => undefined);
    if (!st) throw new BerthError('NOT_FOUND', `Could not find the file ${srcPath} in container ${idOrName}`);
    const destSt = await stat(hostDest).catch(() => undefined);
    const target = destSt?.isDirectory() && !srcPath.endsWith('/.') ? join(hostDest, basename(src)) : hostDest;
    if (st.isDirectory()) {
      await mkdir(target, { recursive: true });
      await execFileAsync('cp', ['-a', '--', `${src}/.`, target]);
    } else {
      await execFileAsync('cp', ['-a', '--', src, target]);
    }
  });
}

export async function copyToContainer(engine: Engine, idOrName: string, hostSrc: string, destPath: string): Promise<void> {
  const st = await lstat(hostSrc).catch(() => undefined);
  if (!st) throw new BerthError('NOT_FOUND', `could not find the file ${hostSrc}`);
  await withRootfs(engine, idOrName, async (rootfs) => {
    const resolved = await resolveInRoot(rootfs, destPath, { followFinal: true });
    const destSt = await stat(resolved).catch(() => undefined);
    if (st.isDirectory()) {
      const into = destSt?.isDirectory() && !hostSrc.endsWith('/.') ? join(resolved, basename(hostSrc)) : resolved;
      await mkdir(into, { recursive: true });
      await applyLayer(writeLayer(hostSrc, { mode: 'plain' }), into, { whiteouts: 'apply' });
      return;
    }
    const dest = destSt?.isDirectory() ? join(resolved, basename(hostSrc)) : resolved;
    if (!(await stat(dirname(dest)).catch(() => undefined))?.isDirectory()) {
      throw new BerthError('NOT_FOUND', `no such directory in the container: ${posix.dirname(destPath)}`);
    }
    await rm(dest, { force: true }); // never write through an existing link
    await copyFile(hostSrc, dest);
  });
}

/** Splits docker's `CONTAINER:PATH` form; a plain path has no container. */
export function splitCopyArg(arg: string): { container?: string; path: string } {
  const m = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(arg);
  if (!m || arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  return { container: m[1], path: m[2] || '/' };
}
