/**
 * `POST /containers/{id}/wait`'s conditions. The hub's Exit frame from the monitor says the
 * status as soon as the container exits (before a `--rm` record is gone); the record, read
 * at a modest interval, covers containers this server has no connection to (run attached
 * by a CLI, or started before it) and says when a removed container's record is gone.
 */
import type { Engine } from '../engine.ts';
import { BerthError } from '../errors/index.ts';
import { attachTarget, currentRecord } from '../services/container-io.ts';
import type { ContainerRecord } from '../services/containers.ts';
import type { AttachHub } from './attach-hub.ts';

export const WAIT_CONDITIONS = ['not-running', 'next-exit', 'removed'] as const;
export type WaitCondition = (typeof WAIT_CONDITIONS)[number];

const POLL_MS = 100;
/** Once the exit is seen, the monitor's removal of a `--rm` record follows within moments. */
const REMOVAL_POLL_MS = 5;
/** Every so many polls, a running record is reconciled: its monitor may have died. */
const RECONCILE_EVERY = 10;

/** Resolves with the exit status once `condition` holds; rejects with CANCELLED when `signal` aborts. */
export async function waitForCondition(engine: Engine, hub: AttachHub, rec: ContainerRecord, condition: WaitCondition, signal: AbortSignal): Promise<number> {
  const id = rec.id;
  const finishedBefore = rec.state.finishedAt;
  let last = rec;
  let exitSeen: number | undefined;
  let wake: () => void = () => undefined;
  const off = hub.onExit(id, (code) => {
    exitSeen = code;
    wake();
  });
  const onAbort = () => wake();
  signal.addEventListener('abort', onAbort);
  try {
    // A running container's monitor tells its exit: listen to it rather than guess from polls.
    if (rec.state.status === 'running' && !hub.connected(id)) await listen(engine, hub, id);
    for (let i = 1; ; i++) {
      if (signal.aborted) throw new BerthError('CANCELLED', 'context canceled');
      const cur = i % RECONCILE_EVERY === 0 ? await currentRecord(engine, id) : engine.containers.get(id);
      if (condition === 'removed') {
        if (!cur) return exitSeen ?? last.state.exitCode;
      } else {
        if (exitSeen !== undefined) return exitSeen;
        if (!cur) return last.state.exitCode;
        const stopped = cur.state.status !== 'running';
        if (condition === 'not-running' && stopped) return cur.state.exitCode;
        if (condition === 'next-exit' && stopped && cur.state.finishedAt !== finishedBefore) return cur.state.exitCode;
      }
      if (cur) last = cur;
      await new Promise<void>((r) => {
        const timer = setTimeout(r, exitSeen === undefined ? POLL_MS : REMOVAL_POLL_MS);
        wake = () => {
          clearTimeout(timer);
          r();
        };
      });
    }
  } finally {
    off();
    signal.removeEventListener('abort', onAbort);
  }
}

/** Connects the hub to a running container's monitor, when it has one (and still runs). */
async function listen(engine: Engine, hub: AttachHub, id: string): Promise<void> {
  try {
    const { socket } = attachTarget(engine, id);
    if (socket) await hub.connect(id, socket);
  } catch {
    // It stopped meanwhile, or runs attached to a CLI: the record says when it exits.
  }
}
