/** `berth info` and `berth version`: what this engine runs on, as docker info shows it. */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, totalmem, release, hostname } from 'node:os';
import type { Command } from 'commander';
import { getEngine, out } from './context.ts';
import { renderTemplate } from './format.ts';

function cgroupVersion(): string {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return '2';
  return existsSync('/sys/fs/cgroup/unified') ? '1 (hybrid)' : '1';
}

export function register(program: Command): void {
  program
    .command('info')
    .description('Display system-wide information')
    .option('-f, --format <format>', 'format the output using a Go template')
    .action(async (o: { format?: string }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { RUNC } = await import('../runtime/runc.ts');
      const { execFileSync } = await import('node:child_process'); // not at load: every command would pay for it
      const containers = engine.containers.countByStatus();
      const count = (s: string) => containers.get(s) ?? 0;
      let runcVersion = 'unknown';
      try {
        runcVersion = execFileSync(RUNC, ['--version']).toString().split('\n')[0]!.replace(/^runc version /, '');
      } catch {
        /* runc missing: reported as unknown */
      }
      const info = {
        Containers: [...containers.values()].reduce((n, c) => n + c, 0),
        ContainersRunning: count('running'),
        ContainersStopped: count('exited'),
        Images: engine.images.list().length,
        Driver: engine.snapshots.driver,
        DockerRootDir: engine.root,
        RunRoot: engine.runRoot,
        CgroupDriver: 'cgroupfs',
        CgroupVersion: cgroupVersion(),
        DefaultRuntime: 'runc',
        RuncVersion: runcVersion,
        KernelVersion: release(),
        OperatingSystem: (readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m) ?? [])[1] ?? 'linux',
        OSType: 'linux',
        Architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
        NCPU: cpus().length,
        MemTotal: totalmem(),
        Name: hostname(),
        ServerVersion: '0.1.0',
      };
      if (o.format) return out(`${renderTemplate(o.format, info)}\n`);
      out(
        [
          'Server:',
          ` Containers: ${info.Containers}`,
          `  Running: ${info.ContainersRunning}`,
          `  Stopped: ${info.ContainersStopped}`,
          ` Images: ${info.Images}`,
          ` Server Version: ${info.ServerVersion}`,
          ` Storage Driver: ${info.Driver}`,
          ` Cgroup Driver: ${info.CgroupDriver}`,
          ` Cgroup Version: ${info.CgroupVersion}`,
          ` Default Runtime: runc (${info.RuncVersion})`,
          ` Kernel Version: ${info.KernelVersion}`,
          ` Operating System: ${info.OperatingSystem}`,
          ` Architecture: ${info.Architecture}`,
          ` CPUs: ${info.NCPU}`,
          ` Total Memory: ${(info.MemTotal / 2 ** 30).toFixed(2)}GiB`,
          ` Name: ${info.Name}`,
          ` Berth Root Dir: ${info.DockerRootDir}`,
          '',
        ].join('\n'),
      );
    });
}
