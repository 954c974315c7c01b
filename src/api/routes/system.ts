/**
 * `/_ping`, `/version`, `/info`, and the swarm and plugin endpoints berth does not have:
 * swarm's answer 503 as an inactive node's do, plugins list none and know none.
 */
import { release } from 'node:os';
import { BerthError } from '../../errors/index.ts';
import { cdiSpecDirs } from '../../cdi/index.ts';
import { systemInfo } from '../../services/system.ts';
import type { ApiDeps } from '../deps.ts';
import { type ApiContext, sendJson } from '../http.ts';
import { HttpError } from '../status.ts';
import { API_VERSION, MIN_API_VERSION, type Route, route } from '../router.ts';

function ping(ctx: ApiContext): void {
  const res = ctx.res!;
  const body = ctx.method === 'HEAD' ? '' : 'OK';
  res.writeHead(200, {
    'Builder-Version': '1',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    Swarm: 'inactive',
  });
  res.end(body);
}

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

async function version(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const info = await systemInfo(deps.engine);
  const common = {
    Version: deps.serverVersion,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: `node ${process.version}`,
    Os: 'linux',
    Arch: GO_ARCH[process.arch] ?? process.arch,
    KernelVersion: release(),
    BuildTime: '',
  };
  sendJson(ctx, 200, {
    Platform: { Name: 'berth' },
    Components: [
      {
        Name: 'Engine',
        Version: deps.serverVersion,
        Details: {
          ApiVersion: API_VERSION,
          Arch: common.Arch,
          BuildTime: '',
          Experimental: 'false',
          GitCommit: '',
          GoVersion: common.GoVersion,
          KernelVersion: common.KernelVersion,
          MinAPIVersion: MIN_API_VERSION,
          Os: 'linux',
        },
      },
      { Name: 'runc', Version: info.RuncVersion, Details: { GitCommit: '' } },
    ],
    ...common,
  });
}

async function info(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const i = await systemInfo(deps.engine);
  sendJson(ctx, 200, {
    ID: '',
    Containers: i.Containers,
    ContainersRunning: i.ContainersRunning,
    ContainersPaused: 0,
    ContainersStopped: i.ContainersStopped,
    Images: i.Images,
    Driver: i.Driver === 'overlay' ? 'overlay2' : i.Driver,
    DriverStatus: [['Backing Filesystem', 'extfs'], ...i.DriverStatus],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file'] },
    MemoryLimit: true,
    SwapLimit: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    Debug: false,
    NFd: 0,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'json-file',
    CgroupDriver: i.CgroupDriver,
    CgroupVersion: i.CgroupVersion.startsWith('2') ? '2' : '1',
    KernelVersion: i.KernelVersion,
    OperatingSystem: i.OperatingSystem,
    OSVersion: '',
    OSType: 'linux',
    Architecture: i.Architecture,
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: (({ HostMirrors: _, ...docker }) => docker)(i.RegistryConfig),
    HttpProxy: i.HttpProxy,
    HttpsProxy: i.HttpsProxy,
    NoProxy: i.NoProxy,
    NCPU: i.NCPU,
    MemTotal: i.MemTotal,
    DockerRootDir: i.DockerRootDir,
    Name: i.Name,
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: deps.serverVersion,
    Runtimes: { runc: { path: 'runc' } },
    DefaultRuntime: 'runc',
    CDISpecDirs: [...cdiSpecDirs()],
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    // A container outlives the server: its monitor owns it, as live-restore keeps docker's.
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: '',
    SecurityOptions: ['name=seccomp,profile=builtin'],
    Warnings: null,
  });
}

function notSwarm(): never {
  throw new HttpError(503, 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
}

export function systemRoutes(deps: ApiDeps): Route[] {
  const swarm: Route[] = ['swarm', 'nodes', 'services', 'tasks', 'secrets', 'configs'].flatMap((kind) =>
    ['GET', 'POST', 'DELETE'].flatMap((m) => [route(m, `/${kind}`, notSwarm), route(m, `/${kind}/:rest*`, notSwarm)]),
  );
  return [
    route('GET', '/_ping', ping),
    route('GET', '/version', (ctx) => version(deps, ctx)),
    route('GET', '/info', (ctx) => info(deps, ctx)),
    route('GET', '/plugins', (ctx) => sendJson(ctx, 200, [])),
    route('GET', '/plugins/:name*/json', (ctx) => {
      throw new BerthError('NOT_FOUND', `plugin "${ctx.params.name}" not found`);
    }),
    ...swarm,
  ];
}
