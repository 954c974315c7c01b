/**
 * The `create`/`run` flags that set the container's resources and its share of the host:
 * memory, CPUs, pids, ulimits, /dev/shm. Their mapping onto the runtime's options.
 */
import type { Command } from 'commander';
import { BerthError } from '../errors/index.ts';
import type { RuntimeOptions } from '../runtime/spec.ts';
import { collect } from './context.ts';

export function addHostFlags(cmd: Command): Command {
  return cmd
    .option('-m, --memory <bytes>', 'memory limit')
    .option('--memory-swap <bytes>', 'swap limit equal to memory plus swap: -1 to enable unlimited swap')
    .option('--cpus <n>', 'number of CPUs')
    .option('--pids-limit <n>', 'tune container pids limit (set -1 for unlimited)')
    .option('--ulimit <spec>', 'ulimit options', collect, [])
    .option('--shm-size <bytes>', 'size of /dev/shm');
}

export interface HostFlags {
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  pidsLimit?: string;
  ulimit: string[];
  shmSize?: string;
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

export function hostRuntimeOptions(f: HostFlags): Partial<RuntimeOptions> {
  return {
    memory: parseBytes(f.memory, '--memory'),
    memorySwap: f.memorySwap === '-1' ? -1 : parseBytes(f.memorySwap, '--memory-swap'),
    cpus: flagNumber(f.cpus, '--cpus'),
    pidsLimit: flagNumber(f.pidsLimit, '--pids-limit'),
    ulimits: f.ulimit,
    shmSize: parseBytes(f.shmSize, '--shm-size'),
  };
}
