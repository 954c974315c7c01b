/** Every route of the API, in match order: each group's fixed paths come before its greedy ones. */
import type { ApiDeps } from '../deps.ts';
import type { Route } from '../router.ts';
import { buildRoutes } from './build.ts';
import { containerIoRoutes } from './container-io.ts';
import { containerRoutes } from './containers.ts';
import { containerUpdateRoutes } from './container-update.ts';
import { diskRoutes } from './disk.ts';
import { eventRoutes } from './events.ts';
import { execRoutes } from './exec.ts';
import { imageRoutes } from './images.ts';
import { networkRoutes } from './networks.ts';
import { systemRoutes } from './system.ts';
import { volumeRoutes } from './volumes.ts';

export function allRoutes(deps: ApiDeps): Route[] {
  return [
    ...systemRoutes(deps),
    ...eventRoutes(deps),
    ...containerRoutes(deps),
    ...containerUpdateRoutes(deps),
    ...containerIoRoutes(deps),
    ...execRoutes(deps),
    ...buildRoutes(deps),
    ...imageRoutes(deps),
    ...volumeRoutes(deps),
    ...networkRoutes(deps),
    ...diskRoutes(deps),
  ];
}
