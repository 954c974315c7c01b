/**
 * The `containers` table: one row per container, what `create` was asked (`config`) and what
 * is known of its process (`state`), each kept as JSON. The live process belongs to runc and
 * the monitor; container/ corrects a row whose process died unobserved.
 *
 * The repository is generic over the two JSON documents so that store/ need not know the
 * container module's types: it relies only on `config.volumes` (which volumes a container
 * holds) and `state.status`.
 */
import { BerthError } from '../errors/index.ts';
import type { Digest } from '../oci/digest.ts';
import { immediate, isUniqueViolation, type Database } from './db.ts';

/** What the repository needs to see inside a container's config. */
export interface ContainerConfigShape {
  readonly volumes?: readonly string[];
}

/** What the repository needs to see inside a container's state. */
export interface ContainerStateShape {
  readonly status: string;
}

export interface StoredContainer<Config extends ContainerConfigShape = ContainerConfigShape, State extends ContainerStateShape = ContainerStateShape> {
  readonly id: string;
  readonly name: string;
  readonly imageId: Digest;
  readonly imageRef: string;
  readonly created: string;
  readonly config: Config;
  readonly state: State;
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

export class ContainerRecords<Config extends ContainerConfigShape = ContainerConfigShape, State extends ContainerStateShape = ContainerStateShape> {
  constructor(private readonly db: Database) {}

  private toRecord(r: Row): StoredContainer<Config, State> {
    return {
      id: r.id,
      name: r.name,
      imageId: r.image_id as Digest,
      imageRef: r.image_ref,
      created: r.created,
      config: JSON.parse(r.config) as Config,
      state: JSON.parse(r.state) as State,
    };
  }

  /** Adds a container; CONFLICT when its name (or id) is taken, as docker words it. */
  insert(rec: StoredContainer<Config, State>): void {
    try {
      this.db
        .prepare('INSERT INTO containers (id, name, image_id, image_ref, created, config, state) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(rec.id, rec.name, rec.imageId, rec.imageRef, rec.created, JSON.stringify(rec.config), JSON.stringify(rec.state));
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const other = this.db.prepare('SELECT id FROM containers WHERE name = ?').get(rec.name) as { id: string } | undefined;
      if (other) {
        throw new BerthError(
          'CONFLICT',
          `Conflict. The container name "/${rec.name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
      throw new BerthError('CONFLICT', `a container with id ${rec.id} exists already`, { cause: e });
    }
  }

  /** Applies `change` to the current state atomically (two processes may race, e.g. monitor and stop). */
  updateState(id: string, change: (s: State) => State): State {
    return immediate(this.db, () => {
      const row = this.db.prepare('SELECT state FROM containers WHERE id = ?').get(id) as { state: string } | undefined;
      if (!row) throw new BerthError('NOT_FOUND', `No such container: ${id}`);
      const next = change(JSON.parse(row.state) as State);
      this.db.prepare('UPDATE containers SET state = ? WHERE id = ?').run(JSON.stringify(next), id);
      return next;
    });
  }

  /**
   * Applies `change` to the config atomically, returning the new one; `change` sees the state
   * too, and refuses (throws) a change the state does not allow (network connect on a running container).
   */
  updateConfig(id: string, change: (c: Config, s: State) => Config): Config {
    return immediate(this.db, () => {
      const row = this.db.prepare('SELECT config, state FROM containers WHERE id = ?').get(id) as { config: string; state: string } | undefined;
      if (!row) throw new BerthError('NOT_FOUND', `No such container: ${id}`);
      const next = change(JSON.parse(row.config) as Config, JSON.parse(row.state) as State);
      this.db.prepare('UPDATE containers SET config = ? WHERE id = ?').run(JSON.stringify(next), id);
      return next;
    });
  }

  get(id: string): StoredContainer<Config, State> | undefined {
    const r = this.db.prepare('SELECT * FROM containers WHERE id = ?').get(id) as Row | undefined;
    return r && this.toRecord(r);
  }

  /** By full id, name (with or without `/`), or unique id prefix, as docker resolves them. */
  find(idOrName: string): StoredContainer<Config, State> | undefined {
    const key = idOrName.replace(/^\//, '');
    const exact = this.db.prepare('SELECT * FROM containers WHERE id = ? OR name = ?').get(key, key) as Row | undefined;
    if (exact) return this.toRecord(exact);
    if (!/^[a-f0-9]{1,63}$/.test(key)) return undefined;
    // Ids are lowercase hex: every id starting with `key` sorts between `key` and `key` + 'g'.
    const rows = this.db.prepare('SELECT * FROM containers WHERE id >= ? AND id < ? LIMIT 2').all(key, `${key}g`) as Row[];
    if (rows.length > 1) throw new BerthError('INVALID_ARGUMENT', `multiple containers found with provided prefix: ${key}`);
    return rows[0] && this.toRecord(rows[0]);
  }

  require(idOrName: string): StoredContainer<Config, State> {
    const r = this.find(idOrName);
    if (!r) throw new BerthError('NOT_FOUND', `No such container: ${idOrName}`);
    return r;
  }

  /** Newest first, as `ps` lists them. */
  list(): StoredContainer<Config, State>[] {
    return (this.db.prepare('SELECT * FROM containers ORDER BY created DESC').all() as Row[]).map((r) => this.toRecord(r));
  }

  /** Every container's id, without reading the JSON documents. */
  ids(): string[] {
    return (this.db.prepare('SELECT id FROM containers').all() as Array<{ id: string }>).map((r) => r.id);
  }

  /** The ids of the containers made from image `imageId`. */
  idsUsingImage(imageId: Digest): string[] {
    return (this.db.prepare('SELECT id FROM containers WHERE image_id = ?').all(imageId) as Array<{ id: string }>).map((r) => r.id);
  }

  /** The images any container is made from. */
  imageIds(): Set<Digest> {
    return new Set((this.db.prepare('SELECT DISTINCT image_id FROM containers').all() as Array<{ image_id: Digest }>).map((r) => r.image_id));
  }

  /** The ids of the containers that hold volume `name` (its `config.volumes` lists it). */
  idsUsingVolume(name: string): string[] {
    const rows = this.db.prepare("SELECT id FROM containers WHERE EXISTS (SELECT 1 FROM json_each(config, '$.volumes') WHERE value = ?)").all(name) as Array<{
      id: string;
    }>;
    return rows.map((r) => r.id);
  }

  /** How many containers there are in each `state.status`. */
  countByStatus(): Map<string, number> {
    const rows = this.db.prepare("SELECT json_extract(state, '$.status') status, COUNT(*) n FROM containers GROUP BY status").all() as Array<{
      status: string;
      n: number;
    }>;
    return new Map(rows.map((r) => [r.status, r.n]));
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) n FROM containers').get() as { n: number }).n;
  }

  /** Gives a container a new name; CONFLICT, in docker's words, when another has it. */
  rename(id: string, name: string): void {
    try {
      this.db.prepare('UPDATE containers SET name = ? WHERE id = ?').run(name, id);
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const other = this.db.prepare('SELECT id FROM containers WHERE name = ?').get(name) as { id: string } | undefined;
      throw new BerthError(
        'CONFLICT',
        `Conflict. The container name "/${name}" is already in use by container "${other?.id ?? ''}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
  }

  /** Removes the row; a container that is not there is no error (two removers may race). */
  delete(id: string): void {
    this.db.prepare('DELETE FROM containers WHERE id = ?').run(id);
  }
}
