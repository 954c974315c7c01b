/**
 * `GET /system/df`: what the images, containers, volumes and build cache hold, as docker's
 * `system df` reads it; `POST /build/prune`: `builder prune` (`all`, `keep-storage`, `filters`).
 */
import { pruneBuildCache } from '../../services/build-cache.ts';
import { diskUsageDetail } from '../../services/disk-usage.ts';
import type { ApiDeps } from '../deps.ts';
import { queryFilters } from '../filters.ts';
import { sendJson } from '../http.ts';
import { type Route, route } from '../router.ts';

export function diskRoutes(deps: ApiDeps): Route[] {
  return [
    route('GET', '/system/df', async (ctx) => sendJson(ctx, 200, await diskUsageDetail(deps.engine))),
    route('POST', '/build/prune', async (ctx) => {
      const keep = ctx.query.int('keep-storage');
      const r = await pruneBuildCache(deps.engine, { all: ctx.query.bool('all'), filters: queryFilters(ctx), keepStorage: keep ? keep : undefined });
      sendJson(ctx, 200, { CachesDeleted: r.deleted.length ? r.deleted : null, SpaceReclaimed: r.reclaimedBytes });
    }),
  ];
}
