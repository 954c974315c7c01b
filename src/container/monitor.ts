/**
 * The monitor process (`berth __monitor ID`): it owns a detached container's `runc run`, writes
 * its json log, serves its attach socket, runs its health checks (health.ts), restarts it as
 * its restart policy says (restart-policy.ts), and records its exit once no CLI is left to do it.
 * Its starter (start.ts `startDetached`) reads one start report from it on fd 3.
 */
import type { Readable } from 'node:stream';
import { closeSync, writeSync } from 'node:fs';
import { RuncStartWatch, type RunningContainer, type RuntimeOptions } from '../runtime/index.ts';
import { attachSocketPath, FrameKind, serveAttach, type AttachInput } from './attach.ts';
import { finishContainer, removeContainer } from './control.ts';
import { openLogSink } from './logs.ts';
import { containerPaths } from './paths.ts';
import type { ContainerRecord } from './records.ts';
import { startHealthChecks, type HealthChecks } from './health.ts';
import { decideRestart, NO_RESTART } from './restart-policy.ts';
import { waitBackoff } from './restart-state.ts';
import { startRuntime } from './runtime-adapter.ts';
import { HOLD_TIMEOUT_MS, markRunning, prepare, type StartDeps, type StartReport } from './start.ts';

/** A held monitor's word to its starter that the attach socket is served; fd 3 stays open for the start report. */
function reportListening(): void {
  try {
    writeSync(3, `${JSON.stringify({ listening: true })}\n`);
  } catch {
    // No starter to tell: the hold times out.
  }
}

/** The monitor's side of that pipe: report once, then let go of it. */
function reportStart(report: StartReport): void {
  try {
    writeSync(3, `${JSON.stringify(report)}\n`);
    closeSync(3);
  } catch {
    // The starting CLI is gone (EPIPE) or this monitor was not started by one: nobody to tell.
  }
}

/** The monitor's container: on a pty whose master it holds for a `-t` container, on pipes otherwise. */
interface MonitoredProcess {
  readonly container: RunningContainer;
  onOutput(fn: (kind: FrameKind.Stdout | FrameKind.Stderr, data: Buffer) => void): void;
  /** Resolves once the output has all been passed on. */
  outputDone(): Promise<void>;
  input: AttachInput;
}

async function spawnMonitored(engine: StartDeps, rec: ContainerRecord, startWatch: RuncStartWatch): Promise<MonitoredProcess> {
  const interactive = rec.config.interactive;
  if (rec.config.tty) {
    // runc makes the container's pty and sends its master to this process over the console
    // socket (as docker's shim has it); the container is then this process's child.
    const container = await startRuntime(engine, rec.id, { terminal: true }, (rec.config.runtime as RuntimeOptions).ociRuntime);
    let outputFn: (kind: FrameKind.Stdout | FrameKind.Stderr, data: Buffer) => void = () => undefined;
    // [cols, rows]: the size the client asked for at create (its spec has it too), else 80×24.
    const asked = (rec.config.runtime as { consoleSize?: [number, number] }).consoleSize;
    let size: [number, number] = asked ? [asked[1], asked[0]] : [80, 24];
    // runc's own complaints (it could not start the container) come on its stderr.
    container.stderr?.on('data', (c: Buffer) => void startWatch.claims(c));
    const term = await container.terminal!.catch(() => undefined);
    term?.resize(...size);
    const done = term ? new Promise<void>((r) => term.output.once('close', () => r())) : Promise.resolve();
    term?.output.on('data', (d: Buffer) => outputFn(FrameKind.Stdout, d));
    void container.wait().then(() => setTimeout(() => term?.close(), 2000).unref());
    return {
      container,
      onOutput: (fn) => (outputFn = fn),
      outputDone: () => done,
      input: {
        onStdin: (data) => interactive && term?.write(data),
        onStdinEnd: () => undefined,
        onResize: (cols, rows) => {
          size = [cols, rows];
          term?.resize(cols, rows);
        },
      },
    };
  }
  const container = await startRuntime(
    engine,
    rec.id,
    { stdio: [interactive ? 'pipe' : 'ignore', 'pipe', 'pipe'] },
    (rec.config.runtime as RuntimeOptions).ociRuntime,
  );
  container.stdin?.on('error', () => undefined);
  // runc's exit can come before the last of its output has been read from the pipes: what a
  // short container wrote last (its stderr, often) must still reach the log and the attachers.
  const pipesClosed = Promise.all(
    [container.stdout!, container.stderr!].map((s) => new Promise<void>((r) => ((s as Readable).destroyed ? r() : s.once('close', () => r())))),
  ).then(() => undefined);
  return {
    container,
    onOutput: (fn) => {
      container.stdout!.on('data', (c: Buffer) => fn(FrameKind.Stdout, c));
      container.stderr!.on('data', (c: Buffer) => fn(FrameKind.Stderr, c));
    },
    // A process the container left behind (with --pid host) may hold the pipes open: wait a while, not for ever.
    outputDone: () => Promise.race([pipesClosed, new Promise<void>((r) => setTimeout(r, 2000).unref())]),
    input: { onStdin: (data) => container.stdin?.write(data), onStdinEnd: () => container.stdin?.end(), onResize: () => undefined },
  };
}

/** How one run under the monitor ended: its exit status, and runc's reason when it could not start it. */
interface RunEnd {
  readonly code: number;
  readonly error?: string;
}

/**
 * The monitor process body: own `runc run`, log its output, serve attach, record its exit;
 * and, when the container's restart policy says so, start it again after docker's back-off,
 * until the policy or the user (stop, kill) says no more.
 */
export async function runMonitor(engine: StartDeps, id: string, opts: { hold?: boolean } = {}): Promise<void> {
  // A monitor's stderr goes nowhere: a failure is recorded on the container, where inspect shows it.
  const fail = (e: unknown) => void recordMonitorFailure(engine, id, e).finally(() => process.exit(1));
  process.on('uncaughtException', fail).on('unhandledRejection', fail);
  try {
    await monitorContainer(engine, id, opts);
  } catch (e) {
    await recordMonitorFailure(engine, id, e);
    throw e;
  }
}

/** The exit of a container whose monitor failed: 137 and the reason; a `--rm` one is removed, as its monitor would have. */
async function recordMonitorFailure(engine: StartDeps, id: string, e: unknown): Promise<void> {
  const rec = engine.containers.get(id);
  if (!rec) return;
  const reason = e instanceof Error ? e.message : String(e);
  if (rec.state.status !== 'exited') await finishContainer(engine, id, 137, { error: `the container's monitor failed: ${reason}` }).catch(() => undefined);
  if (rec.config.autoRemove) await removeContainer(engine, id, { force: true, volumes: true }).catch(() => undefined);
}

async function monitorContainer(engine: StartDeps, id: string, opts: { hold?: boolean }): Promise<void> {
  const records = engine.containers;
  const rec = records.require(id);
  const paths = containerPaths(engine, id);
  const log = openLogSink(paths.log, rec.config);
  let proc: MonitoredProcess | undefined;
  // Input that comes before the container does (stdin piped ahead of the start) waits for it.
  const early: Array<(p: MonitoredProcess) => void> = [];
  const toProcess = (fn: (p: MonitoredProcess) => void) => (proc ? fn(proc) : early.push(fn));
  let release: () => void = () => undefined;
  const released = opts.hold
    ? new Promise<void>((r) => {
        const timer = setTimeout(r, HOLD_TIMEOUT_MS);
        release = () => {
          clearTimeout(timer);
          r();
        };
      })
    : undefined;
  const attach = await serveAttach(attachSocketPath(engine, id), {
    onStdin: (d) => toProcess((p) => p.input.onStdin(d)),
    onStdinEnd: () => toProcess((p) => p.input.onStdinEnd()),
    onResize: (c, r) => toProcess((p) => p.input.onResize(c, r)),
    onGo: () => release(),
  });
  if (released) {
    reportListening();
    await released;
  }

  /** One run: start the container, pass its output on, check its health, wait for its exit. */
  const runOnce = async (first: boolean): Promise<RunEnd> => {
    // As attached: runc failing to start the container is the engine's error, which
    // `startDetached` reports (exit 125), not container output.
    const runc = new RuncStartWatch();
    const current = await spawnMonitored(engine, records.require(id), runc);
    proc = current;
    for (const fn of early.splice(0)) {
      try {
        fn(current);
      } catch {
        // As for live input (attach.ts): a frame that cannot apply never ends the monitor.
      }
    }
    current.onOutput((kind, data) => {
      if (runc.claims(data)) return;
      log.write(kind === FrameKind.Stdout ? 'stdout' : 'stderr', data);
      attach.output(kind, data);
    });
    const exited = current.container.wait();
    const pid = await current.container.started();
    let health: HealthChecks | undefined;
    if (pid) {
      runc.containerStarted();
      markRunning(engine, id, pid, process.pid);
      if (first) reportStart({});
      health = startHealthChecks(engine, id, Date.now());
    }
    const code = await exited;
    await health?.stop();
    await current.outputDone();
    // No pid: runc is gone already, having either run a very short container or failed to start one.
    if (!pid && first) reportStart(runc.error ? { error: runc.error } : {});
    // A container that ran and exited before its pid was seen still started: its record and `start` event say so.
    if (!pid && !runc.error) markRunning(engine, id, 0, process.pid);
    return { code: runc.error ? 128 : code, error: runc.error };
  };

  let end = await runOnce(true);
  let recorded = false;
  for (;;) {
    const next = restartDecision(records.get(id), end);
    if (!next) break;
    await finishContainer(engine, id, end.code, { runcGone: true, error: end.error, restarting: next });
    if (!(await waitBackoff(records, id, next.restartDelayMs))) {
      // Stopped by the user while it waited (or removed): it stays exited.
      if (records.get(id)) records.updateState(id, (s) => (s.status === 'restarting' ? { ...s, status: 'exited', monitorPid: undefined } : s));
      recorded = true;
      break;
    }
    try {
      await prepare(engine, records.require(id));
    } catch {
      recorded = true; // prepare recorded the exit and its reason
      break;
    }
    end = await runOnce(false);
  }
  await log.close();
  if (!recorded) await finishContainer(engine, id, end.code, { runcGone: true, error: end.error });
  await attach.exit(end.code);
  if (rec.config.autoRemove) await removeContainer(engine, id, { force: true, volumes: true });
}

/** Whether the policy starts the container again after `end` (restart-policy.ts), with its next count and back-off. */
function restartDecision(rec: ContainerRecord | undefined, end: RunEnd): { restartCount: number; restartDelayMs: number } | undefined {
  // A container runc could not start is not restarted, as docker's is not.
  if (!rec || end.error) return undefined;
  const s = rec.state;
  const decision = decideRestart(
    rec.config.restartPolicy ?? NO_RESTART,
    { exitCode: end.code, stoppedByUser: !!s.stoppedByUser, restartCount: s.restartCount ?? 0, ranMs: Date.now() - Date.parse(s.startedAt) },
    s.restartDelayMs ?? 0,
  );
  return decision.restart ? { restartCount: (s.restartCount ?? 0) + 1, restartDelayMs: decision.delayMs } : undefined;
}
