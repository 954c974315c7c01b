/**
 * The record's side of restart policies, shared by the processes that meet over it: the user's
 * `stop`/`kill`/`rm -f` mark the container stopped by the user (docker's HasBeenManuallyStopped)
 * before they signal it, so that its monitor, seeing the exit, does not restart it; a monitor
 * waiting out a back-off watches for that mark; a user's start clears it and the count.
 * There is no daemon to hold these in memory: the record is where they meet.
 */
import { readFileSync } from 'node:fs';
import type { ContainerRecord, ContainerRecords } from './records.ts';

/** Marks the container stopped by the user; its monitor restarts it no more. */
export function markStoppedByUser(records: ContainerRecords, id: string): void {
  records.updateState(id, (s) => (s.stoppedByUser ? s : { ...s, stoppedByUser: true }));
}

/**
 * A start by the user (start, run, restart, `system boot`) begins a new count, as docker's
 * start resets its restart manager; a running or restarting container is left as it is.
 */
export function resetForUserStart(records: ContainerRecords, id: string): void {
  records.updateState(id, (s) =>
    s.status === 'running' || s.status === 'restarting' ? s : { ...s, stoppedByUser: false, restartCount: 0, restartDelayMs: 0 },
  );
}

/**
 * Whether `pid` names a live process. Signal 0 reaches a zombie too: a monitor killed while its
 * parent (init, for a detached one) has not yet reaped it is dead all the same, so its state
 * in /proc decides.
 */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // The state is the first field after the command's name, which ends at the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // gone meanwhile
  }
}

/**
 * For a user's stop, kill or rm of a restarting container: marks it, then waits (at most
 * `limitMs`) for its monitor to act on the mark, which records it exited, or to have started
 * it already (it is then running, to be signalled as any running container is).
 */
export async function settleRestart(records: ContainerRecords, rec: ContainerRecord, limitMs = 15_000): Promise<ContainerRecord> {
  if (rec.state.status !== 'restarting') return rec;
  markStoppedByUser(records, rec.id);
  const deadline = Date.now() + limitMs;
  let cur = rec;
  while (cur.state.status === 'restarting' && alive(cur.state.monitorPid) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    cur = records.get(rec.id) ?? cur;
  }
  return cur;
}

/** Sleeps `ms` in steps a timer can hold (Node's stop at 2^31-1 ms), ending early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const end = Date.now() + ms;
    let timer: NodeJS.Timeout;
    const step = () => {
      const left = end - Date.now();
      if (left <= 0) return done();
      timer = setTimeout(step, Math.min(left, 2 ** 31 - 1));
    };
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    signal?.addEventListener('abort', done, { once: true });
    step();
  });
}

/**
 * The monitor's back-off: waits `ms`, looking at the record for the user's mark meanwhile.
 * False when the user stopped the container (or it is gone): it is not to be started.
 */
export async function waitBackoff(records: ContainerRecords, id: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    const cur = records.get(id);
    if (!cur || cur.state.stoppedByUser) return false;
    const left = end - Date.now();
    if (left <= 0) return true;
    await sleep(Math.min(left, 50));
  }
}
