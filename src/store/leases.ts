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

/** `cachemount`: a RUN --mount=type=cache dir (its name under `build-cache-mounts`) a build is using. */
export type LeaseKind = 'blob' | 'layer' | 'image' | 'snapshot' | 'ingest' | 'container' | 'cachemount';

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

/** The `leases` and `lease_resources` tables. */
export class LeaseRecords {
  constructor(private readonly db: Database) {}

  /** False once the database is closed (at exit, a lease may be released after it). */
  get open(): boolean {
    return this.db.open;
  }

  /**
   * Reads every lease and sorts the live from the dead; with `othersOnly`, this process's own
   * lease is left out (what it made itself is not in another's use).
   */
  read(opts: { othersOnly?: boolean } = {}): LiveLeases {
    const dead: string[] = [];
    let since: number | undefined;
    const live = new Set<string>();
    const own = `${process.pid}:`;
    for (const l of this.db.prepare('SELECT id, since FROM leases').all() as Array<{ id: string; since: number }>) {
      if (!ownerAlive(l.id)) {
        dead.push(l.id);
        continue;
      }
      if (opts.othersOnly && l.id.startsWith(own)) continue;
      live.add(l.id);
      since = since === undefined ? l.since : Math.min(since, l.since);
    }
    const names = new Map<LeaseKind, Set<string>>();
    for (const r of this.db.prepare('SELECT lease_id, kind, name FROM lease_resources').all() as Array<{ lease_id: string; kind: LeaseKind; name: string }>) {
      if (!live.has(r.lease_id)) continue;
      let set = names.get(r.kind);
      if (!set) names.set(r.kind, (set = new Set()));
      set.add(r.name);
    }
    return { since, names, dead };
  }

  /** Deletes leases (and their names); the caller is in a write transaction or autocommit. */
  drop(ids: readonly string[]): void {
    const res = this.db.prepare('DELETE FROM lease_resources WHERE lease_id = ?');
    const lease = this.db.prepare('DELETE FROM leases WHERE id = ?');
    for (const id of ids) {
      res.run(id);
      lease.run(id);
    }
  }

  /** Records lease `id` of process `pid`, covering what appears from `since` (ms) on. */
  put(id: string, pid: number, since: number): void {
    this.db.prepare('INSERT OR REPLACE INTO leases (id, pid, since) VALUES (?, ?, ?)').run(id, pid, since);
  }

  /** Adds names to lease `id`, in one transaction. */
  addNames(id: string, kind: LeaseKind, names: readonly string[]): void {
    if (!names.length) return;
    const insert = this.db.prepare('INSERT OR IGNORE INTO lease_resources (lease_id, kind, name) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const n of names) insert.run(id, kind, n);
    })();
  }

  /** The leases naming `name` of `kind`. */
  holders(kind: LeaseKind, name: string): string[] {
    return (this.db.prepare('SELECT lease_id FROM lease_resources WHERE kind = ? AND name = ?').all(kind, name) as Array<{ lease_id: string }>).map(
      (r) => r.lease_id,
    );
  }

  /**
   * Makes lease `id` the one writer of the partial download `name`, in one write transaction,
   * unless another live lease is: false then. A dead owner's lease is expired on the way.
   */
  takeIngest(id: string, name: string): boolean {
    return this.db
      .transaction((): boolean => {
        for (const owner of this.holders('ingest', name)) {
          if (owner === id) continue;
          if (ownerAlive(owner)) return false;
          this.drop([owner]);
        }
        this.db.prepare("INSERT OR IGNORE INTO lease_resources (lease_id, kind, name) VALUES (?, 'ingest', ?)").run(id, name);
        return true;
      })
      .immediate();
  }

  releaseIngest(id: string, name: string): void {
    this.db.prepare("DELETE FROM lease_resources WHERE lease_id = ? AND kind = 'ingest' AND name = ?").run(id, name);
  }
}

/** A row or file time (ms) that a live lease covers: it appeared after the earliest live lease began. */
export function coveredBy(live: LiveLeases, timeMs: number): boolean {
  return live.since !== undefined && timeMs >= live.since;
}

/** This process's lease on one state root. */
export class ProcessLease {
  private id: string | undefined;
  private atExit = false;
  private users = 0;

  constructor(private readonly records: LeaseRecords) {}

  /** Takes the lease if this process has none yet: from now on what appears under the root is kept. */
  hold(): void {
    if (this.id !== undefined) return;
    const id = `${process.pid}:${processStart('self')}`;
    this.records.put(id, process.pid, Date.now() - SLACK_MS);
    this.id = id;
    if (!this.atExit) process.once('exit', () => this.release());
    this.atExit = true;
  }

  /**
   * For a process that lives on between pieces of work (`berth serve`): marks one piece as
   * begun, and returns its end. When the last piece in flight ends the lease is released, so
   * what the server made and recorded is no longer kept from prune; the next write takes a
   * new lease. A command, which does one piece of work, never calls this.
   */
  enter(): () => void {
    this.users++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.users === 0) this.release();
    };
  }

  /** Names things this process is about to use; call before looking for them. */
  add(kind: LeaseKind, names: Iterable<string>): void {
    this.hold();
    this.records.addNames(this.id!, kind, [...names]);
  }

  /**
   * Makes this process the one writer of the partial download `name`, waiting while another
   * live process is; a dead owner's lock is taken over (and its lease expired). Returns the
   * release.
   */
  async lockIngest(name: string, signal?: AbortSignal): Promise<() => void> {
    this.hold();
    const id = this.id!;
    while (!this.records.takeIngest(id, name)) {
      signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    return () => {
      if (this.records.open) this.records.releaseIngest(id, name);
    };
  }

  /** Ends the lease (at exit). */
  release(): void {
    if (this.id === undefined || !this.records.open) return;
    try {
      this.records.drop([this.id]);
    } catch {
      /* the database is busy or gone: the lease expires with this process */
    }
    this.id = undefined;
  }
}
