/**
 * What the kernel knows of a running container, read where runc put it: its cgroup (the
 * spec's `cgroupsPath` is `/berth/<id>`, under each v1 controller or the v2 root), its
 * processes, and its network counters through /proc/<pid>. `top` and `stats` in docker's
 * shapes, and whether the freezer holds it (`pause`).
 */
import { cpus } from 'node:os';
import { BerthError } from '../errors/index.ts';
import { runTool } from '../sys/run-tool.ts';
import { cgroupFile, isPaused, readText, UNIFIED } from '../container/cgroup-files.ts';
import type { ContainerRecord } from '../container/records.ts';

/** USER_HZ: /proc/stat counts in these ticks on every Linux berth runs on. */
const CLOCK_TICKS = 100;

function readNumber(path: string): number {
  const t = readText(path)?.trim();
  if (t === undefined || t === 'max') return 0;
  const n = Number(t);
  return Number.isFinite(n) ? n : 0;
}

/** `key value` lines (memory.stat, cpu.stat) as a map of numbers. */
function readKeyed(path: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (readText(path) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out[k] = Number(v);
  }
  return out;
}

export { isPaused };

/** The pids in the container's cgroup (its init and everything it started, execs included). */
export function containerPids(id: string): number[] {
  const text = readText(cgroupFile('pids', id, 'cgroup.procs')) ?? readText(cgroupFile('memory', id, 'cgroup.procs')) ?? '';
  return text
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

function requireRunning(rec: ContainerRecord): void {
  if (rec.state.status !== 'running') throw new BerthError('CONFLICT', `Container ${rec.id} is not running`);
}

/**
 * docker top: `ps` with the caller's arguments (`-ef` by default), keeping the rows whose
 * PID is the container's; the last column (the command) keeps its spaces.
 */
export async function containerTop(rec: ContainerRecord, psArgs = '-ef'): Promise<{ Titles: string[]; Processes: string[][] }> {
  requireRunning(rec);
  const args = psArgs.trim() ? psArgs.trim().split(/\s+/) : [];
  if (args.some((a) => !/^[-\w,=:%+]+$/.test(a))) throw new BerthError('INVALID_ARGUMENT', `invalid ps_args: ${JSON.stringify(psArgs)}`);
  const r = await runTool('ps', args);
  if (r.code !== 0) throw new BerthError('INVALID_ARGUMENT', `Error running ps: ${r.stderr.trim() || `exit status ${r.code}`}`);
  const lines = r.stdout.toString().split('\n').filter(Boolean);
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw new BerthError('INVALID_ARGUMENT', "Couldn't find PID field in ps output");
  const pids = new Set(containerPids(rec.id));
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (!pids.has(Number(fields[pidCol]))) continue;
    processes.push([...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')]);
  }
  return { Titles: titles, Processes: processes };
}

interface CpuSample {
  readonly cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  readonly system_cpu_usage: number;
  readonly online_cpus: number;
  readonly throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

function systemCpuNanos(): number {
  const line = (readText('/proc/stat') ?? '').split('\n').find((l) => l.startsWith('cpu '));
  const ticks = (line ?? '').split(/\s+/).slice(1, 8).map(Number).filter(Number.isFinite);
  return (ticks.reduce((a, b) => a + b, 0) * 1e9) / CLOCK_TICKS;
}

function cpuSample(id: string, running: boolean): CpuSample {
  const online = cpus().length;
  if (!running) {
    return {
      cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
      system_cpu_usage: 0,
      online_cpus: online,
      throttling_data: zeroThrottle(),
    };
  }
  if (UNIFIED) {
    const st = readKeyed(cgroupFile('', id, 'cpu.stat'));
    return {
      cpu_usage: { total_usage: (st.usage_usec ?? 0) * 1000, usage_in_kernelmode: (st.system_usec ?? 0) * 1000, usage_in_usermode: (st.user_usec ?? 0) * 1000 },
      system_cpu_usage: systemCpuNanos(),
      online_cpus: online,
      throttling_data: { periods: st.nr_periods ?? 0, throttled_periods: st.nr_throttled ?? 0, throttled_time: (st.throttled_usec ?? 0) * 1000 },
    };
  }
  const acct = readKeyed(cgroupFile('cpuacct', id, 'cpuacct.stat'));
  const throttle = readKeyed(cgroupFile('cpu', id, 'cpu.stat'));
  const percpu = (readText(cgroupFile('cpuacct', id, 'cpuacct.usage_percpu')) ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  return {
    cpu_usage: {
      total_usage: readNumber(cgroupFile('cpuacct', id, 'cpuacct.usage')),
      percpu_usage: percpu,
      usage_in_kernelmode: ((acct.system ?? 0) * 1e9) / CLOCK_TICKS,
      usage_in_usermode: ((acct.user ?? 0) * 1e9) / CLOCK_TICKS,
    },
    system_cpu_usage: systemCpuNanos(),
    online_cpus: online,
    throttling_data: { periods: throttle.nr_periods ?? 0, throttled_periods: throttle.nr_throttled ?? 0, throttled_time: throttle.throttled_time ?? 0 },
  };
}

function zeroThrottle() {
  return { periods: 0, throttled_periods: 0, throttled_time: 0 };
}

function memoryStats(id: string, running: boolean): Record<string, unknown> {
  if (!running) return {};
  if (UNIFIED) {
    const limit = readNumber(cgroupFile('', id, 'memory.max'));
    return { usage: readNumber(cgroupFile('', id, 'memory.current')), stats: readKeyed(cgroupFile('', id, 'memory.stat')), limit: limit || hostMemory() };
  }
  const limit = readNumber(cgroupFile('memory', id, 'memory.limit_in_bytes'));
  return {
    usage: readNumber(cgroupFile('memory', id, 'memory.usage_in_bytes')),
    max_usage: readNumber(cgroupFile('memory', id, 'memory.max_usage_in_bytes')),
    stats: readKeyed(cgroupFile('memory', id, 'memory.stat')),
    // An unlimited v1 cgroup reports a huge page-rounded number; docker shows the host's memory.
    limit: Math.min(limit || Number.MAX_SAFE_INTEGER, hostMemory()),
  };
}

function hostMemory(): number {
  const m = /MemTotal:\s+(\d+)/.exec(readText('/proc/meminfo') ?? '');
  return m ? Number(m[1]) * 1024 : 0;
}

/** blkio's bytes per device and operation, as docker lists them (empty on v2: docker reads io.stat there). */
function blkioStats(id: string, running: boolean): Record<string, unknown> {
  const entries = [];
  if (running && !UNIFIED) {
    for (const line of (readText(cgroupFile('blkio', id, 'blkio.throttle.io_service_bytes_recursive')) ?? '').split('\n')) {
      const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
      if (m) entries.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) });
    }
  }
  return {
    io_service_bytes_recursive: entries.length ? entries : null,
    io_serviced_recursive: null,
    io_queue_recursive: null,
    io_service_time_recursive: null,
    io_wait_time_recursive: null,
    io_merged_recursive: null,
    io_time_recursive: null,
    sectors_recursive: null,
  };
}

/** The interfaces of the container's network namespace but lo, from /proc/<pid>/net/dev. */
function networkStats(pid: number): Record<string, Record<string, number>> | undefined {
  if (!pid) return undefined;
  const text = readText(`/proc/${pid}/net/dev`);
  if (!text) return undefined;
  const out: Record<string, Record<string, number>> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    out[m[1]!] = {
      rx_bytes: f[0]!,
      rx_packets: f[1]!,
      rx_errors: f[2]!,
      rx_dropped: f[3]!,
      tx_bytes: f[8]!,
      tx_packets: f[9]!,
      tx_errors: f[10]!,
      tx_dropped: f[11]!,
    };
  }
  return out;
}

export interface StatsSample {
  readonly read: string;
  readonly cpu: CpuSample;
}

/** One sample of the container's counters; `previous` fills docker's pre-fields (CPU % needs two). */
export function containerStats(rec: ContainerRecord, previous?: StatsSample): { json: Record<string, unknown>; sample: StatsSample } {
  const running = rec.state.status === 'running';
  const sample: StatsSample = { read: new Date().toISOString(), cpu: cpuSample(rec.id, running) };
  const pidsMax = readText(cgroupFile('pids', rec.id, 'pids.max'))?.trim();
  const json: Record<string, unknown> = {
    read: running ? sample.read : '0001-01-01T00:00:00Z',
    preread: previous?.read ?? '0001-01-01T00:00:00Z',
    pids_stats: running
      ? { current: readNumber(cgroupFile('pids', rec.id, 'pids.current')), ...(pidsMax && pidsMax !== 'max' ? { limit: Number(pidsMax) } : {}) }
      : {},
    blkio_stats: blkioStats(rec.id, running),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: sample.cpu,
    precpu_stats: previous?.cpu ?? cpuSample(rec.id, false),
    memory_stats: memoryStats(rec.id, running),
    name: `/${rec.name}`,
    id: rec.id,
  };
  const networks = running ? networkStats(rec.state.pid) : undefined;
  if (networks) json.networks = networks;
  return { json, sample };
}
