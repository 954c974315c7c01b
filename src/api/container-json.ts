/**
 * docker's JSON of containers: the rows of `GET /containers/json` (what `ps`, compose and
 * testcontainers list) drawn from the same inspect view `berth inspect` prints
 * (services/container-ops.ts `containerInspectView`), so the two never disagree.
 */
import type { ContainerRecord } from '../services/containers.ts';
import { statusText } from '../container/views.ts';

/** The `ps` command column: the argv joined, with the words that need it quoted, as dockerd prints it. */
function commandOf(rec: ContainerRecord): string {
  return [rec.config.path, ...rec.config.args].map((a) => (a === '' || /[\s'"\\]/.test(a) ? `'${a.replace(/'/g, `'\\''`)}'` : a)).join(' ');
}

type Inspect = {
  State: { Status: string };
  HostConfig: { NetworkMode: string };
  NetworkSettings: { Networks: Record<string, unknown> };
  Mounts: Array<Record<string, unknown>>;
};

/** One row of `GET /containers/json`, from the record and its inspect view. */
export function containerRow(rec: ContainerRecord, view: Record<string, unknown>): Record<string, unknown> {
  const v = view as unknown as Inspect;
  const status = v.State.Status;
  const ports = (rec.state.ports ?? []).map((p) => ({ IP: p.hostIp || '0.0.0.0', PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol }));
  const exposed = ((rec.config.runtime as { exposedPorts?: string[] }).exposedPorts ?? [])
    .map((e) => /^(\d+)(?:\/(\w+))?$/.exec(e))
    .filter((m): m is RegExpExecArray => !!m && !ports.some((p) => p.PrivatePort === Number(m[1]) && p.Type === (m[2] ?? 'tcp')))
    .map((m) => ({ PrivatePort: Number(m[1]), Type: m[2] ?? 'tcp' }));
  return {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: rec.imageRef,
    ImageID: rec.imageId,
    Command: commandOf(rec),
    Created: Math.floor(Date.parse(rec.created) / 1000),
    Ports: [...ports, ...exposed],
    Labels: rec.config.labels,
    State: status,
    Status: status === 'paused' ? `${statusText(rec)} (Paused)` : statusText(rec),
    HostConfig: { NetworkMode: v.HostConfig.NetworkMode },
    NetworkSettings: { Networks: v.NetworkSettings.Networks },
    Mounts: v.Mounts.map((m) => ({ ...m })),
  };
}
