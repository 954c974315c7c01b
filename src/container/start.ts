/**
 * Starting a container, attached or detached.
 *
 * Attached (`run`, `start -a`): this process starts `runc run` itself — the fastest path —
 * passes the terminal or pipes through, and records the exit. Detached (`run -d`): setup
 * errors are still reported here, then a monitor process (`berth __monitor ID`, detached
 * from the terminal) owns the container, writes the json log and records the exit after this
 * CLI is gone; for `-t` it holds the pty's master, which runc sends it (sys/terminal.ts).
 * Both start it through the executor (runtime/executor.ts); the monitor's body is monitor.ts.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { BerthError, errnoCode } from '../errors/index.ts';
import type { ImageStores } from '../image/stores.ts';
import { loadImage } from '../image/resolve.ts';
import { ensureEmulator, RuncStartWatch, type RuntimeOptions } from '../runtime/index.ts';
import { finishContainer, removeContainer } from './control.ts';
import { containerEvent } from './events.ts';
import { openLogSink } from './logs.ts';
import { mark } from '../progress/timing.ts';
import { closeFd, fdPath, O_DIRECTORY, O_PATH, openInRoot, openRoot } from '../sys/in-root.ts';
import { containerPaths } from './paths.ts';
import { freshMonitors, type MonitorLauncher } from './monitor-standby.ts';
import type { ContainerControl } from './control.ts';

/** What starting a container uses: its records and runtime (ContainerControl), and the image stores its volumes are filled from. */
export type StartDeps = ContainerControl & Pick<ImageStores, 'content' | 'images' | 'snapshots'>;
import type { ContainerRecord } from './records.ts';
import { attachSocketPath } from './attach.ts';
import { prepareRuntime, startRuntime } from './runtime-adapter.ts';
import { needTerminalSupport } from '../sys/terminal.ts';

/**
 * Fills each empty volume from the image's dir at its mount path. That dir is opened inside
 * the rootfs (a link in the image, `data -> /etc`, leads to the image's /etc, never the
 * host's), and the copy reads through the fd.
 */
async function copyUpVolumes(engine: StartDeps, rec: ContainerRecord, rootfs: string): Promise<void> {
  const volumes = rec.config.mounts.filter((m) => m.type === 'volume' && m.volumeName && !m.noCopy);
  if (!volumes.length) return;
  const rootFd = openRoot(rootfs);
  try {
    for (const m of volumes) {
      let dir: number;
      try {
        dir = openInRoot(rootFd, m.destination, { flags: O_PATH | O_DIRECTORY, followFinal: true });
      } catch (e) {
        if (['ENOENT', 'ENOTDIR', 'ELOOP'].includes(errnoCode(e) ?? '')) continue; // nothing in the image to copy
        throw e;
      }
      try {
        await engine.volumes.copyUp(m.volumeName!, fdPath(dir));
      } finally {
        closeFd(dir);
      }
    }
  } finally {
    closeFd(rootFd);
  }
}

/** Mounts, volumes, network and the runtime bundle of a container about to run; the monitor calls it again for each restart. */
export async function prepare(engine: StartDeps, rec: ContainerRecord): Promise<void> {
  if (rec.state.status === 'running') throw new BerthError('CONFLICT', `container ${rec.id.slice(0, 12)} is already running`);
  const { config } = await loadImage(engine, rec.imageId);
  if ((await ensureEmulator(config.architecture)) === 'unavailable') {
    process.stderr.write(
      `WARNING: the image's platform (${config.os}/${config.architecture}) does not match the host's, and no emulator is registered for it: install qemu-user-static\n`,
    );
  }
  const snap = await engine.snapshots.mount(rec.id, config.rootfs.diff_ids);
  await copyUpVolumes(engine, rec, snap.rootfs);
  const paths = containerPaths(engine, rec.id);
  await mkdir(paths.runDir, { recursive: true });
  const records = engine.containers;
  try {
    const net = await prepareRuntime(engine, rec, snap.rootfs);
    records.updateState(rec.id, (s) => ({ ...s, network: net.state, ports: net.ports, ipAddress: net.ipAddress, error: '' }));
  } catch (e) {
    const code = e instanceof BerthError && e.code === 'CMD_NOT_FOUND' ? 127 : e instanceof BerthError && e.code === 'CMD_NOT_EXECUTABLE' ? 126 : 128;
    await finishContainer(engine, rec.id, code, { error: (e as Error).message });
    throw e;
  }
}

/** Prepares; a `--rm` container that cannot start is removed, as docker does. */
async function prepareOrRemove(engine: StartDeps, rec: ContainerRecord): Promise<void> {
  try {
    await prepare(engine, rec);
  } catch (e) {
    if (rec.config.autoRemove) await removeContainer(engine, rec.id, { force: true, volumes: true }).catch(() => undefined);
    throw e;
  }
}

export function markRunning(engine: StartDeps, id: string, pid: number, monitorPid: number): void {
  engine.containers.updateState(id, (s) => ({ ...s, status: 'running', pid, monitorPid, startedAt: new Date().toISOString(), exitCode: 0 }));
  containerEvent(engine.containers.get(id), 'start');
}

/** Runs the container attached to this terminal; resolves to its exit status. */
export async function startAttached(engine: StartDeps, id: string, io: { stdin: boolean }): Promise<number> {
  const records = engine.containers;
  const rec = records.require(id);
  containerEvent(rec, 'attach');
  await prepareOrRemove(engine, rec);
  const paths = containerPaths(engine, rec.id);
  const tty = rec.config.tty;
  // `-a`: the streams shown here; the log keeps them all.
  const shown = (s: 'stdin' | 'stdout' | 'stderr') => !rec.config.attach?.length || rec.config.attach.includes(s);
  const stdin = io.stdin && shown('stdin');
  // With -t runc proxies a pty of its own on this terminal; without, output comes through pipes to log.
  const child = await startRuntime(
    engine,
    rec.id,
    { stdio: tty || stdin ? [stdin || tty ? 'inherit' : 'ignore', tty ? 'inherit' : 'pipe', tty ? 'inherit' : 'pipe'] : ['ignore', 'pipe', 'pipe'] },
    (rec.config.runtime as RuntimeOptions).ociRuntime,
  );
  const log = openLogSink(paths.log, rec.config);
  const runc = new RuncStartWatch();
  if (!tty) {
    child.stdout!.on('data', (c: Buffer) => {
      if (shown('stdout')) process.stdout.write(c);
      log.write('stdout', c);
    });
    child.stderr!.on('data', (c: Buffer) => {
      if (runc.claims(c)) return;
      if (shown('stderr')) process.stderr.write(c);
      log.write('stderr', c);
    });
  }
  // runc forwards signals to the container; this process must outlive it to record the exit.
  const ignore = () => undefined;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.on(sig, ignore);
  const exited = child.wait();
  const pid = await child.started();
  if (pid) runc.containerStarted();
  markRunning(engine, rec.id, pid, process.pid);
  mark('container running');
  const code = await exited;
  mark('container exited');
  await ended(child.stdout);
  await log.close();
  await finishContainer(engine, rec.id, runc.error ? 128 : code, { runcGone: true, error: runc.error });
  if (rec.config.autoRemove) await removeContainer(engine, rec.id, { force: true, volumes: true });
  mark('container removed');
  // Docker answers a container that could not start with 125 and the runtime's reason.
  if (runc.error) throw new BerthError('RUNTIME', runc.error);
  return code;
}

/** Resolves once `stream` has ended (at once for none), so that the log has all of it. */
function ended(stream: NodeJS.ReadableStream | null): Promise<void> {
  const s = stream as Readable | null;
  return new Promise((r) => (s && !s.readableEnded && !s.destroyed ? s.once('close', () => r()).once('end', () => r()) : r()));
}

export interface DetachedStartOptions {
  /**
   * Called once the monitor serves the container's attach socket (attach.ts) and before it
   * runs the container, for a starter that must see the output from its first byte (the API,
   * whose clients attach before they start). It connects to `attachSocket` and sends a Go
   * frame; the monitor runs the container at the first Go, or after HOLD_TIMEOUT_MS.
   */
  readonly beforeRun?: (attachSocket: string) => Promise<void>;
  /** Where the monitor process comes from: a fresh one by default, a server's standby (monitor-standby.ts). */
  readonly monitors?: MonitorLauncher;
}

/** How long a held monitor waits for its starter's Go: a starter that died must not leave the container unstarted. */
export const HOLD_TIMEOUT_MS = 10_000;

/** Starts the container under a monitor process and returns once it runs (or failed to). */
export async function startDetached(engine: StartDeps, id: string, opts: DetachedStartOptions = {}): Promise<void> {
  const records = engine.containers;
  const rec = records.require(id);
  // The last run's monitor records the exit, then closes its attach socket, whose path the new
  // monitor binds (closing a unix socket server unlinks its path): start once it is gone.
  await monitorGone(rec.state.monitorPid, rec.id, 10_000);
  // Said here, with a hint, rather than by a monitor that could not take the terminal.
  if (rec.config.tty) needTerminalSupport();
  await prepareOrRemove(engine, rec);
  // A restart must not mistake the last run's exit for this one's: clear it before the monitor runs.
  records.updateState(rec.id, (s) => ({ ...s, status: 'created' }));
  // fd 3 is a pipe on which the monitor reports the start, one JSON line; a pipe and not the
  // record, because a quick `--rm` container can be run, removed and gone before a poll would see it.
  const monitor = (opts.monitors ?? freshMonitors).launch(engine.root, { id: rec.id, hold: !!opts.beforeRun });
  const beforeRun = opts.beforeRun;
  // A starter that cannot attach lets the monitor's own timeout run the container.
  const onListening = beforeRun ? () => void beforeRun(attachSocketPath(engine, rec.id)).catch(() => undefined) : undefined;
  const report = await readStartReport(monitor.reports, rec.id, onListening);
  if (!report && rec.config.autoRemove) await removeContainer(engine, rec.id, { force: true, volumes: true }).catch(() => undefined);
  if (report?.error) throw new BerthError('RUNTIME', report.error);
  if (!report) throw new BerthError('RUNTIME', `container ${rec.id.slice(0, 12)}: the monitor process exited before it started the container`);
}

/** Waits (at most `limitMs`) while `pid` is still the monitor of container `id`; a reused pid is another process. */
async function monitorGone(pid: number | undefined, id: string, limitMs: number): Promise<void> {
  if (!pid || pid === process.pid) return;
  const isMonitor = (): boolean => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      // A server's standby (monitor-standby.ts) was told its container on fd 3, not in argv.
      return argv.includes('__monitor') && (argv.includes(id) || argv.includes('--standby'));
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + limitMs;
  while (isMonitor() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/**
 * What the monitor says of a start: `{}` when the container runs (or ran), `{error}` when runc
 * could not start it; a held monitor first says `{listening}` once its attach socket is served.
 */
export interface StartReport {
  error?: string;
  listening?: boolean;
}

/**
 * The monitor's report; undefined when the pipe closes without one (the monitor died),
 * and an error when none comes within 30 s. A `listening` line before it goes to `onListening`.
 */
function readStartReport(pipe: Readable, id: string, onListening?: () => void): Promise<StartReport | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => done({ error: `container ${id.slice(0, 12)} did not start within 30s` }), 30_000);
    const onData = (c: Buffer): void => {
      text += c.toString();
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
        const report = JSON.parse(text.slice(0, nl)) as StartReport;
        text = text.slice(nl + 1);
        if (!report.listening) {
          done(report);
          return;
        }
        onListening?.();
      }
    };
    const onClose = (): void => done(undefined);
    const done = (r: StartReport | undefined): void => {
      clearTimeout(timer);
      // Only this reader's listeners: the launcher may be listening for the close too.
      pipe.off('data', onData).off('close', onClose);
      // runc and the container inherit the monitor's end, so EOF may never come: stop reading now.
      pipe.destroy();
      resolve(r);
    };
    pipe.on('data', onData);
    pipe.on('error', () => undefined);
    pipe.on('close', onClose);
  });
}
