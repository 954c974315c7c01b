/**
 * The `events` table: berth's event log, what `docker events` reads. berth has no daemon, so
 * every process that changes state (a CLI command, a container's monitor, `berth serve`)
 * records its own events here, where the change happens; a reader follows the table by id.
 *
 * The log is bounded: an insert now and then trims it to the last `KEEP_ROWS` rows and the
 * last `KEEP_NS` of time, so it never grows with the engine's age.
 */
import type { Statement } from 'better-sqlite3';
import type { Database } from './db.ts';

/** How many rows the log keeps at most (plus the inserts between two trims). */
export const KEEP_ROWS = 10_000;
/** How old a kept event may be: a day, in nanoseconds. */
export const KEEP_NS = 24n * 3600n * 1_000_000_000n;
/** One insert in this many trims: a trim is two indexed deletes, paid rarely. */
const TRIM_EVERY = 64;

export interface EventRow {
  /** Monotonic: a later event has a larger id, and an id is never reused. */
  readonly id: number;
  /** Nanoseconds since the Unix epoch. */
  readonly timeNano: bigint;
  /** container, image, volume, network... */
  readonly type: string;
  readonly action: string;
  readonly actorId: string;
  readonly attributes: Readonly<Record<string, string>>;
}

interface Row {
  id: bigint;
  time_ns: bigint;
  type: string;
  action: string;
  actor_id: string;
  attributes: string;
}

const fromRow = (r: Row): EventRow => ({
  id: Number(r.id),
  timeNano: BigInt(r.time_ns),
  type: r.type,
  action: r.action,
  actorId: r.actor_id,
  attributes: JSON.parse(r.attributes) as Record<string, string>,
});

/** The wall clock in nanoseconds, with the sub-millisecond part `performance` gives. */
export function nowNano(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

export class EventRecords {
  /** Prepared once: a command records several events, each an insert of its own. */
  private insertStatement?: Statement;

  constructor(private readonly db: Database) {}

  /** Appends one event; returns its id. */
  insert(ev: { type: string; action: string; actorId: string; attributes?: Readonly<Record<string, string>>; timeNano?: bigint }): number {
    const time = ev.timeNano ?? nowNano();
    this.insertStatement ??= this.db.prepare('INSERT INTO events (time_ns, type, action, actor_id, attributes) VALUES (?, ?, ?, ?, ?)');
    const r = this.insertStatement.run(time, ev.type, ev.action, ev.actorId, JSON.stringify(ev.attributes ?? {}));
    const id = Number(r.lastInsertRowid);
    if (id % TRIM_EVERY === 0) this.trim(id, time);
    return id;
  }

  private trim(lastId: number, now: bigint): void {
    this.db.prepare('DELETE FROM events WHERE id <= ?').run(lastId - KEEP_ROWS);
    this.db.prepare('DELETE FROM events WHERE time_ns < ?').run(now - KEEP_NS);
  }

  /** The newest event's id, 0 when there is none: a follower starts after it. */
  lastId(): number {
    const r = this.db.prepare('SELECT MAX(id) id FROM events').safeIntegers(true).get() as { id: bigint | null };
    return r.id === null ? 0 : Number(r.id);
  }

  /**
   * Events in id order: those after `afterId`, up to `throughId`, at or after `sinceNano` and
   * at or before `untilNano`, at most `limit`.
   */
  list(q: { afterId?: number; throughId?: number; sinceNano?: bigint; untilNano?: bigint; limit?: number } = {}): EventRow[] {
    const rows = this.db
      .prepare('SELECT * FROM events WHERE id > ? AND id <= ? AND time_ns >= ? AND time_ns <= ? ORDER BY id LIMIT ?')
      .safeIntegers(true)
      .all(q.afterId ?? 0, q.throughId ?? Number.MAX_SAFE_INTEGER, q.sinceNano ?? 0n, q.untilNano ?? 2n ** 63n - 1n, q.limit ?? KEEP_ROWS * 2) as Row[];
    return rows.map(fromRow);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) n FROM events').get() as { n: number }).n;
  }
}

/**
 * The log this process records into: the state root it opened (store/metadata.ts sets it).
 * A berth process works on one state root, so the modules that make a change record it with
 * one call, `recordEvent`, and need no handle passed down to them.
 */
let current: EventRecords | undefined;

export function setEventLog(log: EventRecords | undefined): void {
  current = log;
}

/** The log `setEventLog` set, for a reader that was handed nothing else. */
export function eventLog(): EventRecords | undefined {
  return current;
}

/**
 * Records an event in the open state root's log. An event is a report of a change already
 * made, so failing to record it (a locked or closed database) never fails the change.
 */
export function recordEvent(type: string, action: string, actorId: string, attributes: Readonly<Record<string, string>> = {}): void {
  try {
    current?.insert({ type, action, actorId, attributes });
  } catch {
    // The change stands; only its report is lost.
  }
}
