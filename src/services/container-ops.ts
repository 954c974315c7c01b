/**
 * Container verbs beyond create/start/stop/kill/rm: rename, pause and unpause (runc's
 * freezer), restart, and `ps` with its filters (their meanings are filters/containers.ts).
 */
import { reconcile, reconciledList, stopContainer, type ContainerControl } from '../container/control.ts';
import { requireCgroup } from '../runtime/rootless.ts';
import { NAME_RE } from '../container/names.ts';
import { containerListMatcher, type FilterArgs, NO_FILTERS } from './filters/index.ts';
import { containerPaths } from '../container/paths.ts';
import { runtimeOf } from '../container/runtime-adapter.ts';
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

/** The status docker shows: `paused` is a running container the freezer holds. */
export function liveStatus(rec: ContainerRecord): string {
  return rec.state.status === 'running' && isPaused(rec.id) ? 'paused' : rec.state.status;
}

/** The health status `ps` filters on: the record's when the container has a health check, else `none`. */
function healthOf(rec: ContainerRecord): string {
  return rec.state.health && rec.config.healthcheck ? rec.state.health.Status : 'none';
}

/**
 * `ps`: newest first, each record reconciled; running ones only unless `all`, a `status`
 * filter (which asks for stopped ones by itself) or a `limit` (`-n`, `-l`: the newest of all,
 * after the filters).
 */
export async function listContainersFiltered(
  deps: ContainerControl & Pick<ImageStores, 'images'>,
  opts: { all?: boolean; limit?: number; filters?: FilterArgs } = {},
): Promise<ContainerRecord[]> {
  const matcher = containerListMatcher(opts.filters ?? NO_FILTERS, {
    createdOf: (key) => Date.parse(deps.containers.require(key).created),
    imageIdOf: (ref) => findImageId(deps, ref),
  });
  const limit = opts.limit !== undefined && opts.limit > 0 ? opts.limit : undefined;
  const all = opts.all || limit !== undefined || matcher.wantsStopped;
  const out: ContainerRecord[] = [];
  for (const rec of await reconciledList(deps)) {
    const status = liveStatus(rec);
    if (!all && status !== 'running' && status !== 'paused' && status !== 'restarting') continue;
    if (!matcher.matches(rec, { status, health: healthOf(rec) })) continue;
    out.push(rec);
    if (limit !== undefined && out.length >= limit) break;
  }
  return out;
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

function runcOf(deps: ContainerControl, rec: ContainerRecord): Runc {
  return new Runc(containerPaths(deps, rec.id).runcRoot, runtimeOf(rec));
}

/** `pause`: freezes every process of a running container (runc pause, the cgroup freezer). */
export async function pauseContainer(deps: ContainerControl, idOrName: string): Promise<void> {
  const rec = await reconcile(deps, deps.containers.require(idOrName));
  if (rec.state.status !== 'running') throw new BerthError('CONFLICT', `Container ${rec.id} is not running`);
  if (isPaused(rec.id)) throw new BerthError('CONFLICT', `Container ${rec.id} is already paused`);
  requireCgroup('pause');
  if (!(await runcOf(deps, rec).pause(rec.id))) throw new BerthError('CONFLICT', `Container ${rec.id} is not running`);
  containerEvent(rec, 'pause');
}

/** `unpause`: thaws a paused container. */
export async function unpauseContainer(deps: ContainerControl, idOrName: string): Promise<void> {
  const rec = await reconcile(deps, deps.containers.require(idOrName));
  if (rec.state.status !== 'running' || !isPaused(rec.id)) throw new BerthError('CONFLICT', `Container ${rec.id} is not paused`);
  await runcOf(deps, rec).resume(rec.id);
  containerEvent(rec, 'unpause');
}

/**
 * Thaws a paused container before it is signalled: a frozen process takes no signal, not
 * even SIGKILL, so stop, kill and rm -f would wait on it for ever.
 */
export async function thawForSignal(deps: ContainerControl, idOrName: string): Promise<void> {
  const rec = deps.containers.find(idOrName);
  if (rec?.state.status === 'running' && isPaused(rec.id)) await runcOf(deps, rec).resume(rec.id);
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
