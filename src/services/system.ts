/**
 * What the engine runs on and what it holds: `info`'s facts and `system df`'s counts, as data.
 * `system check` and `system prune` are gc.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ImageStores } from '../image/stores.ts';
import { registryConfig, type RegistryConfig } from '../registry/hosts.ts';
import { proxySettings } from '../registry/proxy.ts';
import { RUNC } from '../runtime/runc.ts';
import type { ContainerRecords } from '../store/containers.ts';
import { runChild } from '../sys/spawn.ts';
import { isRootless } from '../sys/rootless.ts';
import { driverReason } from '../snapshot/select.ts';

/** docker info's fields, under docker's names (a `--format` template reads them). */
export type SystemInfo = {
  readonly Containers: number;
  readonly ContainersRunning: number;
  readonly ContainersStopped: number;
  readonly Images: number;
  readonly Driver: string;
  /** docker's pairs under the driver: here why the driver was chosen (snapshot/select.ts). */
  readonly DriverStatus: ReadonlyArray<readonly [string, string]>;
  readonly DockerRootDir: string;
  readonly RunRoot: string;
  readonly CgroupDriver: string;
  readonly CgroupVersion: string;
  readonly DefaultRuntime: string;
  readonly RuncVersion: string;
  readonly KernelVersion: string;
  readonly OperatingSystem: string;
  readonly OSType: string;
  readonly Architecture: string;
  readonly NCPU: number;
  readonly MemTotal: number;
  readonly Name: string;
  readonly ServerVersion: string;
  /** From the config file (registry/hosts.ts). */
  readonly RegistryConfig: RegistryConfig;
  readonly HttpProxy: string;
  readonly HttpsProxy: string;
  readonly NoProxy: string;
};

function driverStatus(root: string): Array<[string, string]> {
  const reason = driverReason(join(root, 'snapshots'));
  return [...(reason ? [['Chosen because', reason] as [string, string]] : []), ...(isRootless() ? [['Rootless', 'true'] as [string, string]] : [])];
}

function cgroupVersion(): string {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return '2';
  return existsSync('/sys/fs/cgroup/unified') ? '1 (hybrid)' : '1';
}

export async function systemInfo(
  engine: Pick<ImageStores, 'images' | 'snapshots'> & {
    readonly containers: Pick<ContainerRecords, 'countByStatus'>;
    readonly root: string;
    readonly runRoot: string;
  },
): Promise<SystemInfo> {
  const containers = engine.containers.countByStatus();
  const count = (s: string) => containers.get(s) ?? 0;
  let runcVersion = 'unknown';
  // Through the one spawn path, as every runc start is (sys/spawn.ts).
  const r = await runChild(RUNC, ['--version']).catch(() => undefined);
  if (r?.status === 0) runcVersion = r.stdout.split('\n')[0]!.replace(/^runc version /, '');
  return {
    Containers: [...containers.values()].reduce((n, c) => n + c, 0),
    ContainersRunning: count('running'),
    ContainersStopped: count('exited'),
    Images: engine.images.list().length,
    Driver: engine.snapshots.driver,
    DriverStatus: driverStatus(engine.root),
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
    RegistryConfig: registryConfig(),
    ...proxySettings(),
  };
}
