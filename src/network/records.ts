/**
 * User-defined networks (`network create`): each is a bridge of its own (`br-<id12>`, like
 * docker's) on a /24 from 10.89.0.0/16, wired by the same CNI plugins as the default bridge,
 * with container names answered by aardvark-dns on its gateway (dns.ts). The records live in
 * the state root's metadata DB; the bridge, leases and DNS entries are machine state on /run.
 */
import { fileConfig } from '../config/file.ts';
import { BerthError } from '../errors/index.ts';
import type { NetworkRecord, NetworkRecords } from '../store/networks.ts';
import { recordEvent } from '../store/events.ts';
import { randomHex } from '../sys/crypto.ts';
import { cidrsOverlap, type BridgeNetwork } from './bridge.ts';
import { settings } from '../config/index.ts';

export type { NetworkRecord, NetworkRecords } from '../store/networks.ts';

/** The networks every engine has; they cannot be created or removed. */
export const PREDEFINED_NETWORKS = ['bridge', 'host', 'none'] as const;

/** `bridge`, `host`, `none` and docker's `default` (the bridge) need no record. */
export function isPredefinedNetwork(mode: string): boolean {
  return mode === '' || mode === 'default' || (PREDEFINED_NETWORKS as readonly string[]).includes(mode);
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const POOL_PREFIX = settings().networkPool;

/** The CNI view of a user network: its bridge, subnet, and a CNI name that is unique on the machine. */
export function bridgeOf(rec: NetworkRecord): BridgeNetwork {
  return { cniName: rec.bridge, bridge: rec.bridge, subnet: rec.subnet };
}

/**
 * Records a network. The subnet is the caller's (`--subnet`) or the first free /24 of the
 * pool: free of this root's networks and of every route the host has. A network of another
 * state root that was never started has no route yet; setup refuses the overlap then.
 */
export function createNetworkRecord(
  records: NetworkRecords,
  name: string,
  opts: { subnet?: string; gateway?: string; labels?: Record<string, string>; hostRoutes: readonly string[] },
): NetworkRecord {
  if (!NAME_RE.test(name)) throw new BerthError('INVALID_ARGUMENT', `invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if ((PREDEFINED_NETWORKS as readonly string[]).includes(name) || name === 'default') {
    throw new BerthError('FAILED_PRECONDITION', `operation is not permitted on pre-defined ${name} network`);
  }
  if (records.find(name)) throw new BerthError('CONFLICT', `network with name ${name} already exists`);
  const taken = [...records.list().map((n) => n.subnet), ...opts.hostRoutes];
  const subnet = opts.subnet ?? freeSubnet(taken);
  if (!/^\d+\.\d+\.\d+\.\d+\/(\d|[12]\d|30)$/.test(subnet))
    throw new BerthError('INVALID_ARGUMENT', `invalid subnet ${subnet}`, { hint: 'give an IPv4 CIDR such as 10.99.0.0/24' });
  const clash = taken.find((t) => cidrsOverlap(t, subnet));
  if (opts.subnet && clash) throw new BerthError('CONFLICT', `subnet ${subnet} overlaps ${clash}, which is already in use`);
  const gateway = opts.gateway ?? firstHost(subnet);
  const id = randomHex(32);
  const rec: NetworkRecord = { id, name, bridge: `br-${id.slice(0, 12)}`, subnet, gateway, labels: opts.labels ?? {}, created: new Date().toISOString() };
  records.insert(rec);
  recordEvent('network', 'create', rec.id, { name: rec.name, type: 'bridge' });
  return rec;
}

/**
 * The pools new networks take their subnets from: the config file's `default-address-pools`
 * (each a base CIDR cut into subnets of `size`), else the /24s of BERTH_NETWORK_POOL's /16.
 */
function addressPools(): Array<{ base: string; size: number }> {
  return fileConfig()['default-address-pools'] ?? [{ base: `${POOL_PREFIX}.0.0/16`, size: 24 }];
}

/** The subnets of one pool, in order; at most 65536 of them are looked at. */
function* subnetsOf(pool: { base: string; size: number }): Generator<string> {
  const [ip, bits] = pool.base.split('/');
  const start = ip!.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const step = 2 ** (32 - pool.size);
  const count = Math.min(2 ** (pool.size - Number(bits)), 65536);
  for (let i = 0; i < count; i++) {
    const n = start + i * step;
    yield `${[24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.')}/${pool.size}`;
  }
}

function freeSubnet(taken: readonly string[]): string {
  const pools = addressPools();
  for (const pool of pools) {
    for (const candidate of subnetsOf(pool)) if (!taken.some((t) => cidrsOverlap(t, candidate))) return candidate;
  }
  throw new BerthError('UNAVAILABLE', `no free subnet left in ${pools.map((p) => p.base).join(', ')} for a new network`, {
    hint: 'remove unused networks (`berth network prune`), give --subnet, or add default-address-pools to the config file',
  });
}

function firstHost(cidr: string): string {
  const [ip] = cidr.split('/');
  const parts = ip!.split('.').map(Number);
  parts[3] = parts[3]! + 1;
  return parts.join('.');
}
