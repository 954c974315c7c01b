/**
 * Stop, kill, wait, remove — and `finishContainer`, the one place a container's exit is
 * recorded and its per-run resources (network, runc state, mount) released. Whoever sees
 * the exit calls it: the attached CLI, the monitor, or a reconcile after a crash.
 */
import { rm } from 'node:fs/promises';
import { BerthError } from '../errors/index.ts';
import type { Snapshotter } from '../snapshot/index.ts';
import type { VolumeStore } from '../volume/index.ts';
import { containerEvent, signalNumber } from './events.ts';
import { thawAbandoned } from './freeze.ts';
import { containerPaths, type ContainerRoots } from './paths.ts';
import type { ContainerRecord, ContainerRecords } from './records.ts';
import { alive, markStoppedByUser, settleRestart } from './restart-state.ts';
import { runcDelete, runcKill, runcStatus, teardownRuntime, type RuntimeDeps } from './runtime-adapter.ts';

/**
 * What stopping, waiting on, reaping and removing a container use: its records, its snapshot,
 * its anonymous volumes, its dirs, and whatever the runtime calls (runtime-adapter.ts) ask for
 * in their own signatures.
 */
export type ContainerControl = ContainerRoots & {
  readonly containers: ContainerRecords;
  readonly snapshots: Snapshotter;
  readonly volumes: VolumeStore;
} & RuntimeDeps;

export async function finishContainer(
  engine: ContainerControl,
  id: string,
  exitCode: number,
  extra: {
    error?: string;
    oomKilled?: boolean;
    runcGone?: boolean;
    /** Its policy starts it again (restart-policy.ts): it is `restarting`, still its monitor's, with this count and back-off. */
    restarting?: { restartCount: number; restartDelayMs: number };
  } = {},
): Promise<void> {
  const records = engine.containers;
  const rec = records.get(id);
  if (!rec) return;
  // Independent: the network and the rootfs mount are released side by side.
  await Promise.all([teardownRuntime(engine, rec, { runcGone: extra.runcGone }).catch(() => undefined), engine.snapshots.unmount(id).catch(() => undefined)]);
  // Recorded before the state says exited: a `stop` waiting on the state records its own event after this one.
  if (rec.state.status !== 'exited') containerEvent(rec, 'die', { exitCode: String(exitCode) });
  const restarting = extra.restarting;
  records.updateState(id, (s) => ({
    ...s,
    status: restarting ? 'restarting' : 'exited',
    ...(restarting ?? {}),
    pid: 0,
    exitCode,
    finishedAt: new Date().toISOString(),
    error: extra.error ?? s.error,
    oomKilled: extra.oomKilled ?? s.oomKilled,
    network: undefined,
    ports: [],
    monitorPid: restarting ? s.monitorPid : undefined,
  }));
}

/** Corrects a record that says running when nobody is left to record its exit (and removes it when it was `--rm`). */
export async function reconcile(engine: ContainerControl, rec: ContainerRecord): Promise<ContainerRecord> {
  if (rec.state.status === 'restarting' && !alive(rec.state.monitorPid)) {
    // Its monitor died waiting out the back-off (a reboot): nothing will start it but a user or `system boot`.
    engine.containers.updateState(rec.id, (s) => (s.status === 'restarting' ? { ...s, status: 'exited', monitorPid: undefined } : s));
    return engine.containers.require(rec.id);
  }
  if (rec.state.status !== 'running') return rec;
  await thawAbandoned(engine, rec.id).catch(() => false); // a killed `berth cp` left it frozen
  if (alive(rec.state.monitorPid)) return rec;
  const st = await runcStatus(engine, rec);
  if (st === 'running') return rec;
  await finishContainer(engine, rec.id, 137, { error: "the process recording this container's exit died" });
  const finished = engine.containers.require(rec.id);
  // Its monitor would have removed it: a client waiting for `removed` must not wait forever.
  if (finished.config.autoRemove) await removeContainer(engine, rec.id, { force: true, volumes: true }).catch(() => undefined);
  return finished;
}

/** Every container, newest first, each reconciled; a `--rm` one whose monitor died is gone from the list as from the store. */
export async function reconciledList(engine: ContainerControl): Promise<ContainerRecord[]> {
  const out: ContainerRecord[] = [];
  for (const r of engine.containers.list()) {
    const rec = await reconcile(engine, r);
    if (rec === r || engine.containers.get(r.id)) out.push(rec);
  }
  return out;
}

export async function waitContainer(engine: ContainerControl, idOrName: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
  const records = engine.containers;
  let rec = records.require(idOrName);
  // A container waiting out its back-off counts as running to docker's wait, which returns at
  // the next exit of the run to come (docker's SetRestarting keeps Running set); an exit after
  // the wait began, even one its policy restarts, ends the wait.
  const backoffOf = rec.state.status === 'restarting' ? rec.state.finishedAt : undefined;
  for (let i = 0; ; i++) {
    if (
      rec.state.status === 'exited' ||
      (rec.state.status === 'restarting' && rec.state.finishedAt !== backoffOf) ||
      (rec.state.status === 'created' && rec.state.finishedAt !== '0001-01-01T00:00:00Z')
    )
      return rec.state.exitCode;
    if (rec.state.status === 'created' || rec.state.status === 'dead') return rec.state.exitCode;
    if (opts.signal?.aborted) throw new BerthError('CANCELLED', 'wait cancelled');
    await new Promise((r) => setTimeout(r, Math.min(10 + i * 5, 100)));
    const next = records.get(rec.id);
    if (!next) return rec.state.exitCode;
    rec = i % 10 === 9 ? await reconcile(engine, next) : next;
  }
}

export async function killContainer(engine: ContainerControl, idOrName: string, signal = 'SIGKILL'): Promise<ContainerRecord> {
  const found = await reconcile(engine, engine.containers.require(idOrName));
  // A restarting container is not signalled: the mark keeps its monitor from starting it (docker's ExitOnNext).
  const rec = await settleRestart(engine.containers, found);
  if (found.state.status === 'restarting' && rec.state.status !== 'running') return rec;
  if (rec.state.status !== 'running') {
    throw new BerthError('CONFLICT', `Cannot kill container: ${idOrName}: Container ${rec.id} is not running`);
  }
  // The user stopping it, whose policy must then not start it again (docker's ExitOnNext, kept
  // until the process exits, however late): SIGKILL; the container's stop signal when it names
  // one; any signal when it names none (a record from before `stopSignalSet` names one unless it is SIGTERM).
  const named = rec.config.stopSignalSet ?? signalNumber(rec.config.stopSignal) !== '15';
  if (signalNumber(signal) === '9' || !named || signalNumber(signal) === signalNumber(rec.config.stopSignal)) {
    markStoppedByUser(engine.containers, rec.id);
  }
  await runcKill(engine, rec, signal);
  containerEvent(rec, 'kill', { signal: signalNumber(signal) });
  return rec;
}

/** STOPSIGNAL, then SIGKILL after `timeout` seconds, as docker stop. */
export async function stopContainer(engine: ContainerControl, idOrName: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
  const records = engine.containers;
  const rec = await settleRestart(records, await reconcile(engine, records.require(idOrName)));
  if (rec.state.status !== 'running') return;
  markStoppedByUser(records, rec.id);
  const timeout = opts.timeout ?? rec.config.stopTimeout;
  await runcKill(engine, rec, opts.signal ?? rec.config.stopSignal).catch(() => undefined);
  containerEvent(rec, 'kill', { signal: signalNumber(opts.signal ?? rec.config.stopSignal) });
  const deadline = timeout < 0 ? Number.POSITIVE_INFINITY : Date.now() + timeout * 1000; // -1: docker's wait for ever
  while (Date.now() < deadline) {
    if (records.require(rec.id).state.status !== 'running') return containerEvent(rec, 'stop');
    await new Promise((r) => setTimeout(r, 20));
  }
  await runcKill(engine, rec, 'SIGKILL').catch(() => undefined);
  containerEvent(rec, 'kill', { signal: '9' });
  const ac = AbortSignal.timeout(15_000);
  await waitContainer(engine, rec.id, { signal: ac }).catch(() => undefined);
  await reconcile(engine, records.require(rec.id));
  containerEvent(rec, 'stop');
}

export async function removeContainer(engine: ContainerControl, idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
  const records = engine.containers;
  let rec = await reconcile(engine, records.require(idOrName));
  if (rec.state.status === 'restarting') {
    if (!opts.force) {
      throw new BerthError('CONFLICT', `You cannot remove a restarting container ${rec.id}. Stop the container before attempting removal or force remove`);
    }
    rec = await settleRestart(records, rec);
  }
  const wasRunning = rec.state.status === 'running';
  if (wasRunning && opts.force) markStoppedByUser(records, rec.id);
  if (wasRunning) {
    if (!opts.force) {
      throw new BerthError('CONFLICT', `You cannot remove a running container ${rec.id}. Stop the container before attempting removal or force remove`);
    }
    await runcKill(engine, rec, 'SIGKILL').catch(() => undefined);
    await waitContainer(engine, rec.id, { signal: AbortSignal.timeout(15_000) }).catch(() => undefined);
  }
  // An exited container's runc state and network were released when its exit was recorded.
  if (wasRunning) await runcDelete(engine, rec).catch(() => undefined);
  await teardownRuntime(engine, records.get(rec.id) ?? rec, { runcGone: true }).catch(() => undefined);
  await engine.snapshots.remove(rec.id);
  records.delete(rec.id);
  containerEvent(rec, 'destroy');
  if (opts.volumes) {
    for (const m of rec.config.mounts) if (m.anonymous && m.volumeName) await engine.volumes.remove(m.volumeName, { force: true }).catch(() => undefined);
  }
  const paths = containerPaths(engine, rec.id);
  await rm(paths.dir, { recursive: true, force: true });
  await rm(paths.runDir, { recursive: true, force: true });
}
