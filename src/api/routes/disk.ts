/** `GET /system/df`: what the images, containers, volumes and build cache hold, as docker's `system df` reads it. */
import { diskUsageDetail } from '../../services/disk-usage.ts';
import type { ApiDeps } from '../deps.ts';
import { sendJson } from '../http.ts';
import { type Route, route } from '../router.ts';

export function diskRoutes(deps: ApiDeps): Route[] {
  return [route('GET', '/system/df', async (ctx) => sendJson(ctx, 200, await diskUsageDetail(deps.engine)))];
}
