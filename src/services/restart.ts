/**
 * Restart policies beyond the monitor's own loop: a start by the user resets the count; an
 * attached run whose policy restarts it hands it to a monitor; `system boot` starts what a
 * reboot left down; `update --restart` changes a container's policy.
 */
import { reconcile } from '../container/control.ts';
import { BerthError } from '../errors/index.ts';
import { containerEvent } from '../container/events.ts';
import type { ContainerRecord } from '../container/records.ts';
import { decideRestart, NO_RESTART, parseRestartFlag, startsAtBoot, validateRestartPolicy, type RestartPolicy } from '../container/restart-policy.ts';
import { resetForUserStart, waitBackoff } from '../container/restart-state.ts';
import { startAttached as runAttached, startDetached as runDetached, type DetachedStartOptions, type StartDeps } from '../container/start.ts';

/** `start`, `run -d`, the API's start: a start by the user, under a monitor. */
export async function startDetached(engine: StartDeps, id: string, opts: DetachedStartOptions = {}): Promise<void> {
  const rec = engine.containers.require(id);
  // Its monitor is about to start it again: as docker's start of a running container, nothing to do.
  if (rec.state.status === 'restarting') return;
  resetForUserStart(engine.containers, rec.id);
  await runDetached(engine, id, opts);
}

/**
 * `run`, `start -a`: a start by the user on this terminal. When its policy restarts it, the
 * container goes on under a monitor after the back-off, as docker's daemon keeps it, while
 * this command returns the first run's exit status as docker's client does.
 */
export async function startAttached(engine: StartDeps, id: string, io: { stdin: boolean }): Promise<number> {
  const rec = engine.containers.require(id);
  resetForUserStart(engine.containers, rec.id);
  const startedAt = Date.now();
  const code = await runAttached(engine, rec.id, io);
  await restartAfterAttached(engine, rec.id, Date.now() - startedAt);
  return code;
}

async function restartAfterAttached(engine: StartDeps, id: string, ranMs: number): Promise<void> {
  const rec = engine.containers.get(id);
  if (rec?.state.status !== 'exited') return;
  const s = rec.state;
  const policy = rec.config.restartPolicy ?? NO_RESTART;
  const next = decideRestart(
    policy,
    { exitCode: s.exitCode, stoppedByUser: !!s.stoppedByUser, restartCount: s.restartCount ?? 0, ranMs },
    s.restartDelayMs ?? 0,
  );
  if (!next.restart) return;
  engine.containers.updateState(id, (st) => ({ ...st, status: 'restarting', restartCount: (st.restartCount ?? 0) + 1, restartDelayMs: next.delayMs }));
  if (!(await waitBackoff(engine.containers, id, next.delayMs))) {
    engine.containers.updateState(id, (st) => (st.status === 'restarting' ? { ...st, status: 'exited' } : st));
    return;
  }
  await runDetached(engine, id).catch(() => {
    engine.containers.updateState(id, (st) => (st.status === 'restarting' ? { ...st, status: 'exited' } : st));
  });
}

/** What `system boot` did: the containers it started, and those it could not start with the reason. */
export interface BootReport {
  readonly started: string[];
  readonly failed: Array<{ id: string; name: string; error: string }>;
}

/**
 * `berth system boot`: after a host's reboot, no monitor is left and runc's state is gone;
 * this starts each container whose policy says so (`startsAtBoot`), as dockerd does when it
 * comes up. A container with a live monitor is left alone, so running it twice does no harm.
 */
export async function bootContainers(engine: StartDeps): Promise<BootReport> {
  const report: BootReport = { started: [], failed: [] };
  for (const listed of engine.containers.list()) {
    const wasLive = listed.state.status === 'running' || listed.state.status === 'restarting';
    const rec = await reconcile(engine, listed);
    if (rec.state.status === 'running' || rec.state.status === 'restarting') continue;
    const policy = rec.config.restartPolicy ?? NO_RESTART;
    const facts = { stoppedByUser: !!rec.state.stoppedByUser, wasLive, exitCode: rec.state.exitCode, restartCount: rec.state.restartCount ?? 0 };
    if (rec.state.startedAt === '0001-01-01T00:00:00Z' || !startsAtBoot(policy, facts)) continue;
    try {
      await startDetached(engine, rec.id);
      report.started.push(rec.id);
    } catch (e) {
      report.failed.push({ id: rec.id, name: rec.name, error: (e as Error).message });
    }
  }
  return report;
}

/**
 * `update --restart POLICY` (h-cli's `update` calls it): checks the policy in docker's words
 * and stores it; a running container's monitor reads it at the container's next exit.
 */
export function updateRestartPolicy(engine: Pick<StartDeps, 'containers'>, idOrName: string, spec: string): ContainerRecord {
  const rec = engine.containers.require(idOrName);
  const policy: RestartPolicy = validateRestartPolicy(parseRestartFlag(spec), false);
  if (rec.config.autoRemove && policy.name !== 'no') {
    throw new BerthError('INVALID_ARGUMENT', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
  }
  engine.containers.updateConfig(rec.id, (c) => ({ ...c, restartPolicy: policy }));
  containerEvent(rec, 'update');
  return engine.containers.require(rec.id);
}
