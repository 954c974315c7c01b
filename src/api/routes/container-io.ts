/**
 * A container's streams: start, attach (hijacked or plain), wait, resize, logs and the
 * archive endpoints of `docker cp`. Start goes through the monitor (services/start.ts), so a
 * container outlives this server; the attach hub (../attach-hub.ts) is this server's one
 * connection to each monitor, which attach, wait and resize share.
 */
import { BerthError } from '../../errors/index.ts';
import { attachTarget, currentRecord } from '../../services/container-io.ts';
import { startDetached } from '../../services/start.ts';
import { AttachHub } from '../attach-hub.ts';
import { archiveRoutes } from '../container-archive.ts';
import { attachStream } from '../container-attach.ts';
import { streamLogs } from '../container-logs.ts';
import { waitForCondition, WAIT_CONDITIONS, type WaitCondition } from '../container-wait.ts';
import type { ApiDeps } from '../deps.ts';
import { type ApiContext, sendEmpty } from '../http.ts';
import { type Route, route } from '../router.ts';
import { HttpError } from '../status.ts';

/** docker's words for a command that cannot be run, which the CLI reads for its 126 and 127. */
const DOCKER_START_FAILURE = 'failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ';

/** A failed start as docker answers it: 400, with the runtime's words the CLI maps to exit codes. */
function startError(e: unknown): unknown {
  if (!(e instanceof BerthError)) return e;
  if (e.code === 'CMD_NOT_FOUND' || e.code === 'CMD_NOT_EXECUTABLE') {
    const exec = e.message.indexOf('exec: ');
    return new HttpError(400, exec >= 0 ? DOCKER_START_FAILURE + e.message.slice(exec) : e.message);
  }
  if (e.code === 'RUNTIME') return new HttpError(400, e.message);
  return e;
}

/** Starts under way, by container: a second start of the same container waits for the first and is a no-op (304). */
type Starting = Map<string, Promise<void>>;

async function start(deps: ApiDeps, hub: AttachHub, starting: Starting, ctx: ApiContext): Promise<void> {
  const engine = deps.engine;
  const rec = engine.containers.require(ctx.params.id!);
  const under = starting.get(rec.id);
  if (under) {
    await under.catch(() => undefined);
    return sendEmpty(ctx, 304);
  }
  const status = (await currentRecord(engine, rec.id))?.state.status;
  if (status === 'running' || status === 'restarting') return sendEmpty(ctx, 304);
  // Held until the hub is connected: clients attached before the start see the first byte.
  const run = startDetached(engine, rec.id, { beforeRun: (socket) => hub.connect(rec.id, socket, { go: true }), monitors: deps.monitors });
  starting.set(rec.id, run);
  try {
    await run;
  } catch (e) {
    hub.abandon(rec.id);
    throw startError(e);
  } finally {
    starting.delete(rec.id);
  }
  sendEmpty(ctx, 204);
}

async function wait(deps: ApiDeps, hub: AttachHub, ctx: ApiContext): Promise<void> {
  const condition = (ctx.query.get('condition') || 'not-running') as WaitCondition;
  if (!WAIT_CONDITIONS.includes(condition)) throw new BerthError('INVALID_ARGUMENT', `invalid condition: "${condition}"`);
  const rec = deps.engine.containers.require(ctx.params.id!);
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  // The CLI waits for these headers before it starts the container.
  res.flushHeaders();
  let body: { Error: { Message: string } | null; StatusCode: number };
  try {
    body = { Error: null, StatusCode: await waitForCondition(deps.engine, hub, rec, condition, ctx.signal) };
  } catch (e) {
    body = { Error: { Message: e instanceof Error ? e.message : String(e) }, StatusCode: -1 };
  }
  if (!res.destroyed) res.end(`${JSON.stringify(body)}\n`);
}

async function resize(deps: ApiDeps, hub: AttachHub, ctx: ApiContext): Promise<void> {
  const engine = deps.engine;
  const rec = engine.containers.require(ctx.params.id!);
  const rows = ctx.query.int('h', 0)!;
  const cols = ctx.query.int('w', 0)!;
  if (rows < 0 || cols < 0 || rows > 0xffff || cols > 0xffff) throw new BerthError('INVALID_ARGUMENT', `invalid terminal size ${cols}x${rows}`);
  const cur = await currentRecord(engine, rec.id);
  if (cur?.state.status !== 'running') throw new BerthError('CONFLICT', `Container ${rec.id} is not running`);
  if (cur.config.tty) {
    const { socket } = attachTarget(engine, rec.id);
    if (socket) await hub.resize(rec.id, socket, cols, rows).catch(() => undefined);
  }
  sendEmpty(ctx, 200);
}

export function containerIoRoutes(deps: ApiDeps): Route[] {
  const hub = new AttachHub();
  const starting: Starting = new Map();
  return [
    route('POST', '/containers/:id/start', (ctx) => start(deps, hub, starting, ctx)),
    route('POST', '/containers/:id/attach', (ctx) => attachStream(deps.engine, hub, ctx)),
    route('POST', '/containers/:id/wait', (ctx) => wait(deps, hub, ctx)),
    route('POST', '/containers/:id/resize', (ctx) => resize(deps, hub, ctx)),
    route('GET', '/containers/:id/logs', (ctx) => streamLogs(deps.engine, ctx)),
    ...archiveRoutes(deps),
  ];
}
