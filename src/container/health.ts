/**
 * The health check of a running container, run by its monitor: the probe is an exec in the
 * container (exec.ts `startExec`) on docker's schedule; each result goes into the record's
 * `State.Health` (health-config.ts judges it) and a change of status is a `health_status`
 * event. A probe that outlives its timeout is killed and counts as a failure (exit -1).
 * While the container is paused no probe runs and its health stays as it was.
 */
import { isPaused } from './cgroup-files.ts';
import { containerEvent } from './events.ts';
import type { ContainerControl } from './control.ts';
import { startExec } from './exec.ts';
import {
  applyProbeResult,
  formatGoDuration,
  HEALTH_DEFAULTS,
  healthSchedule,
  nextProbeDelay,
  probeCommand,
  probeOutput,
  startingHealth,
  type HealthResult,
  type HealthSchedule,
} from './health-config.ts';
import { sleep } from './restart-state.ts';

/** A run's health checks; `stop` ends them (and kills a probe in flight) once the container has exited. */
export interface HealthChecks {
  stop(): Promise<void>;
}

/**
 * Starts the container's health checks for the run that started at `startedAtMs`; undefined
 * when it has none (no HEALTHCHECK, or NONE). `State.Health` starts at `starting`.
 */
export function startHealthChecks(engine: ContainerControl, id: string, startedAtMs: number): HealthChecks | undefined {
  const records = engine.containers;
  const rec = records.require(id);
  const config = rec.config.healthcheck;
  const argv = probeCommand(config);
  if (!config || !argv) return undefined;
  const schedule = healthSchedule(config);
  records.updateState(id, (s) => ({ ...s, health: startingHealth(s.health) }));
  const stopped = new AbortController();
  const loop = async (): Promise<void> => {
    while (!stopped.signal.aborted) {
      const status = records.get(id)?.state.health?.Status ?? 'starting';
      await sleep(nextProbeDelay(schedule, status, Date.now() - startedAtMs), stopped.signal);
      if (stopped.signal.aborted) return;
      // As dockerd stops a paused container's health monitor: no probe while the freezer holds
      // it (a probe would hang there and count as a failure), and none that ran into a pause counts.
      if (isPaused(id)) continue;
      const result = await runProbe(engine, id, argv, schedule, stopped.signal);
      if (stopped.signal.aborted || isPaused(id)) continue;
      let before = status;
      const after = records.updateState(id, (s) => {
        before = s.health?.Status ?? 'starting';
        return { ...s, health: applyProbeResult(s.health ?? startingHealth(undefined), result, schedule, startedAtMs) };
      });
      if (after.health && after.health.Status !== before) containerEvent(records.get(id), `health_status: ${after.health.Status}`);
    }
  };
  const done = loop().catch(() => undefined);
  return {
    stop: async () => {
      stopped.abort();
      await done;
    },
  };
}

/** One probe: its output (stdout and stderr together, bounded) and exit status, -1 when it could not run or timed out. */
async function runProbe(engine: ContainerControl, id: string, argv: readonly string[], schedule: HealthSchedule, stopped: AbortSignal): Promise<HealthResult> {
  const start = new Date().toISOString();
  const result = (ExitCode: number, Output: string): HealthResult => ({ Start: start, End: new Date().toISOString(), ExitCode, Output });
  let handle: Awaited<ReturnType<typeof startExec>>;
  try {
    handle = await startExec(engine, id, { command: argv, tty: false, interactive: false, env: [] }, { stdin: false, stdout: true, stderr: true });
  } catch (e) {
    return result(-1, (e as Error).message);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  const keep = (c: Buffer) => {
    const room = HEALTH_DEFAULTS.maxOutput - size;
    if (c.length > room) truncated = true;
    if (room > 0) {
      chunks.push(c.subarray(0, room));
      size += Math.min(room, c.length);
    }
  };
  handle.stdout?.on('data', keep);
  handle.stderr?.on('data', keep);
  const timedOut = new AbortController();
  const timer = setTimeout(() => timedOut.abort(), Math.min(schedule.timeoutMs, 2 ** 31 - 1));
  const onStop = () => timedOut.abort();
  stopped.addEventListener('abort', onStop, { once: true });
  const code = await Promise.race([
    handle.exited,
    new Promise<undefined>((r) => timedOut.signal.addEventListener('abort', () => r(undefined), { once: true })),
  ]);
  clearTimeout(timer);
  stopped.removeEventListener('abort', onStop);
  const output = () => probeOutput(Buffer.concat(chunks), truncated);
  if (code !== undefined) {
    // The exit can come before the last of the output has been read: wait (briefly) for both ends.
    await Promise.race([Promise.all([ended(handle.stdout), ended(handle.stderr)]), sleep(2_000)]);
    return result(code, output());
  }
  // Killed, and waited for, so that probes that will not die do not pile up.
  if (handle.pid) {
    try {
      process.kill(handle.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  await Promise.race([handle.exited, sleep(5_000)]);
  const limit = `Health check exceeded timeout (${formatGoDuration(schedule.timeoutMs * 1e6)})`;
  const out = output();
  return result(-1, out ? `${limit}: ${out}` : limit);
}

function ended(stream: NodeJS.ReadableStream | null): Promise<void> {
  const s = stream as (NodeJS.ReadableStream & { readableEnded?: boolean; destroyed?: boolean }) | null;
  return new Promise((r) => (s && !s.readableEnded && !s.destroyed ? s.once('end', () => r()).once('close', () => r()) : r()));
}
