/**
 * The container verbs `berth serve` answers too, on the same services: restart, rename,
 * pause, unpause, top, stats, diff and export.
 */
import { type Command, Option } from 'commander';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { BerthError } from '../errors/index.ts';
import { humanSize } from '../progress/units.ts';
import { getEngine, out } from './context.ts';
import { renderTable } from './format.ts';
import { stopFlags } from './run-flags-check.ts';

const ops = () => import('../services/container-ops.ts');

/** Applies `fn` to each named container, printing each name as docker does; the last failure sets the exit status. */
async function eachName(names: readonly string[], fn: (name: string) => Promise<void>): Promise<void> {
  let failed = false;
  for (const n of names) {
    try {
      await fn(n);
      out(`${n}\n`);
    } catch (e) {
      failed = true;
      process.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
    }
  }
  if (failed) process.exitCode = 1;
}

export function register(program: Command): void {
  program
    .command('restart')
    .description('Restart one or more containers')
    .argument('<containers...>')
    .option('-t, --timeout <seconds>', 'seconds to wait before killing the container')
    .addOption(new Option('--time <seconds>').hideHelp())
    .option('-s, --signal <signal>', 'signal to send to the container')
    .action(async (names: string[], o: { timeout?: string; time?: string; signal?: string }, cmd: Command) => {
      const stop = stopFlags(o);
      const engine = await getEngine(cmd);
      const { restartContainer } = await ops();
      await eachName(names, (n) => restartContainer(engine, n, stop));
    });

  program
    .command('rename')
    .description('Rename a container')
    .argument('<container>')
    .argument('<new-name>')
    .action(async (name: string, newName: string, _o: unknown, cmd: Command) => {
      const engine = await getEngine(cmd);
      (await ops()).renameContainer(engine, name, newName);
    });

  for (const [verb, freeze] of [
    ['pause', true],
    ['unpause', false],
  ] as const) {
    program
      .command(verb)
      .description(freeze ? 'Pause all processes within one or more containers' : 'Unpause all processes within one or more containers')
      .argument('<containers...>')
      .action(async (names: string[], _o: unknown, cmd: Command) => {
        const engine = await getEngine(cmd);
        const { pauseContainer, unpauseContainer } = await ops();
        await eachName(names, (n) => (freeze ? pauseContainer : unpauseContainer)(engine, n));
      });
  }

  program
    .command('top')
    .description('Display the running processes of a container')
    .argument('<container>')
    .argument('[ps-options...]')
    .action(async (name: string, psOptions: string[], _o: unknown, cmd: Command) => {
      const engine = await getEngine(cmd);
      const rec = await (await ops()).refreshedContainer(engine, name);
      const { containerTop } = await import('../services/container-stats.ts');
      const t = await containerTop(rec, psOptions.length ? psOptions.join(' ') : '-ef');
      out(renderTable(t.Titles, t.Processes));
    });

  program
    .command('stats')
    .description("Display a snapshot of containers' resource usage")
    .argument('<containers...>')
    .option('--no-stream', 'print one snapshot (the only mode berth has)')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { refreshedContainer } = await ops();
      const { containerStats } = await import('../services/container-stats.ts');
      const recs = await Promise.all(names.map((n) => refreshedContainer(engine, n)));
      const first = recs.map((r) => containerStats(r).sample);
      await new Promise((r) => setTimeout(r, 1000));
      const rows = recs.map((r, i) => {
        const s = containerStats(r, first[i]).json as {
          cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number; online_cpus: number };
          precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number };
          memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
          pids_stats: { current?: number };
        };
        const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
        const sysDelta = s.cpu_stats.system_cpu_usage - s.precpu_stats.system_cpu_usage;
        const cpu = sysDelta > 0 ? (cpuDelta / sysDelta) * s.cpu_stats.online_cpus * 100 : 0;
        const mem = (s.memory_stats.usage ?? 0) - (s.memory_stats.stats?.total_inactive_file ?? s.memory_stats.stats?.inactive_file ?? 0);
        return [
          r.id.slice(0, 12),
          r.name,
          `${cpu.toFixed(2)}%`,
          `${humanSize(mem)} / ${humanSize(s.memory_stats.limit ?? 0)}`,
          String(s.pids_stats.current ?? 0),
        ];
      });
      out(renderTable(['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'PIDS'], rows));
    });

  program
    .command('diff')
    .description("Inspect changes to files or directories on a container's filesystem")
    .argument('<container>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const engine = await getEngine(cmd);
      const rec = await (await ops()).refreshedContainer(engine, name);
      const { containerChanges } = await import('../services/container-fs.ts');
      out((await containerChanges(engine, rec)).map((c) => `${'CAD'[c.Kind]} ${c.Path}\n`).join(''));
    });

  program
    .command('export')
    .description("Export a container's filesystem as a tar archive")
    .argument('<container>')
    .option('-o, --output <file>', 'write to a file, instead of STDOUT')
    .action(async (name: string, o: { output?: string }, cmd: Command) => {
      if (!o.output && process.stdout.isTTY) {
        throw new BerthError('INVALID_ARGUMENT', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      }
      const engine = await getEngine(cmd);
      const rec = await (await ops()).refreshedContainer(engine, name);
      const { exportContainer } = await import('../services/container-fs.ts');
      await exportContainer(engine, rec, (tar) => pipeline(tar, o.output ? createWriteStream(o.output) : process.stdout));
    });
}
