/**
 * Network use cases: create, list, inspect, remove, prune. Rows and views come back under
 * docker's field names; the caller formats them.
 */
import type { ContainerRecords } from '../container/records.ts';
import { BerthError } from '../errors/index.ts';
import { isPredefinedNetwork, PREDEFINED_NETWORKS, type NetworkRecord, type NetworkRecords } from '../network/records.ts';
import { DEFAULT_BRIDGE } from '../network/bridge.ts';
import { createUserNetwork, removeUserNetwork } from '../network/user.ts';
import { createSha256 } from '../sys/crypto.ts';
import { type FilterArgs, type NetworkFacts, NO_FILTERS, networkListMatcher, networkPruneMatcher } from './filters/index.ts';

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

/** The names a container's `network` may carry for the default bridge (the API sends '' or `default`). */
const DEFAULT_BRIDGE_MODES = new Set(['', 'default', 'bridge']);

/** Whether `c` is configured for the network named `name`. */
export function usesNetwork(c: { config: { network: string } }, name: string): boolean {
  return name === 'bridge' ? DEFAULT_BRIDGE_MODES.has(c.config.network) : c.config.network === name;
}

/** Running containers on `name`, with the address each holds there. */
function endpoints(deps: NetworkDeps, name: string) {
  return deps.containers
    .list()
    .filter((c) => usesNetwork(c, name) && c.state.status === 'running')
    .map((c) => ({ id: c.id, name: c.name, ip: c.state.ipAddress, mac: (c.state.network as { macAddress?: string } | undefined)?.macAddress }));
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

/** Docker's network JSON; `containers` false leaves `Containers` empty, as docker's list does. */
export function networkView(deps: NetworkDeps, row: NetworkRow, opts: { containers?: boolean } = {}): Record<string, unknown> {
  const rec = row.rec;
  const subnet = rec?.subnet ?? (row.Name === 'bridge' ? DEFAULT_BRIDGE.subnet : undefined);
  const prefix = subnet?.split('/')[1];
  const containers =
    opts.containers === false
      ? {}
      : Object.fromEntries(
          endpoints(deps, row.Name).map((e) => [
            e.id,
            {
              Name: e.name,
              EndpointID: createSha256().update(`berth-endpoint:${row.ID}:${e.id}`).digest('hex'),
              MacAddress: e.mac ?? '',
              IPv4Address: e.ip && prefix ? `${e.ip}/${prefix}` : '',
              IPv6Address: '',
            },
          ]),
        );
  return {
    Name: row.Name,
    Id: row.ID,
    Created: rec?.created ?? '0001-01-01T00:00:00Z',
    Scope: 'local',
    Driver: row.Driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: rec ? [{ Subnet: rec.subnet, Gateway: rec.gateway }] : subnet ? [{ Subnet: subnet }] : [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    // A user network's are the options it was created with (none: berth takes none), which
    // docker-compose compares with its file's; the default bridge shows its bridge's name.
    Options: row.Name === 'bridge' ? { 'com.docker.network.bridge.name': DEFAULT_BRIDGE.bridge } : {},
    Labels: rec?.labels ?? {},
  };
}

/** The row of a network by name, full id or id prefix (predefined ones by name or id); NOT_FOUND otherwise. */
export function findNetwork(deps: NetworkDeps, nameOrId: string): NetworkRow {
  const rows = listNetworks(deps);
  const direct = rows.find((r) => r.Name === nameOrId || r.ID === nameOrId);
  if (direct) return direct;
  const id = deps.networks.require(nameOrId).id;
  return rows.find((r) => r.rec?.id === id)!;
}

/** Docker's `network inspect` JSON of each network, by name, id or id prefix. */
export function inspectNetworks(deps: NetworkDeps, names: readonly string[]): Array<Record<string, unknown>> {
  return names.map((n) => networkView(deps, findNetwork(deps, n)));
}

/**
 * `network ls --filter` (meanings in filters/objects.ts): a network is dangling when it is a
 * user network no container names (the predefined ones never are).
 */
export function filterNetworks(deps: NetworkDeps, rows: readonly NetworkRow[], filters: FilterArgs): NetworkRow[] {
  const matches = networkListMatcher(filters);
  const named = filters.get('dangling')?.length ? deps.containers.list() : [];
  return rows.filter((r) => matches(networkFacts(r, () => Boolean(r.rec) && !named.some((c) => usesNetwork(c, r.Name)))));
}

function networkFacts(r: NetworkRow, dangling: () => boolean): NetworkFacts {
  return {
    name: r.Name,
    id: r.ID,
    driver: r.Driver,
    scope: r.Scope,
    labels: r.rec?.labels ?? {},
    custom: Boolean(r.rec),
    get dangling() {
      return dangling();
    },
    created: r.rec ? Date.parse(r.rec.created) : 0,
  };
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

/**
 * `network prune`: removes every user-defined network no container names and that the
 * filters (`label`, `label!`, `until`) take; returns their names.
 */
export async function pruneNetworks(deps: NetworkDeps, opts: { filters?: FilterArgs } = {}): Promise<string[]> {
  const matches = networkPruneMatcher(opts.filters ?? NO_FILTERS);
  const used = deps.containers.list();
  const removed: string[] = [];
  for (const rec of deps.networks.list()) {
    if (used.some((c) => usesNetwork(c, rec.name)) || !matches({ labels: rec.labels, created: Date.parse(rec.created) })) continue;
    await removeUserNetwork(deps.networks, rec, []);
    removed.push(rec.name);
  }
  return removed;
}
