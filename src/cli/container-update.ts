/** `port` (a container's published ports, as docker lists them) and `update` (new resource limits, a new restart policy). */
import { type Command, InvalidArgumentError } from 'commander';
import { BerthError } from '../errors/index.ts';
import { getEngine, out } from './context.ts';

interface UpdateFlags {
  memory?: number;
  memorySwap?: number;
  cpus?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  pidsLimit?: number;
  restart?: string;
}

/** Flag values checked as they are parsed: a bad one is a flag error (125), as docker's are. */
function size(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`invalid size: '${v}'`);
  return Math.round(Number(m[1]) * { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()]!);
}
function decimal(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`failed to parse ${v} as a rational number`);
  return n;
}
function integer(v: string): number {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** `80`, `80/udp`: the port and protocol `port` asks about. */
export function parsePrivatePort(spec: string): { port: number; protocol: string } {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(spec);
  const port = m ? Number(m[1]) : Number.NaN;
  if (!m || port < 1 || port > 65535) throw new BerthError('INVALID_ARGUMENT', `Invalid port: ${spec}`);
  return { port, protocol: m[2] ?? 'tcp' };
}

export function register(program: Command): void {
  program
    .command('port')
    .description('List port mappings or a specific mapping for the container')
    .argument('<container>')
    .argument('[private-port]', 'PRIVATE_PORT[/PROTO]')
    .action(async (name: string, privatePort: string | undefined, _o: unknown, cmd: Command) => {
      const wanted = privatePort === undefined ? undefined : parsePrivatePort(privatePort);
      const engine = await getEngine(cmd);
      const rec = await (await import('../services/container-ops.ts')).refreshedContainer(engine, name);
      const ports = rec.state.status === 'running' ? [...(rec.state.ports ?? [])] : [];
      ports.sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol) || a.hostPort - b.hostPort);
      const host = (p: (typeof ports)[number]) => `${p.hostIp === '' ? '0.0.0.0' : p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp}:${p.hostPort}`;
      if (!wanted) return out(ports.map((p) => `${p.containerPort}/${p.protocol} -> ${host(p)}\n`).join(''));
      const found = ports.filter((p) => p.containerPort === wanted.port && p.protocol === wanted.protocol);
      if (!found.length) throw new BerthError('NOT_FOUND', `No public port '${privatePort}' published for ${name}`);
      out(found.map((p) => `${host(p)}\n`).join(''));
    });

  program
    .command('update')
    .description('Update configuration of one or more containers')
    .argument('<containers...>')
    .option('-m, --memory <bytes>', 'memory limit', size)
    .option('--memory-swap <bytes>', 'swap limit equal to memory plus swap: -1 to enable unlimited swap', (v) => (v === '-1' ? -1 : size(v)))
    .option('--cpus <n>', 'number of CPUs', decimal)
    .option('-c, --cpu-shares <n>', 'CPU shares (relative weight)', integer)
    .option('--cpuset-cpus <list>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--pids-limit <n>', 'tune container pids limit (set -1 for unlimited)', integer)
    .option('--restart <policy>', 'restart policy to apply when a container exits')
    .action(async (names: string[], flags: UpdateFlags, cmd: Command) => {
      const { restart, ...update } = flags;
      if (restart === undefined && Object.values(update).every((v) => v === undefined)) {
        throw new BerthError('INVALID_ARGUMENT', 'you must provide one or more flags when using this command');
      }
      const engine = await getEngine(cmd);
      const { updateContainer } = await import('../services/container-update.ts');
      const { updateRestartPolicy } = await import('../services/restart.ts');
      const limits = Object.values(update).some((v) => v !== undefined);
      let failed = false;
      for (const n of names) {
        try {
          if (restart !== undefined) updateRestartPolicy(engine, n, restart);
          if (limits) await updateContainer(engine, n, update);
          out(`${n}\n`);
        } catch (e) {
          failed = true;
          process.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
        }
      }
      if (failed) process.exitCode = 1;
    });
}
