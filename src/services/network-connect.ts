/**
 * `network connect` and `disconnect`. A berth container is on one network, chosen in its
 * record and wired when it starts, so these change the record of a container that is not
 * running: docker-compose creates each service's container and then (re)connects it to the
 * project network under its aliases before starting it. Wiring a running container's netns
 * into a second bridge is not done; that is refused with a clear error.
 */
import type { ContainerRecords } from '../container/records.ts';
import { BerthError } from '../errors/index.ts';
import { isPredefinedNetwork } from '../network/records.ts';
import { recordEvent } from '../store/events.ts';
import { findNetwork, type NetworkDeps, usesNetwork } from './networks.ts';

export interface ConnectOptions {
  /** Extra names the container answers to on the network. */
  readonly aliases?: readonly string[];
}

function refuseRunning(status: string, what: string): void {
  if (status === 'running' || status === 'removing') {
    throw new BerthError('UNSUPPORTED', `berth cannot ${what} a running container; stop it first, or connect it before it starts`);
  }
}

/** Puts container `idOrName` on network `nameOrId` (its only one), with `aliases` there. */
export function connectNetwork(
  deps: NetworkDeps & { readonly containers: ContainerRecords },
  nameOrId: string,
  idOrName: string,
  opts: ConnectOptions = {},
): void {
  const net = findNetwork(deps, nameOrId);
  const rec = deps.containers.require(idOrName);
  const aliases = opts.aliases ?? [];
  if (aliases.length && isPredefinedNetwork(net.Name)) {
    throw new BerthError('INVALID_ARGUMENT', 'network-scoped alias is supported only for containers in user defined networks');
  }
  deps.containers.updateConfig(rec.id, (c, s) => {
    if (usesNetwork({ config: c }, net.Name)) {
      if (s.status === 'running') throw new BerthError('FAILED_PRECONDITION', `endpoint with name ${rec.name} already exists in network ${net.Name}`);
      return { ...c, network: net.Name, networkAliases: [...new Set([...(c.networkAliases ?? []), ...aliases])] };
    }
    refuseRunning(s.status, 'connect to another network');
    // One network per container: the default bridge (or none) gives way to a chosen network;
    // another chosen network does not.
    if (!isPredefinedNetwork(c.network) && c.network !== 'none') {
      throw new BerthError('UNSUPPORTED', `container ${rec.name} is on network ${c.network}: a berth container is on one network; disconnect it first`);
    }
    if (c.network === 'host') throw new BerthError('FAILED_PRECONDITION', 'container cannot be disconnected from host network or connected to host network');
    return { ...c, network: net.Name, networkAliases: [...new Set(aliases)] };
  });
  recordEvent('network', 'connect', net.ID, { container: rec.id, name: net.Name, type: net.Driver });
}

/** Takes container `idOrName` off network `nameOrId`: it is then on no network (`none`) until connected again. */
export function disconnectNetwork(
  deps: NetworkDeps & { readonly containers: ContainerRecords },
  nameOrId: string,
  idOrName: string,
  opts: { force?: boolean } = {},
): void {
  const net = findNetwork(deps, nameOrId);
  const rec = deps.containers.require(idOrName);
  deps.containers.updateConfig(rec.id, (c, s) => {
    if (!usesNetwork({ config: c }, net.Name)) {
      if (opts.force) return c;
      throw new BerthError('FAILED_PRECONDITION', `container ${rec.id} is not connected to network ${net.Name}`);
    }
    if (net.Name === 'host') throw new BerthError('FAILED_PRECONDITION', 'container cannot be disconnected from host network or connected to host network');
    refuseRunning(s.status, 'disconnect from its network');
    return { ...c, network: 'none', networkAliases: [] };
  });
  recordEvent('network', 'disconnect', net.ID, { container: rec.id, name: net.Name, type: net.Driver });
}
