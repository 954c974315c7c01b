/**
 * User-defined networks (`network create`): each is a bridge of its own (`br-<id12>`, like
 * docker's) on a /24 from 10.89.0.0/16, wired by the same CNI plugins as the default bridge,
 * with container names answered by aardvark-dns on its gateway (dns.ts). The records live in
 * the state root's metadata DB; the bridge, leases and DNS entries are machine state on /run.
 */
import { BerthError } from '../errors/index.ts';
import type { Database } from '../store/db.ts';
import { randomHex } from '../sys/crypto.ts';
import { cidrsOverlap, type BridgeNetwork } from './bridge.ts';
import { settings } from '../config/index.ts';

export interface NetworkRecord {
  readonly id: string;
  readonly name: string;
  readonly bridge: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly created: string;
}

/** The networks every engine has; they cannot be created or removed. */
export const PREDEFINED_NETWORKS = ['bridge', 'host', 'none'] as const;

/** `bridge`, `host`, `none` and docker's `default` (the bridge) need no record. */
export function isPredefinedNetwork(mode: string): boolean {
  return mode === '' || mode === 'default' || (PREDEFINED_NETWORKS as readonly string[]).includes(mode);
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const POOL_PREFIX = settings().networkPool;

interface Row {
  id: string;
  name: string;
  bridge: string;
  subnet: string;
  gateway: string;
  labels: string;
  created: string;
}

const fromRow = (r: Row): NetworkRecord => ({ ...r, labels: JSON.parse(r.labels) as Record<string, string> });

/** The CNI view of a user network: its bridge, subnet, and a CNI name that is unique on the machine. */
export function bridgeOf(rec: NetworkRecord): BridgeNetwork {
  return { cniName: rec.bridge, bridge: rec.bridge, subnet: rec.subnet };
}

export class NetworkRecords {
  constructor(private readonly db: Database) {}

  list(): NetworkRecord[] {
    return (this.db.prepare('SELECT * FROM networks ORDER BY name').all() as Row[]).map(fromRow);
  }

  /** By name, full id or unique id prefix, as docker resolves them. */
  find(nameOrId: string): NetworkRecord | undefined {
    const byName = this.db.prepare('SELECT * FROM networks WHERE name = ? OR id = ?').get(nameOrId, nameOrId) as Row | undefined;
    if (byName) return fromRow(byName);
    if (!/^[0-9a-f]{1,63}$/.test(nameOrId)) return undefined;
    const rows = this.db.prepare("SELECT * FROM networks WHERE id LIKE ? || '%'").all(nameOrId) as Row[];
    if (rows.length > 1) throw new BerthError('INVALID_ARGUMENT', `network id prefix ${nameOrId} is ambiguous`);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  require(nameOrId: string): NetworkRecord {
    const rec = this.find(nameOrId);
    if (!rec) throw new BerthError('NOT_FOUND', `network ${nameOrId} not found`, { hint: 'see `berth network ls`, or create it with `berth network create`' });
    return rec;
  }

  /**
   * Records a network. The subnet is the caller's (`--subnet`) or the first free /24 of the
   * pool: free of this root's networks and of every route the host has. A network of another
   * state root that was never started has no route yet; setup refuses the overlap then.
   */
  create(name: string, opts: { subnet?: string; gateway?: string; labels?: Record<string, string>; hostRoutes: readonly string[] }): NetworkRecord {
    if (!NAME_RE.test(name)) throw new BerthError('INVALID_ARGUMENT', `invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if ((PREDEFINED_NETWORKS as readonly string[]).includes(name) || name === 'default') {
      throw new BerthError('FAILED_PRECONDITION', `operation is not permitted on pre-defined ${name} network`);
    }
    if (this.find(name)) throw new BerthError('CONFLICT', `network with name ${name} already exists`);
    const taken = [...this.list().map((n) => n.subnet), ...opts.hostRoutes];
    const subnet = opts.subnet ?? this.freeSubnet(taken);
    if (!/^\d+\.\d+\.\d+\.\d+\/(\d|[12]\d|30)$/.test(subnet)) throw new BerthError('INVALID_ARGUMENT', `invalid subnet ${subnet}`, { hint: 'give an IPv4 CIDR such as 10.99.0.0/24' });
    const clash = taken.find((t) => cidrsOverlap(t, subnet));
    if (opts.subnet && clash) throw new BerthError('CONFLICT', `subnet ${subnet} overlaps ${clash}, which is already in use`);
    const gateway = opts.gateway ?? firstHost(subnet);
    const id = randomHex(32);
    const rec: NetworkRecord = { id, name, bridge: `br-${id.slice(0, 12)}`, subnet, gateway, labels: opts.labels ?? {}, created: new Date().toISOString() };
    this.db.prepare('INSERT INTO networks (id, name, bridge, subnet, gateway, labels, created) VALUES (?, ?, ?, ?, ?, ?, ?)').run(rec.id, rec.name, rec.bridge, rec.subnet, rec.gateway, JSON.stringify(rec.labels), rec.created);
    return rec;
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM networks WHERE id = ?').run(id);
  }

  private freeSubnet(taken: readonly string[]): string {
    for (let n = 0; n < 256; n++) {
      const candidate = `${POOL_PREFIX}.${n}.0/24`;
      if (!taken.some((t) => cidrsOverlap(t, candidate))) return candidate;
    }
    throw new BerthError('UNAVAILABLE', `no free /24 left in ${POOL_PREFIX}.0.0/16 for a new network`, { hint: 'remove unused networks (`berth network prune`), or give --subnet' });
  }
}

function firstHost(cidr: string): string {
  const [ip] = cidr.split('/');
  const parts = ip!.split('.').map(Number);
  parts[3] = parts[3]! + 1;
  return parts.join('.');
}
