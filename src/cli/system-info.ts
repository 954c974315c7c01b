/** `berth info` and `berth version`: what this engine runs on, as docker info shows it. */
import type { Command } from 'commander';
import { getEngine, out } from './context.ts';
import { renderTemplate } from './format.ts';

export function register(program: Command): void {
  program
    .command('info')
    .description('Display system-wide information')
    .option('-f, --format <format>', 'format the output using a Go template')
    .action(async (o: { format?: string }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { systemInfo } = await import('../services/system.ts');
      const info = { ...(await systemInfo(engine)), ...(await cdiInfo()) };
      if (o.format) return out(`${renderTemplate(o.format, info, { type: 'system.dockerInfo', parseStatus: 64 })}\n`);
      out(
        [
          'Server:',
          ` Containers: ${info.Containers}`,
          `  Running: ${info.ContainersRunning}`,
          `  Stopped: ${info.ContainersStopped}`,
          ` Images: ${info.Images}`,
          ` Server Version: ${info.ServerVersion}`,
          ` Storage Driver: ${info.Driver}`,
          ...info.DriverStatus.map(([k, v]) => `  ${k}: ${v}`),
          ` Cgroup Driver: ${info.CgroupDriver}`,
          ` Cgroup Version: ${info.CgroupVersion}`,
          ` Default Runtime: runc (${info.RuncVersion})`,
          ' CDI spec directories:',
          ...info.CDISpecDirs.map((d) => `  ${d}`),
          ` CDI devices: ${info.CDIDevices.length ? '' : '(none)'}`.trimEnd(),
          ...info.CDIDevices.map((d) => `  ${d}`),
          ` Kernel Version: ${info.KernelVersion}`,
          ` Operating System: ${info.OperatingSystem}`,
          ` Architecture: ${info.Architecture}`,
          ` CPUs: ${info.NCPU}`,
          ` Total Memory: ${(info.MemTotal / 2 ** 30).toFixed(2)}GiB`,
          ` Name: ${info.Name}`,
          ` Berth Root Dir: ${info.DockerRootDir}`,
          ...(info.HttpProxy ? [` HTTP Proxy: ${info.HttpProxy}`] : []),
          ...(info.HttpsProxy ? [` HTTPS Proxy: ${info.HttpsProxy}`] : []),
          ...(info.NoProxy ? [` No Proxy: ${info.NoProxy}`] : []),
          ' Insecure Registries:',
          ...Object.values(info.RegistryConfig.IndexConfigs)
            .filter((c) => !c.Secure)
            .map((c) => `  ${c.Name}`),
          ...info.RegistryConfig.InsecureRegistryCIDRs.map((c) => `  ${c}`),
          ...(info.RegistryConfig.Mirrors.length ? [' Registry Mirrors:', ...info.RegistryConfig.Mirrors.map((m) => `  ${m}`)] : []),
          ...Object.entries(info.RegistryConfig.HostMirrors).flatMap(([host, list]) => [` Registry Mirrors for ${host}:`, ...list.map((m) => `  ${m}`)]),
          '',
        ].join('\n'),
      );
    });
}

/** The CDI spec directories and the devices they define, as docker info's `CDISpecDirs` (plus berth's `CDIDevices`). */
async function cdiInfo(): Promise<{ CDISpecDirs: string[]; CDIDevices: string[] }> {
  const { cdiSpecDirs, loadCdiRegistry } = await import('../cdi/index.ts');
  const registry = await loadCdiRegistry(cdiSpecDirs());
  return { CDISpecDirs: [...registry.dirs], CDIDevices: [...registry.devices.keys()] };
}
