/**
 * Container verbs beyond create/start/stop/kill/rm: rename, pause and unpause (runc's
 * freezer), restart, and the filters `ps --filter` and `container prune --filter` take, in
 * docker's meanings. The front ends parse the filters; this decides what matches.
 */
import { reconcile, stopContainer, type ContainerControl } from '../container/control.ts';
import { NAME_RE } from '../container/names.ts';
import { containerPaths } from '../container/paths.ts';
import type { NetworkRecords } from '../network/records.ts';
import { isPredefinedNetwork } from '../network/records.ts';
import type { StartDeps } from '../container/start.ts';
import { containerEvent } from '../container/events.ts';
import { BerthError } from '../errors/index.ts';
import { findImageId } from '../image/resolve.ts';
import type { ImageStores } from '../image/stores.ts';
import { Runc } from '../runtime/index.ts';
import { isPaused } from './container-stats.ts';
import type { ContainerRecord } from '../container/records.ts';
import { inspectContainer } from '../container/views.ts';
import { startDetached } from './start.ts';

/** Filters as docker's `filters` parameter carries them: each key to the values given for it. */
export type ContainerFilters = Readonly<Record<string, readonly string[]>>;

const LIST_FILTERS = [
  'ancestor',
  'before',
  'exited',
  'id',
  'label',
  'name',
  'network',
  'since',
  'status',
  'volume',
  'health',
  'isolation',
  'is-task',
  'publish',
  'expose',
];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** The status docker shows: `paused` is a running container the freezer holds. */
export function liveStatus(rec: ContainerRecord): string {
  return rec.state.status === 'running' && isPaused(rec.id) ? 'paused' : rec.state.status;
}

/** `label=k` (has the key) or `label=k=v` (has the value), as docker matches them. */
export function labelsMatch(labels: Readonly<Record<string, string>>, wanted: readonly string[]): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? w in labels : labels[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

function regexMatch(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return value.includes(pattern);
  }
}

/** Checks the keys and values of list filters; an unknown key is docker's 400. */
export function checkListFilters(filters: ContainerFilters): void {
  for (const key of Object.keys(filters)) {
    if (!LIST_FILTERS.includes(key)) throw new BerthError('INVALID_ARGUMENT', `invalid filter '${key}'`);
  }
  for (const s of filters.status ?? []) {
    if (!STATUSES.includes(s)) throw new BerthError('INVALID_ARGUMENT', `invalid filter 'status=${s}'`, { hint: `status is one of ${STATUSES.join(', ')}` });
  }
  for (const e of filters.exited ?? []) if (!/^-?\d+$/.test(e)) throw new BerthError('INVALID_ARGUMENT', `invalid filter 'exited=${e}'`);
}

/**
 * `ps` with filters: newest first, running ones only unless `all`, a status or exited filter
 * (which asks for stopped ones by itself), or a limit. Each record is reconciled first.
 */
export async function listContainersFiltered(
  deps: ContainerControl & Pick<ImageStores, 'images'>,
  opts: { all?: boolean; limit?: number; filters?: ContainerFilters } = {},
): Promise<ContainerRecord[]> {
  const f = opts.filters ?? {};
  checkListFilters(f);
  const all = opts.all || (opts.limit ?? 0) > 0 || !!f.status?.length || !!f.exited?.length;
  const recs: ContainerRecord[] = [];
  for (const r of deps.containers.list()) recs.push(await reconcile(deps, r));
  const createdOf = (key: string) => Date.parse(deps.containers.require(key).created);
  const before = f.before?.length ? Math.min(...f.before.map(createdOf)) : undefined;
  const since = f.since?.length ? Math.max(...f.since.map(createdOf)) : undefined;
  const ancestors = (f.ancestor ?? []).map((a) => ({ ref: a, id: findImageId(deps, a) }));
  const out = recs.filter((r) => {
    const status = liveStatus(r);
    if (!all && status !== 'running' && status !== 'paused') return false;
    if (f.status?.length && !f.status.includes(status)) return false;
    if (f.label?.length && !labelsMatch(r.config.labels, f.label)) return false;
    if (f.name?.length && !f.name.some((n) => regexMatch(n, `/${r.name}`))) return false;
    if (f.id?.length && !f.id.some((i) => r.id.startsWith(i))) return false;
    if (f.exited?.length && !(r.state.status === 'exited' && f.exited.includes(String(r.state.exitCode)))) return false;
    if (f.ancestor?.length && !ancestors.some((a) => a.ref === r.imageRef || (a.id !== undefined && a.id === r.imageId))) return false;
    if (f.network?.length && !f.network.includes(r.config.network)) return false;
    if (f.volume?.length && !f.volume.some((v) => r.config.mounts.some((m) => m.volumeName === v || m.destination === v || m.source === v))) return false;
    // berth has no health checks and no swarm tasks: every container is health "none", no task.
    if (f.health?.length && !f.health.includes('none')) return false;
    if (f['is-task']?.length && !f['is-task'].includes('false')) return false;
    if (
      f.publish?.length &&
      !f.publish.some((p) =>
        portMatches(
          p,
          (r.state.ports ?? []).map((b) => [b.hostPort, b.protocol]),
        ),
      )
    )
      return false;
    if (f.expose?.length && !f.expose.some((p) => portMatches(p, exposedOf(r)))) return false;
    if (before !== undefined && !(Date.parse(r.created) < before)) return false;
    if (since !== undefined && !(Date.parse(r.created) > since)) return false;
    return true;
  });
  return opts.limit && opts.limit > 0 ? out.slice(0, opts.limit) : out;
}

/** The container ports a container exposes or publishes, with their protocols. */
function exposedOf(rec: ContainerRecord): Array<[number, string]> {
  const exposed = ((rec.config.runtime as { exposedPorts?: string[] }).exposedPorts ?? []).map((e): [number, string] => {
    const [port, proto = 'tcp'] = e.split('/');
    return [Number(port), proto];
  });
  return [...exposed, ...(rec.state.ports ?? []).map((b): [number, string] => [b.containerPort, b.protocol])];
}

/** docker's `publish`/`expose` filter value: `80`, `80/udp`, or a range `8000-8080[/tcp]`. */
function portMatches(filter: string, ports: ReadonlyArray<readonly [number, string]>): boolean {
  const m = /^(\d+)(?:-(\d+))?(?:\/(\w+))?$/.exec(filter);
  if (!m) throw new BerthError('INVALID_ARGUMENT', `invalid filter '${filter}': not a port or a port range`);
  const [lo, hi] = [Number(m[1]), Number(m[2] ?? m[1])];
  const proto = m[3] ?? 'tcp';
  return ports.some(([port, p]) => port >= lo && port <= hi && p === proto);
}

/** `until` for prune: a unix time, an RFC 3339 time, or a duration before now (`10m`, `2h`). */
export function untilTime(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const d = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (d) return now - Number(d[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[d[2] as 'ms' | 's' | 'm' | 'h'];
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new BerthError('INVALID_ARGUMENT', `invalid filter 'until=${value}': not a time or a duration`);
  return t;
}

/** Which stopped containers `container prune` takes: `label`, `label!` and `until` filters. */
export function pruneMatcher(filters: ContainerFilters): (rec: ContainerRecord) => boolean {
  for (const key of Object.keys(filters)) {
    if (!['label', 'label!', 'until'].includes(key)) throw new BerthError('INVALID_ARGUMENT', `invalid filter '${key}'`);
  }
  const until = filters.until?.length ? Math.min(...filters.until.map((u) => untilTime(u))) : undefined;
  return (rec) =>
    (!filters.label?.length || labelsMatch(rec.config.labels, filters.label)) &&
    (!filters['label!']?.length || !filters['label!'].some((l) => labelsMatch(rec.config.labels, [l]))) &&
    (until === undefined || Date.parse(rec.created) < until);
}

/** `rename`: the name's syntax as create checks it, and docker's conflict when it is taken. */
export function renameContainer(deps: Pick<ContainerControl, 'containers'>, idOrName: string, newName: string): void {
  const rec = deps.containers.require(idOrName);
  const name = newName.replace(/^\//, '');
  if (!name) throw new BerthError('INVALID_ARGUMENT', 'Neither old nor new names may be empty');
  if (!NAME_RE.test(name)) throw new BerthError('INVALID_ARGUMENT', `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (name === rec.name) throw new BerthError('INVALID_ARGUMENT', 'Renaming a container with the same name as its current name');
  try {
    deps.containers.rename(rec.id, name);
  } catch (e) {
    if (e instanceof BerthError && e.code === 'CONFLICT') throw new BerthError('CONFLICT', `Error when allocating new name: ${e.message}`);
    throw e;
  }
  containerEvent({ ...rec, name }, 'rename', { oldName: `/${rec.name}` });
}

function runcOf(deps: ContainerControl, id: string): Runc {
  return new Runc(containerPaths(deps, id).runcRoot);
}

/** `pause`: freezes every process of a running container (runc pause, the cgroup freezer). */
export async function pauseContainer(deps: ContainerControl, idOrName: string): Promise<void> {
  const rec = await reconcile(deps, deps.containers.require(idOrName));
  if (rec.state.status !== 'running') throw new BerthError('CONFLICT', `Container ${rec.id} is not running`);
  if (isPaused(rec.id)) throw new BerthError('CONFLICT', `Container ${rec.id} is already paused`);
  if (!(await runcOf(deps, rec.id).pause(rec.id))) throw new BerthError('CONFLICT', `Container ${rec.id} is not running`);
  containerEvent(rec, 'pause');
}

/** `unpause`: thaws a paused container. */
export async function unpauseContainer(deps: ContainerControl, idOrName: string): Promise<void> {
  const rec = await reconcile(deps, deps.containers.require(idOrName));
  if (rec.state.status !== 'running' || !isPaused(rec.id)) throw new BerthError('CONFLICT', `Container ${rec.id} is not paused`);
  await runcOf(deps, rec.id).resume(rec.id);
  containerEvent(rec, 'unpause');
}

/**
 * Thaws a paused container before it is signalled: a frozen process takes no signal, not
 * even SIGKILL, so stop, kill and rm -f would wait on it for ever.
 */
export async function thawForSignal(deps: ContainerControl, idOrName: string): Promise<void> {
  const rec = deps.containers.find(idOrName);
  if (rec?.state.status === 'running' && isPaused(rec.id)) await runcOf(deps, rec.id).resume(rec.id);
}

/** `restart`: stop (STOPSIGNAL, then SIGKILL after `timeout`), then start detached under a new monitor. */
export async function restartContainer(deps: StartDeps, idOrName: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
  const rec = await reconcile(deps, deps.containers.require(idOrName));
  await thawForSignal(deps, rec.id);
  await stopContainer(deps, rec.id, opts);
  await startDetached(deps, rec.id);
}

/** docker's inspect JSON of a container, with what only the kernel and the network records know. */
export function containerInspectView(deps: ContainerControl & { readonly networks: NetworkRecords }, rec: ContainerRecord): Record<string, unknown> {
  const p = containerPaths(deps, rec.id);
  const networkId = isPredefinedNetwork(rec.config.network) ? undefined : deps.networks.find(rec.config.network)?.id;
  return inspectContainer(
    rec,
    { logPath: p.log, rootfs: `${deps.root}/snapshots/active/${rec.id}/merged` },
    { paused: rec.state.status === 'running' && isPaused(rec.id), networkId },
  );
}

/** The record of a container by id, prefix or name, reconciled (a dead recorder's container reads as exited). */
export function refreshedContainer(deps: ContainerControl, idOrName: string): Promise<ContainerRecord> {
  return reconcile(deps, deps.containers.require(idOrName));
}
