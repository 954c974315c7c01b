/**
 * `update`: new resource limits for a container. A running one gets them at once through
 * `runc update`; every container keeps them in its record, so inspect shows them and the next
 * start's spec has them. Checked as docker's daemon checks them, with its messages.
 */
import { cpus } from 'node:os';
import { requireCgroup } from '../runtime/rootless.ts';
import { reconcile, type ContainerControl } from '../container/control.ts';
import { containerEvent } from '../container/events.ts';
import { containerPaths } from '../container/paths.ts';
import { runtimeOf } from '../container/runtime-adapter.ts';
import type { ContainerRecord } from '../container/records.ts';
import { BerthError } from '../errors/index.ts';
import { Runc } from '../runtime/index.ts';
import { checkHostResources } from '../runtime/host-resources.ts';
import type { RuntimeOptions } from '../runtime/spec.ts';

export type ResourceUpdate = Pick<RuntimeOptions, 'memory' | 'memorySwap' | 'cpus' | 'cpuShares' | 'cpusetCpus' | 'pidsLimit'>;

const MIN_MEMORY = 6 * 1024 * 1024;

/** The limits after the update, refused as docker refuses them. */
function checked(current: ResourceUpdate, u: ResourceUpdate): ResourceUpdate {
  const ncpu = cpus().length;
  if (u.memory !== undefined && u.memory !== 0 && u.memory < MIN_MEMORY) throw new BerthError('INVALID_ARGUMENT', 'Minimum memory limit allowed is 6MB');
  if (u.cpus !== undefined && (u.cpus < 0.01 || u.cpus > ncpu)) {
    throw new BerthError('INVALID_ARGUMENT', `Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  }
  if (u.cpuShares !== undefined && !Number.isInteger(u.cpuShares)) throw new BerthError('INVALID_ARGUMENT', `invalid CPU shares: ${u.cpuShares}`);
  if (u.pidsLimit !== undefined && !Number.isInteger(u.pidsLimit)) throw new BerthError('INVALID_ARGUMENT', `invalid pids limit: ${u.pidsLimit}`);
  // The shares' range and the cpuset's syntax and presence on this host, as create checks them.
  checkHostResources({ cpuShares: u.cpuShares, cpusetCpus: u.cpusetCpus });
  const next: ResourceUpdate = { ...current, ...Object.fromEntries(Object.entries(u).filter(([, v]) => v !== undefined)) };
  const memory = next.memory ?? 0;
  if (u.memorySwap !== undefined && u.memorySwap !== -1) {
    if (!memory) throw new BerthError('INVALID_ARGUMENT', 'You should always set the Memory limit when using Memoryswap limit, see usage');
    if (u.memorySwap < memory) throw new BerthError('INVALID_ARGUMENT', 'Minimum memoryswap limit should be larger than memory limit, see usage');
  } else if (u.memory !== undefined && current.memorySwap !== undefined && current.memorySwap > 0 && memory > current.memorySwap) {
    throw new BerthError('INVALID_ARGUMENT', 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  return next;
}

/** runc's flags for the limits that changed: swap follows memory as create's spec sets it. */
function runcLimits(next: ResourceUpdate, u: ResourceUpdate): Record<string, string> {
  const l: Record<string, string> = {};
  if (u.memory !== undefined || u.memorySwap !== undefined) {
    const memory = next.memory ?? 0;
    l.memory = String(memory || -1);
    l['memory-swap'] = String(next.memorySwap === -1 || !memory ? -1 : (next.memorySwap ?? memory * 2));
  }
  if (u.cpus !== undefined) Object.assign(l, { 'cpu-period': '100000', 'cpu-quota': String(Math.round(u.cpus * 100000)) });
  if (u.cpuShares !== undefined) l['cpu-share'] = String(u.cpuShares);
  if (u.cpusetCpus !== undefined) l['cpuset-cpus'] = u.cpusetCpus;
  if (u.pidsLimit !== undefined) l['pids-limit'] = String(u.pidsLimit > 0 ? u.pidsLimit : -1);
  return l;
}

export async function updateContainer(deps: ContainerControl, idOrName: string, u: ResourceUpdate): Promise<ContainerRecord> {
  const rec = await reconcile(deps, deps.containers.require(idOrName));
  const current = rec.config.runtime as ResourceUpdate;
  const next = checked(current, u);
  if (rec.state.status === 'running') requireCgroup('update');
  if (rec.state.status === 'running') await new Runc(containerPaths(deps, rec.id).runcRoot, runtimeOf(rec)).update(rec.id, runcLimits(next, u));
  const config = deps.containers.updateConfig(rec.id, (c) => ({ ...c, runtime: { ...c.runtime, ...next } }));
  const updated = { ...rec, config };
  containerEvent(updated, 'update');
  return updated;
}
