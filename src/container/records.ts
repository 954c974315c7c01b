/**
 * Container records in the metadata DB. A record is what was asked (`config`) plus what is
 * known of its process (`state`); the live process belongs to runc and the monitor, and
 * `reconcile` (see lifecycle) corrects a record whose process died unobserved.
 */
import { BerthError } from '../errors/index.ts';
import type { Digest } from '../oci/digest.ts';
import { immediate, type Database } from '../store/db.ts';
import type { ContainerConfigRecord, ContainerState } from './types.ts';

export interface ContainerRecord {
  readonly id: string;
  readonly name: string;
  readonly imageId: Digest;
  readonly imageRef: string;
  readonly created: string;
  readonly config: ContainerConfigRecord;
  readonly state: ContainerState;
}

interface Row {
  id: string;
  name: string;
  image_id: string;
  image_ref: string;
  created: string;
  config: string;
  state: string;
}

function toRecord(r: Row): ContainerRecord {
  return {
    id: r.id,
    name: r.name,
    imageId: r.image_id as Digest,
    imageRef: r.image_ref,
    created: r.created,
    config: JSON.parse(r.config) as ContainerConfigRecord,
    state: JSON.parse(r.state) as ContainerState,
  };
}

export class ContainerRecords {
  constructor(private readonly db: Database) {}

  insert(rec: ContainerRecord): void {
    try {
      this.db
        .prepare('INSERT INTO containers (id, name, image_id, image_ref, created, config, state) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(rec.id, rec.name, rec.imageId, rec.imageRef, rec.created, JSON.stringify(rec.config), JSON.stringify(rec.state));
    } catch (e) {
      if (String((e as Error).message).includes('UNIQUE constraint failed: containers.name')) {
        const other = this.db.prepare('SELECT id FROM containers WHERE name = ?').get(rec.name) as { id: string };
        throw new BerthError('CONFLICT', `Conflict. The container name "/${rec.name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
      throw e;
    }
  }

  /** Applies `change` to the current state atomically (two processes may race, e.g. monitor and stop). */
  updateState(id: string, change: (s: ContainerState) => ContainerState): ContainerState {
    return immediate(this.db, () => {
      const row = this.db.prepare('SELECT state FROM containers WHERE id = ?').get(id) as { state: string } | undefined;
      if (!row) throw new BerthError('NOT_FOUND', `No such container: ${id}`);
      const next = change(JSON.parse(row.state) as ContainerState);
      this.db.prepare('UPDATE containers SET state = ? WHERE id = ?').run(JSON.stringify(next), id);
      return next;
    });
  }

  get(id: string): ContainerRecord | undefined {
    const r = this.db.prepare('SELECT * FROM containers WHERE id = ?').get(id) as Row | undefined;
    return r && toRecord(r);
  }

  /** By full id, name (with or without `/`), or unique id prefix, as docker resolves them. */
  find(idOrName: string): ContainerRecord | undefined {
    const key = idOrName.replace(/^\//, '');
    const exact = this.db.prepare('SELECT * FROM containers WHERE id = ? OR name = ?').get(key, key) as Row | undefined;
    if (exact) return toRecord(exact);
    if (!/^[a-f0-9]{1,63}$/.test(key)) return undefined;
    const rows = this.db.prepare('SELECT * FROM containers WHERE id >= ? AND id < ? LIMIT 2').all(key, `${key}g`) as Row[];
    if (rows.length > 1) throw new BerthError('INVALID_ARGUMENT', `multiple containers found with provided prefix: ${key}`);
    return rows[0] && toRecord(rows[0]);
  }

  require(idOrName: string): ContainerRecord {
    const r = this.find(idOrName);
    if (!r) throw new BerthError('NOT_FOUND', `No such container: ${idOrName}`);
    return r;
  }

  list(): ContainerRecord[] {
    return (this.db.prepare('SELECT * FROM containers ORDER BY created DESC').all() as Row[]).map(toRecord);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM containers WHERE id = ?').run(id);
  }
}
