/**
 * `/networks`: list (with the predefined bridge, host and none), inspect, create, remove,
 * prune, connect and disconnect, on services/networks.ts and services/network-connect.ts.
 * docker answers what may not be done to a predefined network, or to one with active
 * endpoints, with 403.
 */
import { BerthError, isBerthError } from '../../errors/index.ts';
import { connectNetwork, disconnectNetwork } from '../../services/network-connect.ts';
import { createNetwork, filterNetworks, findNetwork, listNetworks, networkView, pruneNetworks, removeNetwork } from '../../services/networks.ts';
import type { ApiDeps } from '../deps.ts';
import { queryFilters } from '../filters.ts';
import { type ApiContext, readJson, sendEmpty, sendJson } from '../http.ts';
import { type Route, route } from '../router.ts';
import { HttpError } from '../status.ts';
import { stringMap } from './volumes.ts';

interface CreateBody {
  Name?: unknown;
  Driver?: unknown;
  Labels?: unknown;
  IPAM?: { Driver?: unknown; Config?: unknown } | null;
  Internal?: unknown;
  EnableIPv6?: unknown;
  CheckDuplicate?: unknown;
  Attachable?: unknown;
  Options?: unknown;
}

function objectBody<T>(body: T): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BerthError('INVALID_ARGUMENT', 'invalid JSON: an object is expected');
  return body;
}

/** The subnet and gateway of the IPAM config: berth's networks have one IPv4 pool. */
function ipamPool(ipam: CreateBody['IPAM']): { subnet?: string; gateway?: string } {
  if (ipam === undefined || ipam === null) return {};
  if (typeof ipam !== 'object') throw new BerthError('INVALID_ARGUMENT', 'invalid IPAM: an object is expected');
  if (ipam.Driver !== undefined && ipam.Driver !== null && ipam.Driver !== '' && ipam.Driver !== 'default') {
    throw new BerthError('NOT_FOUND', `plugin "${String(ipam.Driver)}" not found`);
  }
  const configs = ipam.Config ?? [];
  if (!Array.isArray(configs)) throw new BerthError('INVALID_ARGUMENT', 'invalid IPAM.Config: a list is expected');
  if (configs.length > 1) throw new BerthError('UNSUPPORTED', 'a berth network has one IPv4 pool: give at most one IPAM.Config');
  const c = (configs[0] ?? {}) as { Subnet?: unknown; Gateway?: unknown; IPRange?: unknown };
  if (c.IPRange) throw new BerthError('UNSUPPORTED', 'IPAM.Config.IPRange is not supported by berth');
  const str = (v: unknown, what: string) => {
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw new BerthError('INVALID_ARGUMENT', `invalid ${what}: a string is expected`);
    return v;
  };
  return { subnet: str(c.Subnet, 'IPAM.Config.Subnet'), gateway: str(c.Gateway, 'IPAM.Config.Gateway') };
}

async function create(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const body = objectBody(await readJson<CreateBody>(ctx));
  if (typeof body.Name !== 'string' || !body.Name) throw new BerthError('INVALID_ARGUMENT', 'network name must not be empty');
  // docker-py (docker-compose) sends null for what it leaves to the engine: Driver, Options, IPAM.
  if (body.Driver !== undefined && body.Driver !== null && typeof body.Driver !== 'string')
    throw new BerthError('INVALID_ARGUMENT', 'invalid Driver: a string is expected');
  if (body.Internal === true) throw new BerthError('UNSUPPORTED', 'internal networks are not supported by berth');
  if (body.EnableIPv6 === true) throw new BerthError('UNSUPPORTED', 'IPv6 networks are not supported by berth');
  if (Object.keys(stringMap(body.Options, 'Options')).length)
    throw new BerthError('UNSUPPORTED', 'network driver options (Options) are not supported by berth');
  const driver = (body.Driver as string | undefined) || 'bridge';
  if (driver !== 'bridge') throw new BerthError('NOT_FOUND', `plugin "${driver}" not found`);
  try {
    const rec = await createNetwork(deps.engine, body.Name, { driver, labels: stringMap(body.Labels, 'Labels'), ...ipamPool(body.IPAM) });
    sendJson(ctx, 201, { Id: rec.id, Warning: '' });
  } catch (e) {
    // docker: an operation on a predefined network's name is forbidden.
    if (isBerthError(e, 'FAILED_PRECONDITION')) throw new HttpError(403, e.message);
    throw e;
  }
}

async function remove(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const row = findNetwork(deps.engine, ctx.params.id!);
  try {
    await removeNetwork(deps.engine, row.rec ? row.rec.id : row.Name);
  } catch (e) {
    if (isBerthError(e, 'FAILED_PRECONDITION') || isBerthError(e, 'CONFLICT')) throw new HttpError(403, e.message);
    throw e;
  }
  sendEmpty(ctx, 204);
}

async function prune(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const removed = await pruneNetworks(deps.engine, { filters: queryFilters(ctx) });
  sendJson(ctx, 200, { NetworksDeleted: removed });
}

interface ConnectBody {
  Container?: unknown;
  EndpointConfig?: { Aliases?: unknown } | null;
  Force?: unknown;
}

async function connect(deps: ApiDeps, ctx: ApiContext, disconnect: boolean): Promise<void> {
  const body = objectBody(await readJson<ConnectBody>(ctx));
  if (typeof body.Container !== 'string' || !body.Container) throw new BerthError('INVALID_ARGUMENT', 'no container given: the body needs "Container"');
  try {
    if (disconnect) disconnectNetwork(deps.engine, ctx.params.id!, body.Container, { force: body.Force === true });
    else {
      const aliases = body.EndpointConfig?.Aliases ?? [];
      if (!Array.isArray(aliases) || aliases.some((a) => typeof a !== 'string'))
        throw new BerthError('INVALID_ARGUMENT', 'invalid EndpointConfig.Aliases: a list of strings is expected');
      connectNetwork(deps.engine, ctx.params.id!, body.Container, { aliases: aliases as string[] });
    }
  } catch (e) {
    if (isBerthError(e, 'FAILED_PRECONDITION')) throw new HttpError(403, e.message);
    throw e;
  }
  sendEmpty(ctx, 200);
}

export function networkRoutes(deps: ApiDeps): Route[] {
  const engine = deps.engine;
  return [
    route('GET', '/networks', (ctx) => {
      const rows = filterNetworks(engine, listNetworks(engine), queryFilters(ctx));
      sendJson(
        ctx,
        200,
        rows.map((r) => networkView(engine, r, { containers: false })),
      );
    }),
    route('POST', '/networks/create', (ctx) => create(deps, ctx)),
    route('POST', '/networks/prune', (ctx) => prune(deps, ctx)),
    route('GET', '/networks/:id', (ctx) => sendJson(ctx, 200, networkView(engine, findNetwork(engine, ctx.params.id!)))),
    route('DELETE', '/networks/:id', (ctx) => remove(deps, ctx)),
    route('POST', '/networks/:id/connect', (ctx) => connect(deps, ctx, false)),
    route('POST', '/networks/:id/disconnect', (ctx) => connect(deps, ctx, true)),
  ];
}
