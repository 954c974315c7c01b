/**
 * Where runc puts a berth container's cgroup: the spec's `cgroupsPath` is `/berth/<id>`,
 * under each v1 controller or the v2 root. Read by `stats`/`top` and by the monitor, which
 * asks whether the freezer holds the container (`pause`) before it runs a health probe.
 */
import { existsSync, readFileSync } from 'node:fs';

const CGROUP_ROOT = '/sys/fs/cgroup';
export const UNIFIED = existsSync(`${CGROUP_ROOT}/cgroup.controllers`);

export function cgroupFile(controller: string, id: string, file: string): string {
  return UNIFIED ? `${CGROUP_ROOT}/berth/${id}/${file}` : `${CGROUP_ROOT}/${controller}/berth/${id}/${file}`;
}

export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** True when the cgroup freezer holds the container (`pause`, or a `cp` in progress). */
export function isPaused(id: string): boolean {
  if (UNIFIED) return readText(cgroupFile('', id, 'cgroup.freeze'))?.trim() === '1';
  const state = readText(cgroupFile('freezer', id, 'freezer.state'))?.trim();
  return state === 'FROZEN' || state === 'FREEZING';
}
