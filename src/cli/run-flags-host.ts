/**
 * The `create`/`run` flags that set the container's resources and its share of the host:
 * memory, CPUs, cpusets, pids, ulimits, /dev/shm, the IPC and PID namespaces, sysctls and the
 * OCI runtime. Their mapping onto the runtime's options; the syntax is checked here with
 * docker's words, what needs the host or other containers at create (container/namespaces.ts).
 */
import { type Command, Option } from 'commander';
import { BerthError } from '../errors/index.ts';
import { autoShmSize, checkIpcMode, checkPidMode, parseSysctl, parseUlimit } from '../runtime/index.ts';
import type { RuntimeOptions } from '../runtime/spec.ts';
import { collect } from './context.ts';

export function addHostFlags(cmd: Command): Command {
  return cmd
    .option('-m, --memory <bytes>', 'memory limit')
    .option('--memory-swap <bytes>', 'swap limit equal to memory plus swap: -1 to enable unlimited swap')
    .option('--memory-reservation <bytes>', 'memory soft limit')
    .addOption(new Option('--kernel-memory <bytes>', 'kernel memory limit (deprecated: ignored)').hideHelp())
    .option('--cpus <n>', 'number of CPUs')
    .option('-c, --cpu-shares <n>', 'CPU shares (relative weight)')
    .option('--cpu-period <n>', 'limit CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <n>', 'limit CPU CFS (Completely Fair Scheduler) quota')
    .option('--cpuset-cpus <list>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <list>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('--pids-limit <n>', 'tune container pids limit (set -1 for unlimited)')
    .option('--ulimit <spec>', 'ulimit options (NAME=SOFT[:HARD], -1 for unlimited)', collect, [])
    .option('--shm-size <bytes>', 'size of /dev/shm, or auto: half the memory limit (or of the host memory)')
    .option('--ipc <mode>', 'IPC mode to use (private, shareable, host, none, container:NAME)')
    .option('--pid <mode>', 'PID namespace to use (host, container:NAME)')
    .option('--sysctl <key=value>', 'sysctl options', collect, [])
    .option('--runtime <runtime>', 'runtime to use for this container (runc, or an OCI runtime path or name)');
}

export interface HostFlags {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  kernelMemory?: string;
  cpus?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  ulimit: string[];
  shmSize?: string;
  ipc?: string;
  pid?: string;
  sysctl?: string[];
  runtime?: string;
}

/** Docker's byte sizes: 64m, 1g, 512k, 100 (bytes). */
export function parseBytes(s: string | undefined, flag: string): number | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(s.trim());
  if (!m) throw new BerthError('INVALID_ARGUMENT', `invalid argument "${s}" for "${flag}" flag: invalid size`);
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()]!;
  return Math.round(Number(m[1]) * mult);
}

export function flagNumber(s: string | undefined, flag: string): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n)) throw new BerthError('INVALID_ARGUMENT', `invalid argument "${s}" for "${flag}" flag`);
  return n;
}

/** An int64 flag, with the words docker's CLI (Go's strconv) has for a bad one. */
function flagInt(s: string | undefined, flag: string): number | undefined {
  if (s === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(s.trim()))
    throw new BerthError('INVALID_ARGUMENT', `invalid argument "${s}" for "${flag}" flag: strconv.ParseInt: parsing "${s}": invalid syntax`);
  return Number(s);
}

export function hostRuntimeOptions(f: HostFlags): Partial<RuntimeOptions> {
  const memory = parseBytes(f.memory, '--memory');
  for (const u of f.ulimit) parseUlimit(u);
  checkIpcMode(f.ipc);
  checkPidMode(f.pid);
  if (f.kernelMemory !== undefined) {
    parseBytes(f.kernelMemory, '--kernel-memory');
    process.stderr.write('WARNING: Specifying a kernel memory limit is deprecated and no longer supported: --kernel-memory is ignored.\n');
  }
  const memoryReservation = parseBytes(f.memoryReservation, '--memory-reservation');
  const options: Partial<RuntimeOptions> = {
    memory,
    memorySwap: f.memorySwap === '-1' ? -1 : parseBytes(f.memorySwap, '--memory-swap'),
    cpus: flagNumber(f.cpus, '--cpus'),
    pidsLimit: flagNumber(f.pidsLimit, '--pids-limit'),
    ulimits: f.ulimit,
    shmSize: f.shmSize === 'auto' ? autoShmSize(memory) : parseBytes(f.shmSize, '--shm-size'),
    ...(f.ipc ? { ipcMode: f.ipc } : {}),
    ...(f.pid ? { pidMode: f.pid } : {}),
    ...(f.sysctl?.length ? { sysctls: Object.fromEntries(f.sysctl.map(parseSysctl)) } : {}),
    ...(memoryReservation ? { memoryReservation } : {}),
    ...(f.cpuShares ? { cpuShares: flagInt(f.cpuShares, '-c, --cpu-shares') } : {}),
    ...(f.cpuPeriod ? { cpuPeriod: flagInt(f.cpuPeriod, '--cpu-period') } : {}),
    ...(f.cpuQuota ? { cpuQuota: flagInt(f.cpuQuota, '--cpu-quota') } : {}),
    ...(f.cpusetCpus ? { cpusetCpus: f.cpusetCpus } : {}),
    ...(f.cpusetMems ? { cpusetMems: f.cpusetMems } : {}),
    ...(f.runtime && f.runtime !== 'runc' ? { ociRuntime: f.runtime } : {}),
  };
  return options;
}
