/**
 * Network use cases: create, list, inspect, remove, prune. Rows and views come back under
 * docker's field names; the caller formats them.
 */
import type { ContainerRecords } from '../container/records.ts';
import { BerthError } from '../errors/index.ts';
import { isPredefinedNetwork, PREDEFINED_NETWORKS, type NetworkRecord, type NetworkRecords } from '../network/records.ts';
import { createUserNetwork, removeUserNetwork } from '../network/user.ts';
import { createSha256 } from '../sys/crypto.ts';

/** Networks live in the metadata database, beside the containers attached to them. */
export interface NetworkDeps {
  readonly networks: NetworkRecords;
  readonly containers: ContainerRecords;
}

/** One network as `network ls` lists it; `rec` is there for user-defined networks. */
export interface NetworkRow {
  readonly ID: string;
  readonly Name: string;
  readonly Driver: string;
  readonly Scope: string;
  readonly rec?: NetworkRecord;
}

/** Running containers on `name`, with the address each holds there. */
function endpoints(deps: NetworkDeps, name: string) {
  return deps.containers
    .list()
    .filter((c) => c.config.network === name && c.state.status === 'running')
    .map((c) => ({ id: c.id, name: c.name, ip: c.state.ipAddress }));
}

/** Docker shows the predefined networks with ids of their own; berth derives stable ones. */
function predefinedId(name: string): string {
  return createSha256().update(`berth-network:${name}`).digest('hex');
}

/** The predefined networks and the user's, sorted by name bytewise (as docker's Go sort). */
export function listNetworks(deps: NetworkDeps): NetworkRow[] {
  const drivers: Record<string, string> = { bridge: 'bridge', host: 'host', none: 'null' };
  const fixed = PREDEFINED_NETWORKS.map((n) => ({ ID: predefinedId(n), Name: n, Driver: drivers[n]!, Scope: 'local' }));
  const user = deps.networks.list().map((rec) => ({ ID: rec.id, Name: rec.name, Driver: 'bridge', Scope: 'local', rec }));
  return [...fixed, ...user].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

function inspectView(deps: NetworkDeps, row: NetworkRow): Record<string, unknown> {
  const rec = row.rec;
  const containers = Object.fromEntries(
    endpoints(deps, row.Name).map((e) => [e.id, { Name: e.name, IPv4Address: e.ip && rec ? `${e.ip}/${rec.subnet.split('/')[1]}` : '' }]),
  );
  return {
    Name: row.Name,
    Id: row.ID,
    Created: rec?.created ?? '0001-01-01T00:00:00Z',
    Scope: 'local',
    Driver: row.Driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: rec ? [{ Subnet: rec.subnet, Gateway: rec.gateway }] : [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    Containers: containers,
    Options: rec ? { 'com.docker.network.bridge.name': rec.bridge } : {},
    Labels: rec?.labels ?? {},
  };
}

/** Docker's `network inspect` JSON of each network, by name, id or id prefix. */
export function inspectNetworks(deps: NetworkDeps, names: readonly string[]): Array<Record<string, unknown>> {
  const rows = listNetworks(deps);
  return names.map((n) => {
    const row = rows.find((r) => r.Name === n || r.ID === n) ?? rows.find((r) => r.rec?.id === deps.networks.require(n).id)!;
    return inspectView(deps, row);
  });
}

export interface CreateNetworkOptions {
  /** Only `bridge` is supported. */
  readonly driver?: string;
  readonly subnet?: string;
  readonly gateway?: string;
  readonly labels?: Record<string, string>;
}

export async function createNetwork(deps: NetworkDeps, name: string, opts: CreateNetworkOptions = {}): Promise<NetworkRecord> {
  const driver = opts.driver ?? 'bridge';
  if (driver !== 'bridge') throw new BerthError('UNSUPPORTED', `network driver ${driver} is not supported`, { hint: 'berth networks use the bridge driver' });
  return createUserNetwork(deps.networks, name, { subnet: opts.subnet, gateway: opts.gateway, labels: opts.labels });
}

/** Removes a user-defined network; returns warnings about what could not be undone (e.g. a bridge left behind). */
export async function removeNetwork(deps: NetworkDeps, name: string): Promise<string[]> {
  if (isPredefinedNetwork(name)) throw new BerthError('FAILED_PRECONDITION', `${name} is a pre-defined network and cannot be removed`);
  const rec = deps.networks.require(name);
  return removeUserNetwork(
    deps.networks,
    rec,
    endpoints(deps, rec.name).map((e) => e.name),
  );
}

/** `network prune`: removes every user-defined network no container names; returns their names. */
export async function pruneNetworks(deps: NetworkDeps): Promise<string[]> {
  const used = new Set(deps.containers.list().map((c) => c.config.network));
  const removed: string[] = [];
  for (const rec of deps.networks.list()) {
    if (used.has(rec.name)) continue;
    await removeUserNetwork(deps.networks, rec, []);
    removed.push(rec.name);
  }
  return removed;
}
