/**
 * Where a detached container's monitor process comes from. The CLI spawns a fresh
 * `berth __monitor ID` for each start; a long-running server (`berth serve`) keeps one
 * standby instead: `berth __monitor --standby`, spawned ahead of time, which has loaded the
 * code and opened the engine, and waits for its order (one JSON line: `{"id","hold"}`) on
 * fd 3, the pipe that carries its start report back (start.ts). A start through the server
 * then skips Node's start-up, the largest part of a detached start.
 *
 * Only the server holds the other end of that pipe (it is a socketpair made at the spawn, so
 * nothing else can send an order), and the standby accepts only a well-formed id of a
 * container that exists. It exits when the pipe closes without an order (the server is gone)
 * and after STANDBY_IDLE_MS without one; the server kills it when it shuts down.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { read, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import type { ContainerRecords } from './records.ts';

/** What a monitor is told: its container, and whether to wait for the starter's Go (start.ts `beforeRun`). */
export interface MonitorOrder {
  readonly id: string;
  readonly hold: boolean;
}

/** A monitor process on its way: its start report comes on `reports` (its fd 3). */
export interface LaunchedMonitor {
  readonly reports: Readable;
}

/** Gives each detached start its monitor process. */
export interface MonitorLauncher {
  launch(root: string, order: MonitorOrder): LaunchedMonitor;
}

/** How long a standby waits for its order before it exits on its own. */
export const STANDBY_IDLE_MS = 30 * 60_000;

/** An order is one short line; anything longer is not one. */
const ORDER_MAX_BYTES = 256;

const CONTAINER_ID = /^[0-9a-f]{64}$/;

/**
 * `berth __monitor ARGS` as a detached process: argv[1] is bin/berth (or the bundle) as this
 * process was started, and after `--`, as bin/berth starts it, so that Node reads no option
 * out of berth's arguments. fd 3 is the pipe of orders and start reports.
 */
function spawnMonitor(root: string, args: readonly string[]): ChildProcess {
  const child = spawn(process.execPath, ['--', process.argv[1]!, '--root', root, '__monitor', ...args], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: process.env,
  });
  child.unref();
  return child;
}

/** The parent's end of fd 3: a socket, so orders go out on it and reports come in. */
function reportsOf(child: ChildProcess): Duplex {
  return child.stdio[3] as Duplex;
}

/** The CLI's way: a fresh monitor per start, told its container on the command line. */
export const freshMonitors: MonitorLauncher = {
  launch: (root, order) => ({ reports: reportsOf(spawnMonitor(root, [order.id, ...(order.hold ? ['--hold'] : [])])) }),
};

/**
 * A server's way: at most one standby is kept ready for a root. A start takes it (or, when
 * none is ready, a standby spawned on the spot, which is then no slower than a fresh monitor);
 * the next one is spawned once the taken one's start is over (its report pipe closed), so that
 * the two do not share the CPU during the start. An idle standby is renewed at half its idle
 * timeout, so a start after a quiet hour still finds one.
 */
export class MonitorStandby implements MonitorLauncher {
  private ready: { child: ChildProcess; renew: NodeJS.Timeout } | undefined;
  private closed = false;

  constructor(private readonly root: string) {}

  /** Spawns the standby if none is ready. */
  prepare(): void {
    if (this.closed || this.ready) return;
    const child = spawnMonitor(this.root, ['--standby']);
    // Replaced well before its own idle timeout, so an order never meets one that is leaving.
    const renew = setTimeout(() => {
      this.discard();
      this.prepare();
    }, STANDBY_IDLE_MS / 2);
    renew.unref();
    const entry = { child, renew };
    // A standby that died is no longer offered.
    child.once('exit', () => {
      if (this.ready !== entry) return;
      clearTimeout(renew);
      this.ready = undefined;
    });
    reportsOf(child).on('error', () => undefined);
    this.ready = entry;
  }

  launch(root: string, order: MonitorOrder): LaunchedMonitor {
    if (root !== this.root) return freshMonitors.launch(root, order);
    this.prepare();
    const taken = this.ready!;
    clearTimeout(taken.renew);
    this.ready = undefined;
    const reports = reportsOf(taken.child);
    reports.once('close', () => this.prepare());
    reports.write(`${JSON.stringify(order)}\n`);
    return { reports };
  }

  /** Kills the ready standby and spawns no other (the server is shutting down). */
  close(): void {
    this.closed = true;
    this.discard();
  }

  private discard(): void {
    const r = this.ready;
    this.ready = undefined;
    if (!r) return;
    clearTimeout(r.renew);
    r.child.kill('SIGKILL');
    reportsOf(r.child).destroy();
  }
}

/**
 * bin/berth.cjs loads some of Node's modules at their first use (net, child_process,
 * fs/promises), and a monitor first uses them once its container is waiting for it: the
 * attach socket, runc's pipes, the CNI plugins of its teardown. A standby loads them while
 * it waits: reading a property of each is what loads it.
 */
function loadLazyBuiltins(): void {
  for (const f of [createServer, spawn, readFile]) if (typeof f !== 'function') throw new Error('a Node module failed to load');
}

/** Reads fd `fd` until a newline; undefined at EOF (the server is gone) or past ORDER_MAX_BYTES. */
function readOrderLine(fd: number): Promise<string | undefined> {
  const buf = Buffer.alloc(ORDER_MAX_BYTES + 1);
  let len = 0;
  return new Promise((resolve) => {
    const next = (): void =>
      read(fd, buf, len, buf.length - len, null, (err, n) => {
        if (err) {
          // A non-blocking pipe with nothing in it yet: look again shortly.
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return void setTimeout(next, 5);
          return resolve(undefined);
        }
        if (n === 0) return resolve(undefined);
        len += n;
        const nl = buf.subarray(0, len).indexOf(10);
        if (nl >= 0) return resolve(buf.subarray(0, nl).toString('utf8'));
        if (len > ORDER_MAX_BYTES) return resolve(undefined);
        next();
      });
    next();
  });
}

/** The order in `line`, or why it is refused. */
export function parseOrder(line: string, containers: Pick<ContainerRecords, 'get'>): MonitorOrder | { refused: string } {
  let order: unknown;
  try {
    order = JSON.parse(line);
  } catch {
    return { refused: 'a monitor order must be JSON' };
  }
  const o = order as { id?: unknown; hold?: unknown };
  if (typeof o !== 'object' || o === null || typeof o.id !== 'string' || !CONTAINER_ID.test(o.id))
    return { refused: 'a monitor order must name a full container id' };
  if (o.hold !== undefined && typeof o.hold !== 'boolean') return { refused: 'a monitor order has a bad hold' };
  if (!containers.get(o.id)) return { refused: `no such container: ${o.id}` };
  return { id: o.id, hold: o.hold === true };
}

/**
 * The standby's side: waits on fd 3 for its order and returns it. It exits (status 0) when
 * the pipe closes first or STANDBY_IDLE_MS pass, and refuses a bad order on the same pipe, as
 * a start report with an error, before exiting (status 2).
 */
export async function awaitMonitorOrder(containers: Pick<ContainerRecords, 'get'>): Promise<MonitorOrder> {
  loadLazyBuiltins();
  const idle = setTimeout(() => process.exit(0), STANDBY_IDLE_MS);
  const line = await readOrderLine(3);
  clearTimeout(idle);
  if (line === undefined) process.exit(0);
  const order = parseOrder(line, containers);
  if ('refused' in order) {
    try {
      writeSync(3, `${JSON.stringify({ error: order.refused })}\n`);
    } catch {
      // Nobody to tell.
    }
    process.exit(2);
  }
  return order;
}
