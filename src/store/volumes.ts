/**
 * The `volumes` table: named and anonymous volumes. The data dirs and what fills them are
 * volume/'s; this repository keeps the rows.
 */
import type { Database } from './db.ts';

export interface VolumeRow {
  readonly name: string;
  readonly created: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly anonymous: boolean;
}

interface Row {
  name: string;
  created: string;
  labels: string;
  anonymous: number;
}

const fromRow = (r: Row): VolumeRow => ({
  name: r.name,
  created: r.created,
  labels: JSON.parse(r.labels) as Record<string, string>,
  anonymous: r.anonymous === 1,
});

export class VolumeRecords {
  constructor(private readonly db: Database) {}

  get(name: string): VolumeRow | undefined {
    const r = this.db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as Row | undefined;
    return r && fromRow(r);
  }

  /** By name. */
  list(): VolumeRow[] {
    return (this.db.prepare('SELECT * FROM volumes ORDER BY name').all() as Row[]).map(fromRow);
  }

  /**
   * Adds a volume unless one of that name exists (two processes creating the same named
   * volume both get it, as docker's `volume create` does). Returns whether this call added it.
   */
  insertIfAbsent(vol: VolumeRow): boolean {
    const r = this.db
      .prepare('INSERT OR IGNORE INTO volumes (name, created, labels, anonymous) VALUES (?, ?, ?, ?)')
      .run(vol.name, vol.created, JSON.stringify(vol.labels), vol.anonymous ? 1 : 0);
    return r.changes > 0;
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) n FROM volumes').get() as { n: number }).n;
  }

  /** Removes the row; returns whether it was there. */
  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM volumes WHERE name = ?').run(name).changes > 0;
  }
}
