/** Docker-shaped views of a container: `ps` rows, status text, and `inspect` JSON. */
import { humanDuration } from '../progress/units.ts';
import type { ContainerRecord } from './records.ts';
import { ZERO_TIME } from './types.ts';

export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.state;
  switch (s.status) {
    case 'running':
      return `Up ${humanDuration(now - Date.parse(s.startedAt))}`;
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

export function inspectContainer(rec: ContainerRecord, paths: { logPath: string; rootfs: string }): Record<string, unknown> {
  const s = rec.state;
  const c = rec.config;
  const rt = c.runtime as {
    memory?: number;
    cpus?: number;
    pidsLimit?: number;
    readOnly?: boolean;
    privileged?: boolean;
    capAdd?: string[];
    capDrop?: string[];
    shmSize?: number;
    init?: boolean;
  };
  const ports: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of s.ports ?? []) (ports[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
  return {
    Id: rec.id,
    Created: rec.created,
    Path: c.path,
    Args: c.args,
    State: {
      Status: s.status,
      Running: s.status === 'running',
      Paused: false,
      Restarting: false,
      OOMKilled: s.oomKilled,
      Dead: s.status === 'dead',
      Pid: s.pid,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: s.startedAt,
      FinishedAt: s.finishedAt,
    },
    Image: rec.imageId,
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: paths.logPath,
    Name: `/${rec.name}`,
    RestartCount: 0,
    Driver: 'overlay2',
    Platform: 'linux',
    HostConfig: {
      Binds: c.mounts.filter((m) => m.type !== 'tmpfs').map((m) => `${m.volumeName ?? m.source}:${m.destination}${m.readonly ? ':ro' : ''}`),
      NetworkMode: c.network,
      PortBindings: ports,
      AutoRemove: c.autoRemove,
      CapAdd: rt.capAdd ?? null,
      CapDrop: rt.capDrop ?? null,
      Privileged: rt.privileged ?? false,
      ReadonlyRootfs: rt.readOnly ?? false,
      ShmSize: rt.shmSize ?? 67108864,
      Memory: rt.memory ?? 0,
      NanoCpus: rt.cpus ? Math.round(rt.cpus * 1e9) : 0,
      PidsLimit: rt.pidsLimit ?? null,
      Init: rt.init ?? null,
    },
    GraphDriver: { Name: 'overlay2', Data: { MergedDir: paths.rootfs } },
    Mounts: c.mounts.map((m) => ({
      Type: m.type,
      ...(m.volumeName ? { Name: m.volumeName } : {}),
      Source: m.source,
      Destination: m.destination,
      Mode: m.readonly ? 'ro' : '',
      RW: !m.readonly,
      Propagation: m.type === 'bind' ? 'rprivate' : '',
    })),
    Config: {
      Hostname: c.hostname,
      Domainname: '',
      User: c.user,
      AttachStdin: c.interactive,
      Tty: c.tty,
      OpenStdin: c.interactive,
      Env: c.env,
      Cmd: c.cmd ?? null,
      Image: rec.imageRef,
      WorkingDir: c.workdir,
      Entrypoint: c.entrypoint ?? null,
      Labels: c.labels,
      StopSignal: c.stopSignal,
    },
    NetworkSettings: {
      Ports: ports,
      IPAddress: s.ipAddress ?? '',
      Networks: { [c.network]: { IPAddress: s.ipAddress ?? '' } },
    },
  };
}
