/**
 * `/volumes`: list, inspect, create, remove and prune, on services/volumes.ts. Docker's
 * words for the errors the CLI prints: `get NAME: no such volume` (404) and
 * `remove NAME: volume is in use - [ID]` (409).
 */
import { BerthError } from '../../errors/index.ts';
import { createVolume, filterVolumes, listVolumes, pruneVolumes, removeVolume, volumeView } from '../../services/volumes.ts';
import type { ApiDeps } from '../deps.ts';
import { queryFilters } from '../filters.ts';
import { type ApiContext, readJson, sendEmpty, sendJson } from '../http.ts';
import { type Route, route, versionAtLeast } from '../router.ts';

interface CreateBody {
  Name?: unknown;
  Driver?: unknown;
  Labels?: unknown;
  DriverOpts?: unknown;
}

/** A JSON member that must be an object of strings (labels, options), or absent/null. */
export function stringMap(value: unknown, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new BerthError('INVALID_ARGUMENT', `invalid ${what}: an object of strings is expected`);
  }
  return value as Record<string, string>;
}

async function create(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const body = await readJson<CreateBody>(ctx);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BerthError('INVALID_ARGUMENT', 'invalid JSON: an object is expected');
  if (body.Name !== undefined && body.Name !== null && typeof body.Name !== 'string')
    throw new BerthError('INVALID_ARGUMENT', 'invalid Name: a string is expected');
  const driver = body.Driver ?? 'local';
  if (driver !== 'local' && driver !== '') {
    throw new BerthError('NOT_FOUND', `error looking up volume plugin ${String(driver)}: plugin "${String(driver)}" not found`);
  }
  if (Object.keys(stringMap(body.DriverOpts, 'DriverOpts')).length) {
    throw new BerthError('UNSUPPORTED', 'the local volume driver of berth takes no options (DriverOpts)');
  }
  const v = await createVolume(deps.engine, (body.Name as string | undefined) || undefined, { labels: stringMap(body.Labels, 'Labels') });
  sendJson(ctx, 201, volumeView(v));
}

async function prune(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  // Before API 1.42 a prune took every unused volume; from then on only anonymous ones unless all=true.
  const r = await pruneVolumes(deps.engine, { all: !versionAtLeast(ctx.version, '1.42'), filters: queryFilters(ctx) });
  sendJson(ctx, 200, { VolumesDeleted: r.removed, SpaceReclaimed: r.bytes });
}

export function volumeRoutes(deps: ApiDeps): Route[] {
  const engine = deps.engine;
  return [
    route('GET', '/volumes', (ctx) => {
      const vols = filterVolumes(engine, listVolumes(engine), queryFilters(ctx));
      sendJson(ctx, 200, { Volumes: vols.map(volumeView), Warnings: null });
    }),
    route('POST', '/volumes/create', (ctx) => create(deps, ctx)),
    route('POST', '/volumes/prune', (ctx) => prune(deps, ctx)),
    route('GET', '/volumes/:name', (ctx) => sendJson(ctx, 200, volumeView(engine.volumes.require(ctx.params.name!)))),
    route('DELETE', '/volumes/:name', async (ctx) => {
      await removeVolume(engine, ctx.params.name!, { force: ctx.query.bool('force') });
      sendEmpty(ctx, 204);
    }),
  ];
}
