/**
 * Leases (after containerd's): what an in-flight pull, build, run or push uses is kept from
 * any prune. A process takes one lease, on its first write to the store or its first use of
 * something that exists already; the row names the owner by pid and start time (a reused
 * pid is another process), so a lease whose owner died is expired by whoever looks next.
 *
 * A lease keeps two things: everything that appeared under the root since it was taken (a
 * layer dir, a blob, a snapshot, a temp dir: things its owner made and has not recorded yet),
 * and the names it lists (blobs, layers, images it found and is about to use). Both are read
 * by prune inside its write transaction, and a name is added in a write transaction of its
 * own before the owner looks for the thing it names: so either prune sees the name, or its
 * deletions are over before the owner looks.
 *
 * The same rows make one writer per partial download: kind `ingest`, at most one live owner
 * per name (`lockIngest`); the others wait, and take a dead owner's file over.
 */
import { readFileSync } from 'node:fs';
import type { Database } from './db.ts';

export type LeaseKind = 'blob' | 'layer' | 'image' | 'snapshot' | 'ingest';

/** Timestamps on disk are a little coarse: what appears this long before a lease counts as after it. */
const SLACK_MS = 2000;
const POLL_MS = 100;

/**
 * The start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat); '' when it
 * is gone, or a zombie (killed, not yet reaped by its parent: it holds nothing any more).
 */
export function processStart(pid: number | 'self'): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return '';
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

/** Whether the process that took lease `id` (`<pid>:<start>`) is still running. */
export function ownerAlive(id: string): boolean {
  const [pid, start] = id.split(':');
  return processStart(Number(pid)) === start;
}

export interface LiveLeases {
  /** The earliest `since` of a live lease: what appeared from then on may be in use. Undefined: no live lease. */
  readonly since: number | undefined;
  readonly names: ReadonlyMap<LeaseKind, ReadonlySet<string>>;
  /** Leases whose owner has died (expired, and removed when the caller may write). */
  readonly dead: readonly string[];
}

/** Reads every lease and sorts the live from the dead. */
export function readLeases(db: Database): LiveLeases {
  const dead: string[] = [];
  let since: number | undefined;
  const live = new Set<string>();
  for (const l of db.prepare('SELECT id, since FROM leases').all() as Array<{ id: string; since: number }>) {
    if (!ownerAlive(l.id)) {
      dead.push(l.id);
      continue;
    }
    live.add(l.id);
    since = since === undefined ? l.since : Math.min(since, l.since);
  }
  const names = new Map<LeaseKind, Set<string>>();
  for (const r of db.prepare('SELECT lease_id, kind, name FROM lease_resources').all() as Array<{ lease_id: string; kind: LeaseKind; name: string }>) {
    if (!live.has(r.lease_id)) continue;
    let set = names.get(r.kind);
    if (!set) names.set(r.kind, (set = new Set()));
    set.add(r.name);
  }
  return { since, names, dead };
}

/** Deletes expired leases (and their names); the caller is in a write transaction or autocommit. */
export function dropLeases(db: Database, ids: readonly string[]): void {
  const res = db.prepare('DELETE FROM lease_resources WHERE lease_id = ?');
  const lease = db.prepare('DELETE FROM leases WHERE id = ?');
  for (const id of ids) {
    res.run(id);
    lease.run(id);
  }
}

/** A row or file time (ms) that a live lease covers: it appeared after the earliest live lease began. */
export function coveredBy(live: LiveLeases, timeMs: number): boolean {
  return live.since !== undefined && timeMs >= live.since;
}

/** This process's lease on one state root. */
export class ProcessLease {
  private id: string | undefined;

  constructor(private readonly db: Database) {}

  /** Takes the lease if this process has none yet: from now on what appears under the root is kept. */
  hold(): void {
    if (this.id !== undefined) return;
    const id = `${process.pid}:${processStart('self')}`;
    this.db.prepare('INSERT OR REPLACE INTO leases (id, pid, since) VALUES (?, ?, ?)').run(id, process.pid, Date.now() - SLACK_MS);
    this.id = id;
    process.once('exit', () => this.release());
  }

  /** Names things this process is about to use; call before looking for them. */
  add(kind: LeaseKind, names: Iterable<string>): void {
    this.hold();
    const list = [...names];
    if (!list.length) return;
    const insert = this.db.prepare('INSERT OR IGNORE INTO lease_resources (lease_id, kind, name) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const n of list) insert.run(this.id, kind, n);
    })();
  }

  /**
   * Makes this process the one writer of the partial download `name`, waiting while another
   * live process is; a dead owner's lock is taken over (and its lease expired). Returns the
   * release.
   */
  async lockIngest(name: string, signal?: AbortSignal): Promise<() => void> {
    this.hold();
    const owners = this.db.prepare("SELECT lease_id FROM lease_resources WHERE kind = 'ingest' AND name = ?");
    const take = this.db.transaction((): boolean => {
      for (const { lease_id: owner } of owners.all(name) as Array<{ lease_id: string }>) {
        if (owner === this.id) continue;
        if (ownerAlive(owner)) return false;
        dropLeases(this.db, [owner]);
      }
      this.db.prepare("INSERT OR IGNORE INTO lease_resources (lease_id, kind, name) VALUES (?, 'ingest', ?)").run(this.id, name);
      return true;
    });
    while (!take.immediate()) {
      signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    return () => {
      if (this.db.open) this.db.prepare("DELETE FROM lease_resources WHERE lease_id = ? AND kind = 'ingest' AND name = ?").run(this.id, name);
    };
  }

  /** Ends the lease (at exit). */
  release(): void {
    if (this.id === undefined || !this.db.open) return;
    try {
      dropLeases(this.db, [this.id]);
    } catch {
      /* the database is busy or gone: the lease expires with this process */
    }
    this.id = undefined;
  }
}
