/** The HostConfig fields of inspect for the host options (`--ipc`, `--pid`, cgroup limits, ulimits, sysctls, runtime). */
import { parseUlimit, type RuntimeOptions } from '../runtime/index.ts';

/** What inspect reads of a container's recorded runtime options for them. */
export type HostRuntimeView = Pick<
  RuntimeOptions,
  'ipcMode' | 'pidMode' | 'ociRuntime' | 'cpuShares' | 'cpuPeriod' | 'cpuQuota' | 'cpusetCpus' | 'cpusetMems' | 'memoryReservation' | 'sysctls' | 'ulimits'
>;

/** Docker's fields for the cgroup limits, ulimits and sysctls, with its zero values when unset. */
export function hostResourceFields(rt: HostRuntimeView): Record<string, unknown> {
  return {
    CpuPeriod: rt.cpuPeriod ?? 0,
    CpuQuota: rt.cpuQuota ?? 0,
    CpusetCpus: rt.cpusetCpus ?? '',
    CpusetMems: rt.cpusetMems ?? '',
    MemoryReservation: rt.memoryReservation ?? 0,
    Ulimits: rt.ulimits?.length ? rt.ulimits.flatMap(ulimitView) : null,
    ...(rt.sysctls && Object.keys(rt.sysctls).length ? { Sysctls: { ...rt.sysctls } } : {}),
  };
}

/** One recorded `--ulimit` as docker shows it; none for a value an older berth let through. */
function ulimitView(spec: string): Array<{ Name: string; Hard: number; Soft: number }> {
  try {
    const u = parseUlimit(spec);
    return [{ Name: u.name, Hard: Number(u.hard), Soft: Number(u.soft) }];
  } catch {
    return [];
  }
}
