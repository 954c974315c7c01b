/**
 * A running container frozen (runc pause: the cgroup freezer) while the host works in its
 * rootfs, as docker does for `cp`: a frozen process cannot swap a directory for a symlink
 * between berth's check and its use. The container is always resumed, on an error and on
 * SIGINT/SIGTERM/SIGHUP too. Only a kill -9 of this CLI leaves it frozen, its lock naming a
 * dead pid: `thawAbandoned` (run by reconcile, i.e. ps/inspect/exec..., and by `system
 * prune`) takes that lock over and resumes the container. Copies into one container take
 * turns (the lock file in its run dir), so one copy never thaws the container under another.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../errors/index.ts';
import { Runc, RUNC } from '../runtime/index.ts';
import { processStart } from '../store/leases.ts';
import { delegatedCgroup } from '../runtime/rootless.ts';
import { isRootless } from '../sys/rootless.ts';
import { containerPaths, type ContainerRoots } from './paths.ts';

const LOCK_WAIT_MS = 120_000;

/** A lock's holder is alive while its process runs (a zombie holds nothing: store/leases.ts). */
const alive = (pid: number): boolean => processStart(pid) !== '';

/** Takes the container's copy lock (O_EXCL, holding this pid); a dead holder's lock is taken over. */
async function lock(path: string, waitMs = LOCK_WAIT_MS): Promise<() => void> {
  const deadline = Date.now() + waitMs;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // already taken over as stale, or the run dir removed with the container
        }
      };
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e;
    }
    let holder: number;
    try {
      holder = Number(readFileSync(path, 'utf8').trim() || 'NaN');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') continue; // released meanwhile
      throw e;
    }
    // An empty file is a holder between its create and its write: wait for it like any other.
    if (Number.isInteger(holder) && !alive(holder)) {
      try {
        unlinkSync(path);
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
      }
      continue;
    }
    if (Date.now() > deadline)
      throw new BerthError('CONFLICT', 'another copy into this container is still running', { hint: `remove ${path} if no berth cp is running` });
    await new Promise((r) => setTimeout(r, delay));
  }
}

function lockPath(roots: ContainerRoots, id: string): string {
  return join(containerPaths(roots, id).runDir, 'cp.lock');
}

/** The pid of a dead `berth cp` whose lock is still on the container, if any (one stat when none). */
export function deadCopyHolder(roots: ContainerRoots, id: string): number | undefined {
  let holder: number;
  try {
    holder = Number(readFileSync(lockPath(roots, id), 'utf8').trim() || 'NaN');
  } catch {
    return undefined;
  }
  return Number.isInteger(holder) && !alive(holder) ? holder : undefined;
}

/**
 * Resumes a container a killed `berth cp` left frozen. The dead holder's lock is taken over
 * first, so a copy that started meanwhile is never thawed under; returns whether it thawed.
 */
export async function thawAbandoned(roots: ContainerRoots, id: string): Promise<boolean> {
  if (deadCopyHolder(roots, id) === undefined) return false;
  let unlock: () => void;
  try {
    unlock = await lock(lockPath(roots, id), 200);
  } catch {
    return false; // a live copy holds it now and thaws it itself
  }
  try {
    const runc = new Runc(containerPaths(roots, id).runcRoot);
    if ((await runc.status(id)) !== 'paused') return false;
    await runc.resume(id);
    return true;
  } finally {
    unlock();
  }
}

/** Runs `fn` with the container frozen when it is running; it is thawed whatever happens. */
export async function withFrozen<T>(roots: ContainerRoots, id: string, running: boolean, fn: () => Promise<T>): Promise<T> {
  // An ordinary user without a delegated cgroup has no freezer (runtime/rootless.ts), as
  // rootless Podman's cp: paths are still opened inside the rootfs (sys/in-root.ts).
  if (!running || (isRootless() && !delegatedCgroup())) return fn();
  const paths = containerPaths(roots, id);
  mkdirSync(paths.runDir, { recursive: true });
  const unlock = await lock(lockPath(roots, id));
  const runc = new Runc(paths.runcRoot);
  let paused = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (paused) execFileSync(RUNC, runc.resumeArgs(id), { stdio: 'ignore' });
    unlock();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  try {
    paused = await runc.pause(id);
    return await fn();
  } finally {
    try {
      if (paused) await runc.resume(id);
    } finally {
      paused = false;
      for (const s of signals) process.off(s, onSignal);
      unlock();
    }
  }
}
