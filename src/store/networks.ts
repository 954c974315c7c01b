/**
 * The `networks` table: user-defined networks (`network create`), each a bridge of its own.
 * Choosing a subnet and checking a name are network/'s; this repository keeps the rows.
 */
import { BerthError } from '../errors/index.ts';
import { isUniqueViolation, type Database } from './db.ts';

export interface NetworkRecord {
  readonly id: string;
  readonly name: string;
  readonly bridge: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly created: string;
}

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

export class NetworkRecords {
  constructor(private readonly db: Database) {}

  /** By name. */
  list(): NetworkRecord[] {
    return (this.db.prepare('SELECT * FROM networks ORDER BY name').all() as Row[]).map(fromRow);
  }

  /** By name, full id or unique id prefix, as docker resolves them. */
  find(nameOrId: string): NetworkRecord | undefined {
    const byName = this.db.prepare('SELECT * FROM networks WHERE name = ? OR id = ?').get(nameOrId, nameOrId) as Row | undefined;
    if (byName) return fromRow(byName);
    if (!/^[0-9a-f]{1,63}$/.test(nameOrId)) return undefined;
    // A plain comparison of the first characters: no pattern, so no character of the prefix is special.
    const rows = this.db.prepare('SELECT * FROM networks WHERE substr(id, 1, ?) = ? LIMIT 2').all(nameOrId.length, nameOrId) as Row[];
    if (rows.length > 1) throw new BerthError('INVALID_ARGUMENT', `network id prefix ${nameOrId} is ambiguous`);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  require(nameOrId: string): NetworkRecord {
    const rec = this.find(nameOrId);
    if (!rec) throw new BerthError('NOT_FOUND', `network ${nameOrId} not found`, { hint: 'see `berth network ls`, or create it with `berth network create`' });
    return rec;
  }

  /** Adds a network; CONFLICT when its name or id is taken. */
  insert(rec: NetworkRecord): void {
    try {
      this.db
        .prepare('INSERT INTO networks (id, name, bridge, subnet, gateway, labels, created) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(rec.id, rec.name, rec.bridge, rec.subnet, rec.gateway, JSON.stringify(rec.labels), rec.created);
    } catch (e) {
      if (isUniqueViolation(e)) throw new BerthError('CONFLICT', `network with name ${rec.name} already exists`, { cause: e });
      throw e;
    }
  }

  /** Removes the row; one that is not there is no error. */
  delete(id: string): void {
    this.db.prepare('DELETE FROM networks WHERE id = ?').run(id);
  }
}
