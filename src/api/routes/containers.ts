/**
 * The container endpoints but the streams (container-io.ts has start, attach, wait, resize,
 * logs and archive): create, list, inspect, remove, stop, kill, restart, rename, pause,
 * prune, top, stats, changes and export, each on the use case the CLI calls.
 */
import { constants } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../../errors/index.ts';
import { containerChanges, containerSize, exportContainer } from '../../services/container-fs.ts';
import {
  containerInspectView,
  listContainersFiltered,
  pauseContainer,
  refreshedContainer,
  renameContainer,
  restartContainer,
  thawForSignal,
  unpauseContainer,
} from '../../services/container-ops.ts';
import { containerStats, containerTop, type StatsSample } from '../../services/container-stats.ts';
import { createContainer, killContainer, pruneContainersReclaiming, removeContainer, stopContainer, waitContainer } from '../../services/containers.ts';
import { containerPruneMatcher } from '../../services/filters/index.ts';
import { containerRow } from '../container-json.ts';
import { queryFilters } from '../filters.ts';
import { mapCreateBody } from '../create-body.ts';
import type { ApiDeps } from '../deps.ts';
import { type ApiContext, readJson, sendEmpty, sendJson } from '../http.ts';
import { type Route, route } from '../router.ts';

/** A signal as docker takes it: a name with or without SIG, or a number; an unknown one is a 400. */
function signalParam(ctx: ApiContext, fallback: string | undefined): string | undefined {
  const raw = ctx.query.get('signal');
  if (raw === undefined || raw === '') return fallback;
  if (/^\d+$/.test(raw) && Number(raw) >= 1 && Number(raw) <= 64) return raw;
  const name = raw.toUpperCase().replace(/^SIG/, '');
  if (`SIG${name}` in constants.signals) return `SIG${name}`;
  throw new BerthError('INVALID_ARGUMENT', `Invalid signal: ${raw}`);
}

function param(ctx: ApiContext, name: string): string {
  return ctx.params[name]!;
}

async function create(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const body = await readJson<unknown>(ctx);
  const { options, warnings } = mapCreateBody(body, { name: ctx.query.get('name'), platform: ctx.query.get('platform') });
  const rec = await createContainer(deps.engine, options, { warn: (line) => warnings.push(line.replace(/^WARNING: /, '')) });
  sendJson(ctx, 201, { Id: rec.id, Warnings: warnings });
}

async function list(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const recs = await listContainersFiltered(deps.engine, { all: ctx.query.bool('all'), limit: ctx.query.int('limit'), filters: queryFilters(ctx) });
  const size = ctx.query.bool('size');
  const rows = [];
  for (const r of recs) {
    const row = containerRow(r, containerInspectView(deps.engine, r));
    rows.push(size ? { ...row, ...(await containerSize(deps.engine, r)) } : row);
  }
  sendJson(ctx, 200, rows);
}

async function inspect(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const rec = await refreshedContainer(deps.engine, param(ctx, 'id'));
  const view = containerInspectView(deps.engine, rec);
  if (ctx.query.bool('size')) Object.assign(view, await containerSize(deps.engine, rec));
  sendJson(ctx, 200, view);
}

async function remove(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const id = param(ctx, 'id');
  const force = ctx.query.bool('force');
  if (force) await thawForSignal(deps.engine, id);
  await removeContainer(deps.engine, id, { force, volumes: ctx.query.bool('v') });
  sendEmpty(ctx, 204);
}

async function stop(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const rec = await refreshedContainer(deps.engine, param(ctx, 'id'));
  // docker's answer to stopping a stopped container: 304, which the CLI takes as done.
  if (rec.state.status !== 'running' && rec.state.status !== 'restarting') return sendEmpty(ctx, 304);
  await thawForSignal(deps.engine, rec.id);
  await stopContainer(deps.engine, rec.id, { timeout: ctx.query.int('t'), signal: signalParam(ctx, undefined) });
  sendEmpty(ctx, 204);
}

async function kill(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const id = param(ctx, 'id');
  const signal = signalParam(ctx, 'SIGKILL')!;
  await thawForSignal(deps.engine, id);
  const rec = await killContainer(deps.engine, id, signal);
  // As dockerd: a SIGKILL answers once the exit is recorded, so a listing after it agrees.
  if (signal === 'SIGKILL' || signal === '9') await waitContainer(deps.engine, rec.id, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
  sendEmpty(ctx, 204);
}

async function restart(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  await restartContainer(deps.engine, param(ctx, 'id'), { timeout: ctx.query.int('t') });
  sendEmpty(ctx, 204);
}

function rename(deps: ApiDeps, ctx: ApiContext): void {
  const name = ctx.query.get('name');
  if (!name) throw new BerthError('INVALID_ARGUMENT', 'Neither old nor new names may be empty');
  renameContainer(deps.engine, param(ctx, 'id'), name);
  sendEmpty(ctx, 204);
}

async function prune(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const { removed, reclaimedBytes } = await pruneContainersReclaiming(deps.engine, containerPruneMatcher(queryFilters(ctx)));
  sendJson(ctx, 200, { ContainersDeleted: removed.length ? removed : null, SpaceReclaimed: reclaimedBytes });
}

async function top(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const rec = await refreshedContainer(deps.engine, param(ctx, 'id'));
  sendJson(ctx, 200, await containerTop(rec, ctx.query.get('ps_args') ?? '-ef'));
}

/** Waits `ms`, or less when the client goes away. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/**
 * docker stats: one JSON object a second while the client reads (`stream`, the default), or
 * one object (`stream=0`) whose pre-fields hold a sample taken a second before, so that the
 * CPU share can be computed (`one-shot=1` skips that second).
 */
async function stats(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const id = param(ctx, 'id');
  let rec = await refreshedContainer(deps.engine, id);
  const res = ctx.res!;
  if (!ctx.query.bool('stream', true)) {
    let previous: StatsSample | undefined;
    if (!ctx.query.bool('one-shot') && rec.state.status === 'running') {
      previous = containerStats(rec).sample;
      await pause(1000, ctx.signal);
      rec = await refreshedContainer(deps.engine, rec.id);
    }
    sendJson(ctx, 200, containerStats(rec, previous).json);
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json' });
  let previous: StatsSample | undefined;
  while (!ctx.signal.aborted && !res.destroyed) {
    const current = deps.engine.containers.get(rec.id);
    if (!current) break;
    const { json, sample } = containerStats(current, previous);
    previous = sample;
    res.write(`${JSON.stringify(json)}\n`);
    await pause(1000, ctx.signal);
  }
  res.end();
}

async function changes(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const rec = await refreshedContainer(deps.engine, param(ctx, 'id'));
  const list = await containerChanges(deps.engine, rec);
  sendJson(ctx, 200, list.length ? list : null);
}

async function exportTar(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const rec = await refreshedContainer(deps.engine, param(ctx, 'id'));
  const res = ctx.res!;
  await exportContainer(deps.engine, rec, async (tar) => {
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    // A client that goes away ends the export; the container is thawed and unmounted after.
    await pipeline(tar, res).catch(() => res.destroy());
  });
}

async function pauseRoute(deps: ApiDeps, ctx: ApiContext, freeze: boolean): Promise<void> {
  await (freeze ? pauseContainer : unpauseContainer)(deps.engine, param(ctx, 'id'));
  sendEmpty(ctx, 204);
}

export function containerRoutes(deps: ApiDeps): Route[] {
  return [
    route('POST', '/containers/create', (ctx) => create(deps, ctx)),
    route('GET', '/containers/json', (ctx) => list(deps, ctx)),
    route('POST', '/containers/prune', (ctx) => prune(deps, ctx)),
    route('GET', '/containers/:id/json', (ctx) => inspect(deps, ctx)),
    route('DELETE', '/containers/:id', (ctx) => remove(deps, ctx)),
    route('POST', '/containers/:id/stop', (ctx) => stop(deps, ctx)),
    route('POST', '/containers/:id/kill', (ctx) => kill(deps, ctx)),
    route('POST', '/containers/:id/restart', (ctx) => restart(deps, ctx)),
    route('POST', '/containers/:id/rename', (ctx) => rename(deps, ctx)),
    route('POST', '/containers/:id/pause', (ctx) => pauseRoute(deps, ctx, true)),
    route('POST', '/containers/:id/unpause', (ctx) => pauseRoute(deps, ctx, false)),
    route('GET', '/containers/:id/top', (ctx) => top(deps, ctx)),
    route('GET', '/containers/:id/stats', (ctx) => stats(deps, ctx)),
    route('GET', '/containers/:id/changes', (ctx) => changes(deps, ctx)),
    route('GET', '/containers/:id/export', (ctx) => exportTar(deps, ctx)),
  ];
}
