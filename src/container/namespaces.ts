/**
 * The host options that name other containers or the host's state: `--ipc container:NAME` and
 * `--pid container:NAME` (checked at create: the target must exist; resolved at each start:
 * it must run, and for IPC be shareable, as docker says), and the checks docker makes at
 * create on sysctls, cgroup limits and the runtime (runtime/host-resources.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { checkHostResources, checkIpcMode, checkPidMode, checkSysctls, joinedContainer, type RuntimeOptions } from '../runtime/index.ts';
import { DEFAULT_SHM_SIZE } from '../runtime/host-resources.ts';
import { detachMount, mountTmpfs } from '../sys/mount.ts';
import { containerPaths, type ContainerRoots } from './paths.ts';
import type { ContainerRecord, ContainerRecords } from './records.ts';

/** Create's checks of the host options: the modes, their targets, sysctls against the namespaces, limits, runtime. */
export function checkHostOptions(records: ContainerRecords, runtime: Readonly<Record<string, unknown>>, network: string): void {
  const o = runtime as RuntimeOptions;
  checkIpcMode(o.ipcMode);
  checkPidMode(o.pidMode);
  for (const mode of [o.ipcMode, o.pidMode]) {
    const target = joinedContainer(mode);
    // Refused as a bad parameter, as docker does: a 404 would have its CLI pull the image.
    if (target !== undefined && !records.find(target)) throw new BerthError('INVALID_ARGUMENT', `No such container: ${target}`);
  }
  checkSysctls(o.sysctls, { network, ipcMode: o.ipcMode });
  checkHostResources(o);
}

/** The pid of `target` when it runs: its recorded process must still be there. */
function runningPid(target: ContainerRecord): number | undefined {
  const pid = target.state.pid;
  return target.state.status === 'running' && pid > 0 && existsSync(`/proc/${pid}/ns`) ? pid : undefined;
}

/**
 * The namespace paths a container joins on this start, from its `container:NAME` modes:
 * /proc/PID/ns/ipc and /proc/PID/ns/pid of the target's process. A target that is gone, not
 * running, or (for IPC) not shareable is refused with docker's words.
 */
export function namespacesToJoin(roots: ContainerRoots, records: ContainerRecords, rec: ContainerRecord): { ipc?: string; pid?: string; shm?: string } {
  const o = rec.config.runtime as RuntimeOptions;
  const out: { ipc?: string; pid?: string; shm?: string } = {};
  const ipcTarget = joinedContainer(o.ipcMode);
  if (ipcTarget !== undefined) {
    const target = records.require(ipcTarget);
    const pid = runningPid(target);
    if (!pid) throw new BerthError('CONFLICT', `can't join IPC of container ${target.id}: container ${target.id} is not running`);
    if ((target.config.runtime as RuntimeOptions).ipcMode !== 'shareable') {
      throw new BerthError('CONFLICT', `can't join IPC of container ${target.id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`, {
        hint: `start ${target.name} with --ipc shareable`,
      });
    }
    out.ipc = `/proc/${pid}/ns/ipc`;
    const shm = sharedShmPath(roots, target.id);
    if (isMountPoint(shm)) out.shm = shm;
  }
  const pidTarget = joinedContainer(o.pidMode);
  if (pidTarget !== undefined) {
    const target = records.require(pidTarget);
    const pid = runningPid(target);
    if (!pid) throw new BerthError('CONFLICT', `container ${target.id} is not running`);
    out.pid = `/proc/${pid}/ns/pid`;
  }
  return out;
}

/** Where a shareable container's /dev/shm is mounted on the host, so that joiners can bind it too (as docker's `mounts/shm`). */
function sharedShmPath(roots: ContainerRoots, id: string): string {
  return join(containerPaths(roots, id).runDir, 'shm');
}

function isMountPoint(path: string): boolean {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[4] === path);
  } catch {
    return false;
  }
}

/**
 * A shareable container's /dev/shm: a tmpfs of its --shm-size mounted on the host under its
 * run dir, made at start (once: a restart keeps it) and gone at its teardown. Undefined for
 * any other IPC mode.
 */
export async function mountSharedShm(roots: ContainerRoots, rec: ContainerRecord): Promise<string | undefined> {
  const o = rec.config.runtime as RuntimeOptions;
  if (o.ipcMode !== 'shareable') return undefined;
  const path = sharedShmPath(roots, rec.id);
  if (isMountPoint(path)) return path;
  await mkdir(path, { recursive: true, mode: 0o700 });
  await mountTmpfs(path, ['mode=1777', `size=${o.shmSize || DEFAULT_SHM_SIZE}`]);
  return path;
}

/** Unmounts a shareable container's /dev/shm (a joiner still running keeps it until it exits). */
export async function unmountSharedShm(roots: ContainerRoots, rec: ContainerRecord): Promise<void> {
  if ((rec.config.runtime as RuntimeOptions).ipcMode !== 'shareable') return;
  const path = sharedShmPath(roots, rec.id);
  if (isMountPoint(path)) await detachMount(path);
}
