/**
 * `GET /events`: the state root's event log, which every berth process records into, as
 * docker streams it: 200 and `application/json` at once, then one event object per line,
 * each flushed. Without `until` it follows new events until the client goes; with `until`
 * it ends there.
 */
import { checkEventQuery, eventJson, followEvents, parseEventFilters, parseEventTime } from '../../services/events.ts';
import type { ApiDeps } from '../deps.ts';
import { queryFilters } from '../filters.ts';
import type { ApiContext } from '../http.ts';
import { type Route, route } from '../router.ts';

async function events(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const since = ctx.query.get('since');
  const until = ctx.query.get('until');
  const q = {
    since: since ? parseEventTime(since) : undefined,
    until: until ? parseEventTime(until) : undefined,
    filters: parseEventFilters(Object.fromEntries(queryFilters(ctx))),
    signal: ctx.signal,
  };
  checkEventQuery(q);
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  for await (const ev of followEvents(deps.engine.events, q)) {
    if (res.destroyed) break;
    res.write(`${eventJson(ev)}\n`);
  }
  res.end();
}

export function eventRoutes(deps: ApiDeps): Route[] {
  return [route('GET', '/events', (ctx) => events(deps, ctx))];
}
