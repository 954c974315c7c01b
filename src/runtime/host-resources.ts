/**
 * A container's share of the host, as docker checks and applies it: the cgroup limits
 * (memory and its reservation, CPUs, CPU shares, CFS period and quota, cpusets, pids), the
 * size of /dev/shm (`--shm-size auto`), and the OCI runtime binary that runs it (`--runtime`).
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { RUNC } from './runc.ts';

/** The runtime options of this file (part of RuntimeOptions). */
export interface HostResourceOptions {
  readonly memory?: number;
  readonly memorySwap?: number;
  readonly memoryReservation?: number;
  readonly cpus?: number;
  readonly cpuShares?: number;
  readonly cpuPeriod?: number;
  readonly cpuQuota?: number;
  readonly cpusetCpus?: string;
  readonly cpusetMems?: string;
  readonly pidsLimit?: number;
  /** `--runtime`: `runc`, or another OCI runtime with runc's command line (runtimeBinary). */
  readonly ociRuntime?: string;
}

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** docker's smallest memory reservation. */
const MIN_MEMORY = 6 * 1024 * 1024;

function invalid(message: string, hint?: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', message, hint ? { hint } : undefined);
}

/**
 * `--shm-size auto`: half the container's memory limit, or half the host's memory without
 * one (PyTorch's DataLoader workers pass batches through /dev/shm, and docker's 64 MB is
 * too small for them). Whole pages, so that the size reads back as asked.
 */
export function autoShmSize(memoryLimit: number | undefined): number {
  const half = Math.floor((memoryLimit && memoryLimit > 0 ? memoryLimit : totalmem()) / 2);
  return half - (half % 4096);
}

/** A cpuset list (`0-3,5`) as its numbers, or undefined when it is not one. */
export function parseCpuset(list: string): number[] | undefined {
  const out = new Set<number>();
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 65536) return undefined;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

function readFirst(paths: readonly string[]): string | undefined {
  for (const p of paths) {
    try {
      const s = readFileSync(p, 'utf8').trim();
      if (s) return s;
    } catch {
      // the next place: cgroup v1, v2 or the plain sysfs list
    }
  }
  return undefined;
}

/** The CPUs and memory nodes this host lets containers use (the root cpuset, v1 or v2). */
function availableCpuset(kind: 'cpus' | 'mems'): string {
  const found =
    kind === 'cpus'
      ? readFirst([
          '/sys/fs/cgroup/cpuset/cpuset.effective_cpus',
          '/sys/fs/cgroup/cpuset/cpuset.cpus',
          '/sys/fs/cgroup/cpuset.cpus.effective',
          '/sys/devices/system/cpu/online',
        ])
      : readFirst([
          '/sys/fs/cgroup/cpuset/cpuset.effective_mems',
          '/sys/fs/cgroup/cpuset/cpuset.mems',
          '/sys/fs/cgroup/cpuset.mems.effective',
          '/sys/devices/system/node/online',
        ]);
  return found ?? '0';
}

/** `--cpuset-cpus`/`--cpuset-mems`: the list's syntax, then whether the host has them (docker's words). */
function checkCpuset(list: string | undefined, kind: 'cpus' | 'mems'): void {
  if (list === undefined || list === '') return;
  const wanted = parseCpuset(list);
  if (!wanted) throw invalid(`Invalid value ${list} for cpuset ${kind}: invalid format: ${list}`, 'use a list such as 0-3,5');
  const available = availableCpuset(kind);
  const have = new Set(parseCpuset(available) ?? []);
  if (wanted.some((n) => !have.has(n))) {
    const what = kind === 'cpus' ? 'CPUs' : 'memory nodes';
    throw invalid(`Requested ${what} are not available - requested ${list}, available: ${available}`);
  }
}

/**
 * The checks docker makes at create: ranges, conflicts, cpusets the host has, the runtime.
 * Reads the host (cpusets, PATH); the container is not made when one fails.
 */
export function checkHostResources(o: HostResourceOptions): void {
  if (o.memoryReservation !== undefined) {
    if (o.memoryReservation > 0 && o.memoryReservation < MIN_MEMORY) throw invalid('Minimum memory reservation allowed is 6MB');
    if (o.memory && o.memory > 0 && o.memory < o.memoryReservation) {
      throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage.');
    }
  }
  if (o.cpuShares !== undefined && o.cpuShares !== 0 && (o.cpuShares < 2 || o.cpuShares > 262144)) {
    throw invalid(`invalid --cpu-shares ${o.cpuShares}: the minimum allowed cpu-shares is 2 and the maximum 262144`);
  }
  if (o.cpuPeriod && (o.cpuPeriod < 1000 || o.cpuPeriod > 1_000_000)) {
    throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (o.cpuQuota && o.cpuQuota > 0 && o.cpuQuota < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (o.cpus && o.cpuQuota) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (o.cpus && o.cpuPeriod) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  checkCpuset(o.cpusetCpus, 'cpus');
  checkCpuset(o.cpusetMems, 'mems');
  if (o.ociRuntime !== undefined) runtimeBinary(o.ociRuntime);
}

/** The spec's cgroup limits, apart from the device rules. */
export function cgroupResources(o: HostResourceOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const memory: Record<string, number> = {};
  if (o.memory) {
    memory.limit = o.memory;
    memory.swap = o.memorySwap === -1 ? -1 : (o.memorySwap ?? o.memory * 2);
  }
  if (o.memoryReservation) memory.reservation = o.memoryReservation;
  if (Object.keys(memory).length) out.memory = memory;
  const cpu: Record<string, number | string> = {};
  if (o.cpus) Object.assign(cpu, { quota: Math.round(o.cpus * 100000), period: 100000 });
  if (o.cpuQuota) cpu.quota = o.cpuQuota;
  if (o.cpuPeriod) cpu.period = o.cpuPeriod;
  if (o.cpuShares) cpu.shares = o.cpuShares;
  if (o.cpusetCpus) cpu.cpus = o.cpusetCpus;
  if (o.cpusetMems) cpu.mems = o.cpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (o.pidsLimit !== undefined && o.pidsLimit > 0) out.pids = { limit: o.pidsLimit };
  return out;
}

/**
 * The OCI runtime binary `--runtime NAME` names: runc's for `runc`, an absolute path to an
 * executable, or a name found on PATH (a GPU runtime wrapper, say, with runc's command line).
 * A relative path would depend on the directory berth was started in: refused. It is resolved
 * at create (to refuse a missing one) and again at each start, which it runs; kill, delete and
 * exec go through runc on the same state dir, which a runc-compatible runtime shares.
 */
export function runtimeBinary(name: string | undefined): string {
  if (name === undefined || name === '' || name === 'runc') return RUNC;
  const unknown = () =>
    invalid(`Unknown runtime specified ${name}`, 'give runc, the absolute path of an OCI runtime with runc’s command line, or its name on PATH');
  const executable = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes('/')) {
    if (!isAbsolute(name)) throw invalid(`Unknown runtime specified ${name}: a runtime's path must be absolute`, 'give its absolute path, or its name on PATH');
    if (!executable(name)) throw unknown();
    return name;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isAbsolute(dir) && executable(join(dir, name))) return join(dir, name);
  }
  throw unknown();
}
