/** Docker-shaped views of a container: `ps` rows, status text, and `inspect` JSON. */
import { humanDuration } from '../progress/units.ts';
import { deviceRequestsView, type CdiRequest } from '../cdi/index.ts';
import { parseDevice } from '../runtime/index.ts';
import { hostResourceFields, type HostRuntimeView } from './host-config.ts';
import { healthText } from './health-config.ts';
import type { ContainerRecord } from './records.ts';
import { restartPolicyView } from './restart-policy.ts';
import { ZERO_TIME } from './types.ts';
import { runFlagsHostConfig } from './create-extras.ts';

export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.state;
  switch (s.status) {
    case 'running':
      return `Up ${humanDuration(now - Date.parse(s.startedAt))}${s.health ? ` (${healthText(s.health.Status)})` : ''}`;
    case 'restarting':
      return `Restarting (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'exited':
      return s.finishedAt === ZERO_TIME ? `Exited (${s.exitCode})` : `Exited (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'created':
      return 'Created';
    case 'removing':
      return 'Removal In Progress';
    default:
      return 'Dead';
  }
}

function commandText(rec: ContainerRecord, trunc: boolean): string {
  const full = [rec.config.path, ...rec.config.args].join(' ');
  const shown = trunc && full.length > 20 ? `${full.slice(0, 19)}…` : full;
  return `"${shown}"`;
}

export function portsText(rec: ContainerRecord): string {
  return (rec.state.ports ?? []).map((p) => `${p.hostIp === '' ? '0.0.0.0' : p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ');
}

export function psRow(rec: ContainerRecord, opts: { noTrunc?: boolean } = {}): Record<string, string> {
  return {
    ID: opts.noTrunc ? rec.id : rec.id.slice(0, 12),
    Image: rec.imageRef,
    Command: commandText(rec, !opts.noTrunc),
    CreatedAt: rec.created,
    RunningFor: `${humanDuration(Date.now() - Date.parse(rec.created))} ago`,
    Status: statusText(rec),
    State: rec.state.status,
    Ports: portsText(rec),
    Names: rec.name,
    Labels: Object.entries(rec.config.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    Mounts: rec.config.mounts.map((m) => m.volumeName ?? m.source).join(','),
    Networks: rec.config.network,
  };
}

/** What inspect shows beyond the record: facts only the kernel or other stores know. */
export interface InspectLive {
  /** The cgroup freezer holds it (`pause`). */
  readonly paused?: boolean;
  /** The id of the network the container is on, when it is a user network. */
  readonly networkId?: string;
}

type NetworkView = {
  ipAddress?: string;
  ipPrefixLength?: number;
  gateway?: string;
  macAddress?: string;
  resolvConfPath?: string;
  hostsPath?: string;
  hostnamePath?: string;
};

/** A capability as docker 20.10 shows it: upper case with its CAP_ prefix (`ALL` stays). */
function capName(c: string): string {
  const u = c.toUpperCase();
  return u === 'ALL' || u.startsWith('CAP_') ? u : `CAP_${u}`;
}

export function inspectContainer(rec: ContainerRecord, paths: { logPath: string; rootfs: string }, live: InspectLive = {}): Record<string, unknown> {
  const s = rec.state;
  const c = rec.config;
  const rt = c.runtime as {
    memory?: number;
    memorySwap?: number;
    cpus?: number;
    pidsLimit?: number;
    readOnly?: boolean;
    privileged?: boolean;
    capAdd?: string[];
    capDrop?: string[];
    securityOpt?: string[];
    shmSize?: number;
    init?: boolean;
    exposedPorts?: string[];
    devices?: string[];
  } & HostRuntimeView &
    CdiRequest;
  const net = (s.network ?? {}) as NetworkView;
  const ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const e of rt.exposedPorts ?? []) ports[e.includes('/') ? e : `${e}/tcp`] = null;
  for (const p of s.ports ?? []) (ports[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const spec of c.publish) {
    const m = /^(?:(.*):)?(\d*):(\d+)(?:\/(\w+))?$/.exec(spec) ?? /^()()(\d+)(?:\/(\w+))?$/.exec(spec);
    if (m) (bindings[`${m[3]}/${m[4] ?? 'tcp'}`] ??= []).push({ HostIp: (m[1] ?? '').replace(/^\[|\]$/g, ''), HostPort: m[2] ?? '' });
  }
  const running = s.status === 'running';
  // docker counts a restarting container as running (its State.Running), waiting for its next start.
  const restarting = s.status === 'restarting';
  const endpoint = {
    IPAMConfig: null,
    Links: null,
    Aliases: c.networkAliases?.length ? [...c.networkAliases] : null,
    NetworkID: live.networkId ?? '',
    EndpointID: running && net.ipAddress ? rec.id : '',
    Gateway: net.gateway ?? '',
    IPAddress: s.ipAddress ?? '',
    IPPrefixLen: net.ipPrefixLength ?? 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: net.macAddress ?? '',
    DriverOpts: null,
  };
  const exposed = Object.fromEntries((rt.exposedPorts ?? []).map((e) => [e.includes('/') ? e : `${e}/tcp`, {}]));
  return {
    Id: rec.id,
    Created: rec.created,
    Path: c.path,
    Args: c.args,
    State: {
      Status: running && live.paused ? 'paused' : s.status,
      Running: running || restarting,
      Paused: running && !!live.paused,
      Restarting: restarting,
      OOMKilled: s.oomKilled,
      Dead: s.status === 'dead',
      Pid: s.pid,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: s.startedAt,
      FinishedAt: s.finishedAt,
      ...(s.health ? { Health: s.health } : {}),
    },
    Image: rec.imageId,
    ResolvConfPath: net.resolvConfPath ?? '',
    HostnamePath: net.hostnamePath ?? '',
    HostsPath: net.hostsPath ?? '',
    LogPath: paths.logPath,
    Name: `/${rec.name}`,
    RestartCount: s.restartCount ?? 0,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      Binds: c.mounts.filter((m) => m.type !== 'tmpfs').map((m) => `${m.volumeName ?? m.source}:${m.destination}${m.readonly ? ':ro' : ''}`),
      LogConfig: { Type: 'json-file', Config: {} },
      NetworkMode: c.network,
      PortBindings: bindings,
      RestartPolicy: restartPolicyView(c.restartPolicy),
      AutoRemove: c.autoRemove,
      VolumeDriver: '',
      VolumesFrom: null,
      CapAdd: rt.capAdd?.length ? rt.capAdd.map(capName) : null,
      CapDrop: rt.capDrop?.length ? rt.capDrop.map(capName) : null,
      Dns: [],
      DnsOptions: [],
      DnsSearch: [],
      ExtraHosts: null,
      GroupAdd: null,
      IpcMode: rt.ipcMode || 'private',
      Links: null,
      OomScoreAdj: 0,
      PidMode: rt.pidMode ?? '',
      Privileged: rt.privileged ?? false,
      PublishAllPorts: false,
      ReadonlyRootfs: rt.readOnly ?? false,
      SecurityOpt: rt.securityOpt?.length ? rt.securityOpt : null,
      UTSMode: '',
      UsernsMode: '',
      ShmSize: rt.shmSize ?? 67108864,
      Runtime: rt.ociRuntime ?? 'runc',
      Isolation: '',
      CpuShares: rt.cpuShares ?? 0,
      Memory: rt.memory ?? 0,
      MemorySwap: rt.memorySwap ?? 0,
      NanoCpus: rt.cpus ? Math.round(rt.cpus * 1e9) : 0,
      CgroupParent: '',
      ...hostResourceFields(rt),
      Devices: (rt.devices ?? []).map((spec) => {
        const d = parseDevice(spec);
        return { PathOnHost: d.pathOnHost, PathInContainer: d.pathInContainer, CgroupPermissions: d.permissions };
      }),
      DeviceRequests: deviceRequestsView(rt),
      PidsLimit: rt.pidsLimit ?? null,
      ...(c.mounts.some((m) => m.type === 'tmpfs')
        ? { Tmpfs: Object.fromEntries(c.mounts.filter((m) => m.type === 'tmpfs').map((m) => [m.destination, (m.options ?? []).join(',')])) }
        : {}),
      Init: rt.init ?? null,
      ...runFlagsHostConfig(c),
    },
    GraphDriver: { Name: 'overlay2', Data: { MergedDir: paths.rootfs } },
    Mounts: c.mounts.map((m) => ({
      Type: m.type,
      ...(m.volumeName ? { Name: m.volumeName } : {}),
      Source: m.source,
      Destination: m.destination,
      ...(m.type === 'volume' ? { Driver: 'local' } : {}),
      Mode: m.readonly ? 'ro' : '',
      RW: !m.readonly,
      Propagation: m.type === 'bind' ? 'rprivate' : '',
    })),
    Config: {
      Hostname: c.hostname,
      Domainname: '',
      User: c.user,
      AttachStdin: c.interactive,
      AttachStdout: !c.interactive,
      AttachStderr: !c.interactive,
      ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
      Tty: c.tty,
      OpenStdin: c.interactive,
      StdinOnce: c.interactive,
      Env: c.env,
      Cmd: c.cmd ?? null,
      // docker leaves out the fields at their zero (omitempty).
      ...(c.healthcheck ? { Healthcheck: Object.fromEntries(Object.entries(c.healthcheck).filter(([, v]) => v !== 0 && v !== null && v !== undefined)) } : {}),
      Image: rec.imageRef,
      Volumes: null,
      WorkingDir: c.workdir,
      Entrypoint: c.entrypoint ?? null,
      OnBuild: null,
      Labels: c.labels,
      StopSignal: c.stopSignal,
      StopTimeout: c.stopTimeout,
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: ports,
      SandboxKey: '',
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: c.network === 'bridge' ? endpoint.EndpointID : '',
      Gateway: c.network === 'bridge' ? endpoint.Gateway : '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: c.network === 'bridge' ? endpoint.IPAddress : '',
      IPPrefixLen: c.network === 'bridge' ? endpoint.IPPrefixLen : 0,
      IPv6Gateway: '',
      MacAddress: c.network === 'bridge' ? endpoint.MacAddress : '',
      Networks: { [c.network]: endpoint },
    },
  };
}
